import { and, inArray, sql } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { certificateOperations, issuances, revocations, type IssuanceStatus } from "../db/schema.ts";
import type { Logger } from "../logger.ts";
import type { LiveOperationKind } from "../live/events.ts";
import { noteStateChange } from "../live/hook.ts";
import { recordStateChanges } from "../webhooks/events.ts";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
export type OperationKind = "issuance" | "revocation" | "certificateOperation";
type Extra = Partial<{ metadataCid: string; digest: string; chainTxId: string | null; txHash: string | null; error: string | null }>;

/**
 * Moves operations from one of `from` to `to`, and only those still in `from`: two workers racing on the same
 * row cannot both make the move. Logs one line per operation moved and records its webhook events in the same
 * transaction. Returns the ids this call moved.
 */
export async function transitionMany(
  db: Database | Tx,
  log: Logger,
  kind: OperationKind,
  ids: readonly string[],
  from: readonly IssuanceStatus[],
  to: IssuanceStatus,
  extra: Extra = {},
): Promise<string[]> {
  if (!ids.length) return [];
  const table = kind === "issuance" ? issuances : kind === "revocation" ? revocations : certificateOperations;
  const { metadataCid, digest, ...common } = extra;
  const set = kind === "revocation" ? common : { ...common, metadataCid, digest };
  const at = new Date();
  const rows = await db
    .update(table)
    .set({ ...set, status: to, updatedAt: at })
    .where(and(inArray(table.id, [...ids]), inArray(table.status, [...from])))
    .returning({ id: table.id, institutionId: table.institutionId, bulkId: kind === "issuance" ? issuances.bulkId : sql<null>`null` });
  await announceStateChange(db, log, kind, rows, from, to, extra, at);
  return rows.map((r) => r.id);
}

/**
 * Tells of operations that entered `to`: their webhook events, recorded in the transaction that moved them; live
 * status (GraphQL subscriptions), once that transaction has committed (core/live); and a log line each. For a
 * move made by a statement of its own (editions set columns of their own as they move).
 */
export async function announceStateChange(
  db: Database | Tx,
  log: Logger,
  kind: LiveOperationKind,
  rows: { id: string; institutionId: string; bulkId?: string | null }[],
  from: readonly IssuanceStatus[],
  to: IssuanceStatus,
  extra: Record<string, unknown> = {},
  at = new Date(),
): Promise<void> {
  if (!rows.length) return;
  const context = Object.fromEntries(Object.entries(extra).filter(([, v]) => v != null));
  // The transaction row is internal: neither webhooks nor live status publish it. Webhooks leave out what is null;
  // live status keeps explicit nulls, which tell a subscriber that a field was cleared (an error on CONFIRMED).
  const { chainTxId: _internal, ...published } = context;
  await recordStateChanges(db, kind, rows, to, published);
  const { chainTxId: _internalToo, ...live } = extra;
  noteStateChange(db, { kind, status: to, at, rows, details: live });
  for (const { id } of rows) {
    log.info({ [`${kind}Id`]: id, from: from.length === 1 ? from[0] : from, to, ...context }, `${kind} ${to}`);
  }
}

/** `transitionMany` for one operation; returns whether this call made the move. */
export async function transition(
  db: Database | Tx,
  log: Logger,
  kind: OperationKind,
  id: string,
  from: readonly IssuanceStatus[],
  to: IssuanceStatus,
  extra: Extra = {},
): Promise<boolean> {
  return (await transitionMany(db, log, kind, [id], from, to, extra)).length > 0;
}

/**
 * QUEUED → PINNED for many issuances at once, each with its own CID and digest: one UPDATE … FROM (VALUES …) and
 * one insert of webhook events, in one transaction. As `transitionMany`, moves only rows still QUEUED and returns
 * the ids it moved.
 */
export async function markPinned(db: Database, log: Logger, pinned: readonly { id: string; metadataCid: string; digest: string }[]): Promise<string[]> {
  if (!pinned.length) return [];
  const values = sql.join(
    pinned.map((p) => sql`(${p.id}::uuid, ${p.metadataCid}::text, ${p.digest}::text)`),
    sql`, `,
  );
  const now = new Date().toISOString();
  const byId = new Map(pinned.map((p) => [p.id, p]));
  return db.transaction(async (tx) => {
    // Both drivers (PGlite, node-postgres) answer a raw statement with { rows }.
    const result = (await tx.execute(sql`
      update ${issuances} set status = 'PINNED', metadata_cid = v.cid, digest = v.digest, updated_at = ${now}::timestamptz
      from (values ${values}) as v(id, cid, digest)
      where ${issuances.id} = v.id and ${issuances.status} = 'QUEUED'
      returning ${issuances.id} as id, ${issuances.institutionId} as institution_id, ${issuances.bulkId} as bulk_id`)) as unknown as {
      rows: { id: string; institution_id: string; bulk_id: string | null }[];
    };
    const rows = result.rows.map((r) => ({ id: r.id, institutionId: r.institution_id, bulkId: r.bulk_id }));
    const details = (id: string) => ({ metadataCid: byId.get(id)!.metadataCid, digest: byId.get(id)!.digest });
    await recordStateChanges(tx, "issuance", rows, "PINNED", details);
    noteStateChange(tx, { kind: "issuance", status: "PINNED", at: new Date(now), rows, details });
    for (const { id } of rows) {
      const { metadataCid, digest } = byId.get(id)!;
      log.info({ issuanceId: id, from: "QUEUED", to: "PINNED", metadataCid, digest }, "issuance PINNED");
    }
    return rows.map((r) => r.id);
  });
}
