import { and, inArray, sql, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { issuances, type OperationStatus } from "../db/schema.ts";
import { knownWithoutEndpoints, recordStateChanges } from "../webhooks/events.ts";
import type { OperationContext, Pipeline } from "./context.ts";
import { isPublished, OPERATION_KINDS, type ColumnsOf, type OperationKind, type OperationKindEntry, type OperationTable, type StatusOf } from "./kinds.ts";

export type { OperationKind } from "./kinds.ts";

/** A moved row as told: its institution, and for issuances its bulk. */
interface Moved {
  id: string;
  institutionId: string;
  bulkId: string | null;
  [column: string]: unknown;
}

/**
 * Moves operations of one kind from one of `from` to `to`, and only those still in `from`: two workers racing on
 * the same row cannot both make the move. `set` writes columns of the kind's own with the move (a CID, a
 * transaction, an error; an edition's contract). `told` is what the change makes known besides those columns (a
 * batch's transaction hash). Logs one line per operation moved; for a published kind, records its webhook events
 * in the same transaction and tells live status through `ctx` (after the commit). Returns the ids this call moved.
 */
export async function transitionMany<K extends OperationKind>(
  ctx: OperationContext,
  kind: K,
  ids: readonly string[],
  from: readonly StatusOf<K>[],
  to: StatusOf<K>,
  set: ColumnsOf<K> = {},
  told: Record<string, unknown> = {},
): Promise<string[]> {
  if (!ids.length) return [];
  const entry: OperationKindEntry = OPERATION_KINDS[kind];
  // One statement for every kind: drizzle cannot type an update over a union of tables, so it sees one of them.
  const table = entry.table as OperationTable as typeof issuances;
  const returning: Record<string, PgColumn | SQL> = {
    id: table.id,
    institutionId: table.institutionId,
    bulkId: entry.bulkColumn ?? sql<null>`null`,
  };
  for (const column of entry.toldFromRow ?? []) returning[column] = (table as unknown as Record<string, PgColumn>)[column]!;
  const at = new Date();
  const rows = (await ctx.db
    .update(table)
    .set({ ...(set as object), status: to as never, updatedAt: at })
    .where(and(inArray(table.id, [...ids]), inArray(table.status, [...from] as never[])))
    .returning(returning)) as Moved[];
  await announce(ctx, kind, entry, rows, from, to, { ...(set as Record<string, unknown>), ...told }, at);
  return rows.map((r) => r.id);
}

/** `transitionMany` for one operation; returns whether this call made the move. */
export async function transition<K extends OperationKind>(
  ctx: OperationContext,
  kind: K,
  id: string,
  from: readonly StatusOf<K>[],
  to: StatusOf<K>,
  set: ColumnsOf<K> = {},
  told: Record<string, unknown> = {},
): Promise<boolean> {
  return (await transitionMany(ctx, kind, [id], from, to, set, told)).length > 0;
}

/**
 * Tells of operations that entered `to`: their webhook events, recorded in the transaction that moved them; live
 * status (GraphQL subscriptions), through the context once that transaction has committed; and a log line each.
 */
async function announce(
  ctx: OperationContext,
  kind: OperationKind,
  entry: OperationKindEntry,
  moved: Moved[],
  from: readonly string[],
  to: string,
  extra: Record<string, unknown>,
  at: Date,
): Promise<void> {
  if (!moved.length) return;
  const fromRow = entry.toldFromRow ?? [];
  const rows = moved.map((r) => ({ id: r.id, institutionId: r.institutionId, bulkId: r.bulkId }));
  const ofRow = (id: string) => {
    const row = moved.find((r) => r.id === id)!;
    return Object.fromEntries(fromRow.map((c) => [c, row[c]]));
  };
  // Live status keeps explicit nulls, which tell a subscriber that a field was cleared (an error on CONFIRMED);
  // webhooks and the log leave them out. The transaction row and internal columns are never published.
  const hidden = new Set(["chainTxId", ...(entry.internalColumns ?? [])]);
  const live = Object.fromEntries(Object.entries(extra).filter(([k]) => !hidden.has(k)));
  const context = Object.fromEntries(Object.entries(extra).filter(([, v]) => v != null));
  const published = Object.fromEntries(Object.entries(live).filter(([, v]) => v != null));
  if (isPublished(kind)) {
    await recordStateChanges(ctx.db, kind, rows, to as OperationStatus, fromRow.length ? (id) => ({ ...published, ...ofRow(id) }) : published);
    ctx.notice({ kind, status: to as OperationStatus, at, rows, details: fromRow.length ? (id) => ({ ...live, ...ofRow(id) }) : live });
  }
  for (const { id } of moved) {
    ctx.logger.info({ [`${kind}Id`]: id, from: from.length === 1 ? from[0] : from, to, ...context, ...ofRow(id) }, `${entry.label} ${to}`);
  }
}

/** An issuance pinned: its CID and digest; its institution when known (see `markPinned`). */
export interface Pinned {
  id: string;
  metadataCid: string;
  digest: string;
  institutionId?: string;
}

/**
 * QUEUED → PINNED for many issuances at once, each with its own CID and digest: one UPDATE … FROM (VALUES …) and
 * one insert of webhook events, in one transaction of the pipeline. When every item names its institution and none
 * of them has a webhook endpoint (as `recordStateChanges` would find), there are no events to insert and the
 * UPDATE alone is the change: it runs as one statement, without a transaction around it (on the embedded
 * database's one connection, a BEGIN and a COMMIT are two more waits for every stage). As `transitionMany`,
 * moves only rows still QUEUED and returns the ids it moved.
 */
export async function markPinned(pipeline: Pipeline, pinned: readonly Pinned[]): Promise<string[]> {
  if (!pinned.length) return [];
  const values = sql.join(
    pinned.map((p) => sql`(${p.id}::uuid, ${p.metadataCid}::text, ${p.digest}::text)`),
    sql`, `,
  );
  const now = new Date().toISOString();
  const byId = new Map(pinned.map((p) => [p.id, p]));
  const move = async (ctx: OperationContext, record: boolean) => {
    // Both drivers (PGlite, node-postgres) answer a raw statement with { rows }.
    const result = (await ctx.db.execute(sql`
      update ${issuances} set status = 'PINNED', metadata_cid = v.cid, digest = v.digest, updated_at = ${now}::timestamptz
      from (values ${values}) as v(id, cid, digest)
      where ${issuances.id} = v.id and ${issuances.status} = 'QUEUED'
      returning ${issuances.id} as id, ${issuances.institutionId} as institution_id, ${issuances.bulkId} as bulk_id`)) as unknown as {
      rows: { id: string; institution_id: string; bulk_id: string | null }[];
    };
    const rows = result.rows.map((r) => ({ id: r.id, institutionId: r.institution_id, bulkId: r.bulk_id }));
    const details = (id: string) => ({ metadataCid: byId.get(id)!.metadataCid, digest: byId.get(id)!.digest });
    if (record) await recordStateChanges(ctx.db, "issuance", rows, "PINNED", details);
    ctx.notice({ kind: "issuance", status: "PINNED", at: new Date(now), rows, details });
    for (const { id } of rows) {
      const { metadataCid, digest } = byId.get(id)!;
      ctx.logger.info({ issuanceId: id, from: "QUEUED", to: "PINNED", metadataCid, digest }, "issuance PINNED");
    }
    return rows.map((r) => r.id);
  };
  const institutions = pinned.map((p) => p.institutionId);
  // Decided once: an endpoint cached a moment later must not make a lone statement insert events outside a transaction.
  if (institutions.every((id) => id !== undefined) && knownWithoutEndpoints([...new Set(institutions as string[])])) return move(pipeline, false);
  return pipeline.transaction((ctx) => move(ctx, true));
}
