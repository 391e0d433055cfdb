import { randomInt } from "node:crypto";
import { count, eq, inArray } from "drizzle-orm";
import type { DbTransaction } from "../db/index.ts";
import { anchoredStatusListIndices } from "../db/schema.ts";
import { drawRange } from "./indices.ts";

/** Rounds of drawing before giving up; each round at least half the draws land on a free position. */
const MAX_ROUNDS = 40;
const INSERT_CHUNK = 1_000;

/**
 * Draws each certificate of a new anchored batch a random, distinct position in its collection's revocation list,
 * inside the transaction that records the batch (the holder's file names the position, and the file is fixed at
 * issue). As for registry certificates (indices.ts) the range is the spec's minimum, doubled while half of it would
 * be taken, so the positions say nothing about the order of issue. A position another batch took meanwhile is
 * refused by the unique key (the insert does nothing) and drawn again.
 */
export async function assignAnchoredIndices(
  tx: DbTransaction,
  collectionId: string,
  certificateIds: readonly string[],
  /** A uniformly random integer in [0, range); replaceable so the collision path can be tested. */
  draw: (range: number) => number = (range) => randomInt(range),
): Promise<Map<string, number>> {
  const assigned = new Map<string, number>();
  if (!certificateIds.length) return assigned;
  const [taken] = await tx.select({ n: count() }).from(anchoredStatusListIndices).where(eq(anchoredStatusListIndices.collectionId, collectionId));
  const range = drawRange((taken?.n ?? 0) + certificateIds.length);
  let pending = [...certificateIds];
  const used = new Set<number>();
  for (let round = 0; round < MAX_ROUNDS && pending.length; round++) {
    const next: string[] = [];
    for (let offset = 0; offset < pending.length; offset += INSERT_CHUNK) {
      const rows = pending.slice(offset, offset + INSERT_CHUNK).map((certificateId) => {
        let index = draw(range);
        // Distinct within the batch before asking the database, so one round places (nearly) all of them.
        for (let tries = 0; used.has(index) && tries < MAX_ROUNDS; tries++) index = draw(range);
        used.add(index);
        return { certificateId, collectionId, statusListIndex: index };
      });
      const inserted = await tx
        .insert(anchoredStatusListIndices)
        .values(rows)
        .onConflictDoNothing()
        .returning({ certificateId: anchoredStatusListIndices.certificateId, index: anchoredStatusListIndices.statusListIndex });
      for (const r of inserted) assigned.set(r.certificateId, r.index);
      next.push(...rows.filter((r) => !assigned.has(r.certificateId)).map((r) => r.certificateId));
    }
    pending = next;
  }
  if (pending.length) throw new Error(`no free status list position found for ${pending.length} anchored certificates after ${MAX_ROUNDS} rounds`);
  return assigned;
}

/** The stored positions of these anchored certificates (those recorded before positions existed have none). */
export async function anchoredStatusListIndicesOf(db: Pick<DbTransaction, "select">, certificateIds: readonly string[]): Promise<Map<string, number>> {
  if (!certificateIds.length) return new Map();
  const rows = await db
    .select({ certificateId: anchoredStatusListIndices.certificateId, index: anchoredStatusListIndices.statusListIndex })
    .from(anchoredStatusListIndices)
    .where(inArray(anchoredStatusListIndices.certificateId, [...certificateIds]));
  return new Map(rows.map((r) => [r.certificateId, r.index]));
}
