import { eq, inArray } from "drizzle-orm";
import { coalesce } from "../core/coalesce.ts";
import { collections, institutions, issuances } from "../core/db/schema.ts";
import { markPinned } from "../core/operations/transitions.ts";
import type { WorkerDeps } from "./deps.ts";

export interface PinnableIssuance {
  issuance: typeof issuances.$inferSelect;
  collection: typeof collections.$inferSelect;
  institution: typeof institutions.$inferSelect;
}

/**
 * The pin stage's database side, shared by every concurrent issue-certificate job of this worker: the jobs each
 * handle one issuance (BullMQ's unit of retry), but their reads and their QUEUED → PINNED writes travel together,
 * so the database sees a few statements per batch of jobs rather than several per certificate.
 */
export interface PinStage {
  load(issuanceId: string): Promise<PinnableIssuance | undefined>;
  /** Whether this call moved the issuance to PINNED (false: it had already moved on). */
  markPinned(pinned: { id: string; metadataCid: string; digest: string }): Promise<boolean>;
}

export function createPinStage(deps: Pick<WorkerDeps, "db" | "logger">): PinStage {
  const load = coalesce(async (ids: string[]) => {
    const rows = await deps.db
      .select({ issuance: issuances, collection: collections, institution: institutions })
      .from(issuances)
      .innerJoin(collections, eq(collections.id, issuances.collectionId))
      .innerJoin(institutions, eq(institutions.id, issuances.institutionId))
      .where(inArray(issuances.id, [...new Set(ids)]));
    const byId = new Map(rows.map((r) => [r.issuance.id, r]));
    return ids.map((id) => byId.get(id));
  });
  const pin = coalesce(async (items: { id: string; metadataCid: string; digest: string }[]) => {
    const unique = [...new Map(items.map((i) => [i.id, i])).values()];
    const moved = new Set(await markPinned(deps.db, deps.logger, unique));
    return items.map((i) => moved.has(i.id));
  });
  return { load, markPinned: pin };
}
