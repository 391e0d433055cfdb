import { and, asc, eq } from "drizzle-orm";
import { editions } from "../../core/db/schema.ts";
import { announceStateChange } from "../../core/operations/transitions.ts";
import type { WorkerDeps } from "../deps.ts";

/** QUEUED → PINNED: each queued edition's metadata document, its exact bytes, to IPFS (the oldest 20 a call). */
export async function pinQueuedEditions(deps: Pick<WorkerDeps, "db" | "ipfs" | "logger">): Promise<void> {
  const { db, ipfs, logger } = deps;
  const queued = await db.select().from(editions).where(eq(editions.status, "QUEUED")).orderBy(asc(editions.createdAt)).limit(20);
  for (const edition of queued) {
    const cid = await ipfs.add(new TextEncoder().encode(edition.metadataJson));
    await db.transaction(async (tx) => {
      const moved = await tx
        .update(editions)
        .set({ status: "PINNED", metadataCid: cid, updatedAt: new Date() })
        .where(and(eq(editions.id, edition.id), eq(editions.status, "QUEUED")))
        .returning({ id: editions.id, institutionId: editions.institutionId });
      await announceStateChange(tx, logger, "edition", moved, ["QUEUED"], "PINNED", { metadataCid: cid });
    });
  }
}
