import { and, inArray } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { issuances, revocations, type IssuanceStatus } from "../db/schema.ts";
import type { Logger } from "../logger.ts";
import { recordStateChanges } from "../webhooks/events.ts";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
export type OperationKind = "issuance" | "revocation";
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
  const table = kind === "issuance" ? issuances : revocations;
  const { metadataCid, digest, ...common } = extra;
  const set = kind === "issuance" ? { ...common, metadataCid, digest } : common;
  const rows = await db
    .update(table)
    .set({ ...set, status: to, updatedAt: new Date() })
    .where(and(inArray(table.id, [...ids]), inArray(table.status, [...from])))
    .returning({ id: table.id, institutionId: table.institutionId });
  const context = Object.fromEntries(Object.entries(extra).filter(([, v]) => v != null));
  const { chainTxId: _internal, ...published } = context;
  await recordStateChanges(db, kind, rows, to, published);
  for (const { id } of rows) {
    log.info({ [`${kind}Id`]: id, from: from.length === 1 ? from[0] : from, to, ...context }, `${kind} ${to}`);
  }
  return rows.map((r) => r.id);
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

