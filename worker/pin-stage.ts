import { UnrecoverableError } from "bullmq";
import { eq, inArray } from "drizzle-orm";
import { documentCid } from "../core/chain/certificate-registry.ts";
import { coalesce } from "../core/coalesce.ts";
import { collections, institutions, issuances } from "../core/db/schema.ts";
import { markPinned, type Pinned } from "../core/operations/transitions.ts";
import { pipelineOf, type WorkerDeps } from "./deps.ts";

type Issuance = typeof issuances.$inferSelect;
type Collection = typeof collections.$inferSelect;
type Institution = typeof institutions.$inferSelect;

/** What the document is built from: only these columns are read (not whole rows of three tables). */
export interface PinnableIssuance {
  issuance: Pick<Issuance, "id" | "status" | "document" | "requestId" | "createdAt" | "recipient">;
  collection: Pick<Collection, "id" | "name" | "chainId" | "contractAddress">;
  institution: Pick<Institution, "id" | "name">;
}

/**
 * The pin stage's database side, shared by every concurrent issue-certificate job of this worker: the jobs each
 * handle one issuance (BullMQ's unit of retry), but their reads and their QUEUED → PINNED writes travel together,
 * so the database sees a few statements per batch of jobs rather than several per certificate.
 */
export interface PinStage {
  load(issuanceId: string): Promise<PinnableIssuance | undefined>;
  /**
   * Whether this call moved the issuance to PINNED (false: it had already moved on). The CID must be the raw
   * sha2-256 CID of the digest: the registry's `tokenURI` derives it from the token id (the digest) and stores
   * none, so a document pinned under any other CID (a UnixFS DAG, past one 256 KiB chunk) could not be issued.
   */
  markPinned(pinned: Pinned): Promise<boolean>;
}

export function createPinStage(deps: Pick<WorkerDeps, "db" | "logger" | "pipeline">): PinStage {
  const pipeline = pipelineOf(deps);
  const load = coalesce(async (ids: string[]) => {
    const rows = await deps.db
      .select({
        issuance: {
          id: issuances.id,
          status: issuances.status,
          document: issuances.document,
          requestId: issuances.requestId,
          createdAt: issuances.createdAt,
          recipient: issuances.recipient,
        },
        collection: { id: collections.id, name: collections.name, chainId: collections.chainId, contractAddress: collections.contractAddress },
        institution: { id: institutions.id, name: institutions.name },
      })
      .from(issuances)
      .innerJoin(collections, eq(collections.id, issuances.collectionId))
      .innerJoin(institutions, eq(institutions.id, issuances.institutionId))
      .where(inArray(issuances.id, [...new Set(ids)]));
    const byId = new Map(rows.map((r) => [r.issuance.id, r]));
    return ids.map((id) => byId.get(id));
  });
  const pin = coalesce(async (items: Pinned[]) => {
    const unique = [...new Map(items.map((i) => [i.id, i])).values()];
    const moved = new Set(await markPinned(pipeline, unique));
    return items.map((i) => moved.has(i.id));
  });
  const markPinnedChecked = async (pinned: Pinned) => {
    if (pinned.metadataCid !== documentCid(pinned.digest)) {
      throw new UnrecoverableError(`issuance ${pinned.id}: pinned as ${pinned.metadataCid}, not as the raw CID of its digest ${pinned.digest} that the registry's tokenURI derives (a document over one chunk?)`);
    }
    return pin(pinned);
  };
  return { load, markPinned: markPinnedChecked };
}
