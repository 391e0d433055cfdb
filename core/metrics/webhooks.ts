import { count, inArray } from "drizzle-orm";
import type { Registry } from "prom-client";
import { webhookDeliveries } from "../db/schema.ts";
import { collectedGauge } from "./collected-gauge.ts";
import type { MetricSources } from "./sources.ts";

const REPORTED = ["PENDING", "FAILED"] as const;

/** Webhook deliveries still to be made and those given up on (delivered ones are history, not a signal). */
export function registerWebhookMetrics(registry: Registry, src: Pick<MetricSources, "db" | "logger" | "timeoutMs" | "health">): void {
  collectedGauge(registry, {
    name: "hallmark_webhook_deliveries",
    help: "Webhook deliveries pending (still to be attempted) or failed (given up), as stored",
    labelNames: ["status"],
    source: "database",
    timeoutMs: src.timeoutMs,
    logger: src.logger,
    health: src.health,
    read: async () => {
      const rows = await src.db
        .select({ status: webhookDeliveries.status, n: count() })
        .from(webhookDeliveries)
        .where(inArray(webhookDeliveries.status, [...REPORTED]))
        .groupBy(webhookDeliveries.status);
      const counts = new Map<string, number>(REPORTED.map((s) => [s, 0]));
      for (const r of rows) counts.set(r.status, Number(r.n));
      return [...counts].map(([status, n]) => ({ labels: { status }, value: n }));
    },
  });
}
