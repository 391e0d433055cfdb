import { count } from "drizzle-orm";
import type { Registry } from "prom-client";
import type { Database } from "../db/index.ts";
import { OPERATION_KINDS, OPERATION_KIND_NAMES, type OperationTable } from "../operations/kinds.ts";
import { collectedGauge, type Sample } from "./collected-gauge.ts";
import type { MetricSources } from "./sources.ts";

/**
 * `hallmark_operations{kind,state}`: one grouped count per kind of the operation-kinds registry, so a new kind is
 * counted without an edit here. Every state a kind can take is reported, 0 included, so a series never vanishes.
 */
export function registerOperationMetrics(registry: Registry, src: Pick<MetricSources, "db" | "logger" | "timeoutMs" | "health">): void {
  collectedGauge(registry, {
    name: "hallmark_operations",
    help: "Operations by kind (the operation-kinds registry) and state, as stored",
    labelNames: ["kind", "state"],
    source: "database",
    timeoutMs: src.timeoutMs,
    logger: src.logger,
    health: src.health,
    read: () => countOperations(src.db),
  });
}

export async function countOperations(db: Database): Promise<Sample<"kind" | "state">[]> {
  const perKind = await Promise.all(
    OPERATION_KIND_NAMES.map(async (kind) => {
      const entry = OPERATION_KINDS[kind];
      const table = entry.table as OperationTable;
      const rows = await db.select({ state: table.status, n: count() }).from(table).groupBy(table.status);
      const counts = new Map<string, number>(entry.statuses.map((s) => [s, 0]));
      for (const r of rows) counts.set(String(r.state), Number(r.n));
      return [...counts].map(([state, n]) => ({ labels: { kind, state }, value: n }));
    }),
  );
  return perKind.flat();
}
