import { randomInt } from "node:crypto";
import { count, eq } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { statusListIndices } from "../db/schema.ts";
import { MIN_LIST_LENGTH } from "./purposes.ts";

/** Draws that may collide before giving up; at most half the positions are taken, so 40 misses in a row is ~1e-12. */
const MAX_DRAWS = 40;

/**
 * How many positions new indices are drawn from: the spec's minimum, doubled whenever half of it is taken, so a
 * random draw lands on a free position at least half the time and the list grows only with the collection.
 */
export function drawRange(assigned: number): number {
  let range = MIN_LIST_LENGTH;
  while (assigned >= range / 2) range *= 2;
  return range;
}

/** The length a list must have to hold every index drawn so far: the smallest allowed range above the highest. */
export function listLength(highestIndex: number | null): number {
  let length = MIN_LIST_LENGTH;
  while (highestIndex !== null && highestIndex >= length) length *= 2;
  return length;
}

/**
 * The certificate's index in its collection's status lists, drawn at random the first time it is needed and kept
 * for ever. Two first requests at once (or two certificates drawing the same position) race on the table's unique
 * keys: the losing insert does nothing and the row that won is read back, or another position is drawn.
 */
export async function statusListIndexOf(
  db: Database,
  certificate: { id: string; collectionId: string },
  /** A uniformly random integer in [0, range); replaceable so the collision path can be tested. */
  draw: (range: number) => number = (range) => randomInt(range),
): Promise<number> {
  const stored = async () =>
    (await db.select({ index: statusListIndices.statusListIndex }).from(statusListIndices).where(eq(statusListIndices.certificateId, certificate.id)))[0]?.index;
  const existing = await stored();
  if (existing !== undefined) return existing;
  const [taken] = await db.select({ n: count() }).from(statusListIndices).where(eq(statusListIndices.collectionId, certificate.collectionId));
  const range = drawRange(taken?.n ?? 0);
  for (let attempt = 0; attempt < MAX_DRAWS; attempt++) {
    await db
      .insert(statusListIndices)
      .values({ certificateId: certificate.id, collectionId: certificate.collectionId, statusListIndex: draw(range) })
      .onConflictDoNothing();
    const index = await stored();
    if (index !== undefined) return index;
  }
  throw new Error(`no free status list position found for certificate ${certificate.id} after ${MAX_DRAWS} draws`);
}
