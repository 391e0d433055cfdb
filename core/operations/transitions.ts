import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { issuances, revocations, type IssuanceStatus } from "../db/schema.ts";
import type { Logger } from "../logger.ts";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
export type OperationKind = "issuance" | "revocation";
type Extra = Partial<{ metadataCid: string; digest: string; chainTxId: string; txHash: string; error: string }>;

/**
 * Moves an operation from one of `from` to `to`, and only then: two workers racing on the same row cannot
 * both make the move. Logs one line per state change. Returns whether this call made the move.
 */
export async function transition(
  db: Database | Tx,
  log: Logger,
  kind: OperationKind,
  id: string,
  from: readonly IssuanceStatus[],
  to: IssuanceStatus,
  extra: Extra = {},
): Promise<boolean> {
  const table = kind === "issuance" ? issuances : revocations;
  const { metadataCid, digest, ...common } = extra;
  const set = kind === "issuance" ? { ...common, metadataCid, digest } : common;
  const rows = await db
    .update(table)
    .set({ ...set, status: to, updatedAt: new Date() })
    .where(and(eq(table.id, id), inArray(table.status, [...from])))
    .returning({ id: table.id });
  if (rows.length) {
    log.info({ [`${kind}Id`]: id, from: from.length === 1 ? from[0] : from, to, ...extra }, `${kind} ${to}`);
  }
  return rows.length > 0;
}
