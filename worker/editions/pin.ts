import { asc, eq } from "drizzle-orm";
import type { Database } from "../../core/db/index.ts";
import { editions } from "../../core/db/schema.ts";
import type { IpfsStore } from "../../core/ipfs/index.ts";
import type { Pipeline } from "../../core/operations/context.ts";
import { transition } from "../../core/operations/transitions.ts";

/** QUEUED → PINNED: each queued edition's metadata document, its exact bytes, to IPFS (the oldest 20 a call). */
export async function pinQueuedEditions(deps: { db: Database; ipfs: IpfsStore; pipeline: Pipeline }): Promise<void> {
  const { db, ipfs, pipeline } = deps;
  const queued = await db.select().from(editions).where(eq(editions.status, "QUEUED")).orderBy(asc(editions.createdAt)).limit(20);
  for (const edition of queued) {
    const cid = await ipfs.add(new TextEncoder().encode(edition.metadataJson));
    await pipeline.transaction((ctx) => transition(ctx, "edition", edition.id, ["QUEUED"], "PINNED", { metadataCid: cid }));
  }
}
