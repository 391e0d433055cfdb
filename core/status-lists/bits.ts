import { and, eq, max, sql } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { certificates, statusListIndices } from "../db/schema.ts";
import { listLength } from "./indices.ts";
import type { StatusPurpose } from "./purposes.ts";

export interface StatusBits {
  length: number;
  /** The indices whose bit is set, ascending. */
  set: number[];
}

/**
 * A collection's list for one purpose, from the certificates table the chain indexer keeps: revoked and superseded
 * certificates are revoked for good, suspended ones suspended. Only certificates that are not VALID are read, through
 * a partial index, so the cost follows the few that changed rather than the size of the collection.
 */
export async function readStatusBits(db: Database, collectionId: string, purpose: StatusPurpose): Promise<StatusBits> {
  const statuses = purpose === "revocation" ? sql`('REVOKED', 'SUPERSEDED')` : sql`('SUSPENDED')`;
  const rows = await db
    .select({ index: statusListIndices.statusListIndex })
    .from(certificates)
    .innerJoin(statusListIndices, eq(statusListIndices.certificateId, certificates.id))
    // Literal 'VALID', so the planner can use the partial index certificates_not_valid.
    .where(and(eq(certificates.collectionId, collectionId), sql`${certificates.status} <> 'VALID'`, sql`${certificates.status} in ${statuses}`));
  const [highest] = await db.select({ index: max(statusListIndices.statusListIndex) }).from(statusListIndices).where(eq(statusListIndices.collectionId, collectionId));
  return { length: listLength(highest?.index ?? null), set: rows.map((r) => r.index).sort((a, b) => a - b) };
}
