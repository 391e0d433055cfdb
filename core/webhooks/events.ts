import { and, inArray, isNull } from "drizzle-orm";
import type { Database, DbTransaction } from "../db/index.ts";
import { webhookDeliveries, webhookEndpoints, type OperationStatus } from "../db/schema.ts";
import type { PublishedKind } from "../operations/kinds.ts";

type Endpoint = typeof webhookEndpoints.$inferSelect;

const CACHE_MS = 5_000;
const cache = new Map<string, { at: number; endpoints: Endpoint[] }>();

/** Endpoints are read at most every few seconds per institution: state changes are the hot path. */
async function endpointsOf(db: Database | DbTransaction, institutionIds: string[]): Promise<Endpoint[]> {
  const now = Date.now();
  const missing = institutionIds.filter((id) => (cache.get(id)?.at ?? 0) < now - CACHE_MS);
  if (missing.length) {
    const rows = await db
      .select()
      .from(webhookEndpoints)
      .where(and(inArray(webhookEndpoints.institutionId, missing), isNull(webhookEndpoints.disabledAt)));
    for (const id of missing) cache.set(id, { at: now, endpoints: rows.filter((r) => r.institutionId === id) });
  }
  return institutionIds.flatMap((id) => cache.get(id)?.endpoints ?? []);
}

/**
 * Whether a state change of these institutions would record no delivery, as `recordStateChanges` would find now:
 * each one's endpoints are cached and there are none. A change that records none needs no transaction of its own.
 */
export function knownWithoutEndpoints(institutionIds: readonly string[]): boolean {
  const now = Date.now();
  return institutionIds.every((id) => {
    const cached = cache.get(id);
    return cached !== undefined && cached.at >= now - CACHE_MS && cached.endpoints.length === 0;
  });
}

/** Forgets cached endpoints, so a webhook registered in this process hears the very next event. */
export function forgetEndpoints(institutionId: string): void {
  cache.delete(institutionId);
}

/**
 * Records one delivery per endpoint for each state change, in the transaction that made the change. The event
 * id is fixed by the operation and the state it entered, so an event is never recorded twice.
 */
export async function recordStateChanges(
  db: Database | DbTransaction,
  /** The kind as published: event types read `<kind>.<status>` (`issuance.confirmed`). */
  kind: PublishedKind,
  rows: { id: string; institutionId: string }[],
  status: OperationStatus,
  /** What the event says beyond id and status: the same for every row, or each row's own. */
  details: Record<string, unknown> | ((id: string) => Record<string, unknown>),
): Promise<void> {
  if (!rows.length) return;
  const endpoints = await endpointsOf(db, [...new Set(rows.map((r) => r.institutionId))]);
  if (!endpoints.length) return;
  const type = `${kind}.${status.toLowerCase()}`;
  const at = new Date().toISOString();
  const values = rows.flatMap((row) =>
    endpoints
      .filter((e) => e.institutionId === row.institutionId)
      .map((e) => {
        const eventId = `evt_${kind}_${row.id}_${status.toLowerCase()}`;
        return {
          endpointId: e.id,
          eventId,
          eventType: type,
          payload: { id: eventId, type, createdAt: at, data: { [kind]: { id: row.id, status, ...(typeof details === "function" ? details(row.id) : details) } } },
        };
      }),
  );
  if (values.length) await db.insert(webhookDeliveries).values(values).onConflictDoNothing();
}
