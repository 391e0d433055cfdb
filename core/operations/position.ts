import { and, count, gt, inArray, lt } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { issuances } from "../db/schema.ts";

type Issuance = typeof issuances.$inferSelect;

export interface Standing {
  /** Issuances accepted earlier and not yet sent to the chain; 0 once this one is sent; null when it has ended. */
  position: number | null;
  /** Confirmed issuances per second over the last minute. */
  recentRate: number;
  estimatedConfirmationAt: Date | null;
}

const WINDOW_MS = 60_000;
/** Assumed while nothing was confirmed lately (a cold start): one batch per block of a few seconds. */
const COLD_RATE = 20;
/** A transaction's wait for its block and the indexer, on top of its wait in the queue. */
const CONFIRMATION_MS = 3_000;

/** Where an issuance stands: its place in the queue and when it should be confirmed at the recent pace. */
export async function standing(db: Database, issuance: Issuance, now = new Date()): Promise<Standing> {
  const [recent] = await db
    .select({ n: count() })
    .from(issuances)
    .where(and(inArray(issuances.status, ["CONFIRMED"]), gt(issuances.updatedAt, new Date(now.getTime() - WINDOW_MS))));
  const recentRate = recent!.n / (WINDOW_MS / 1000);
  if (issuance.status === "CONFIRMED" || issuance.status === "FAILED") {
    return { position: null, recentRate, estimatedConfirmationAt: null };
  }
  let position = 0;
  if (issuance.status === "QUEUED" || issuance.status === "PINNED") {
    const [ahead] = await db
      .select({ n: count() })
      .from(issuances)
      .where(and(inArray(issuances.status, ["QUEUED", "PINNED"]), lt(issuances.createdAt, issuance.createdAt)));
    position = ahead!.n;
  }
  const rate = recentRate > 0 ? recentRate : COLD_RATE;
  const etaMs = ((position + 1) / rate) * 1000 + CONFIRMATION_MS;
  return { position, recentRate, estimatedConfirmationAt: new Date(now.getTime() + etaMs) };
}
