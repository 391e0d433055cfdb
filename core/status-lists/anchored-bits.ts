import { and, count, eq, max, sql } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { anchoredBatches, anchoredCertificates, anchoredRevocations, anchoredStatusListIndices } from "../db/schema.ts";
import type { StatusBits } from "./bits.ts";
import { listLength } from "./indices.ts";

/**
 * An ANCHORED collection's revocation list: the bit of every anchored certificate the database records REVOKED, which
 * the worker writes in the transaction that confirms the revocation (of the certificate by its digest, or of its
 * whole batch by the root). Only revoked certificates are read, through a partial index.
 */
export async function readAnchoredStatusBits(db: Database, collectionId: string): Promise<StatusBits> {
  const rows = await db
    .select({ index: anchoredStatusListIndices.statusListIndex })
    .from(anchoredCertificates)
    .innerJoin(anchoredBatches, eq(anchoredBatches.id, anchoredCertificates.batchId))
    .innerJoin(anchoredStatusListIndices, eq(anchoredStatusListIndices.certificateId, anchoredCertificates.id))
    // Literal 'VALID', so the planner can use the partial index anchored_certificates_revoked.
    .where(and(eq(anchoredBatches.collectionId, collectionId), sql`${anchoredCertificates.status} <> 'VALID'`, eq(anchoredCertificates.status, "REVOKED")));
  const [highest] = await db
    .select({ index: max(anchoredStatusListIndices.statusListIndex) })
    .from(anchoredStatusListIndices)
    .where(eq(anchoredStatusListIndices.collectionId, collectionId));
  return { length: listLength(highest?.index ?? null), set: rows.map((r) => r.index).sort((a, b) => a - b) };
}

/**
 * What the anchored list depends on, in one small query: how many revocations of the collection are CONFIRMED and
 * when the last one changed (a bit is set only in the transaction that confirms one), and the highest position drawn
 * (a new batch can lengthen the list). The registry's indexer cursor does not move for anchored revocations, so this
 * is what the publisher compares before reading the bits again.
 */
export async function anchoredListVersion(db: Database, collectionId: string): Promise<string> {
  const [revoked] = await db
    .select({ n: count(), last: sql<string | null>`max(${anchoredRevocations.updatedAt})::text` })
    .from(anchoredRevocations)
    .innerJoin(anchoredBatches, eq(anchoredBatches.id, anchoredRevocations.batchId))
    .where(and(eq(anchoredBatches.collectionId, collectionId), eq(anchoredRevocations.status, "CONFIRMED")));
  const [highest] = await db
    .select({ index: max(anchoredStatusListIndices.statusListIndex) })
    .from(anchoredStatusListIndices)
    .where(eq(anchoredStatusListIndices.collectionId, collectionId));
  return `anchored:${revoked?.n ?? 0}:${revoked?.last ?? "-"}:${highest?.index ?? "-"}`;
}
