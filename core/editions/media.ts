import type { Database } from "../db/index.ts";
import { media } from "../db/schema.ts";
import type { IpfsStore } from "../ipfs/index.ts";
import { IMAGE_MEDIA_TYPES, type ImageMediaType } from "./metadata.ts";
import { OperationError } from "../operations/errors.ts";
import { charge, limitsOf, release, type QuotaLimits } from "../quotas.ts";
import { readImageHeader } from "./image-size.ts";

export interface StoredMedia {
  cid: string;
  size: number;
  mediaType: ImageMediaType;
  /** Pixels, read from the image's header; absent for WebP (its size is not read). */
  width?: number;
  height?: number;
}

/**
 * What an upload is, by its bytes alone (the type the client declared is never trusted): PNG, JPEG, GIF or WebP with
 * its pixel size, or UNSUPPORTED_MEDIA_TYPE. Larger than `maxBytes`: FILE_TOO_LARGE.
 */
export function inspectImage(bytes: Uint8Array, maxBytes: number): { mediaType: ImageMediaType; width?: number; height?: number } {
  if (bytes.length > maxBytes) throw new OperationError("FILE_TOO_LARGE", `the file is ${bytes.length} bytes; at most ${maxBytes} are accepted`, "file", { maxBytes });
  if (!bytes.length) throw new OperationError("BAD_USER_INPUT", "the file is empty", "file");
  const header = readImageHeader(bytes);
  if (!header.mediaType || !(IMAGE_MEDIA_TYPES as readonly string[]).includes(header.mediaType)) {
    throw new OperationError("UNSUPPORTED_MEDIA_TYPE", `the file is not a ${IMAGE_MEDIA_TYPES.join(", ")} image (judged by its bytes)`, "file", {
      accepted: [...IMAGE_MEDIA_TYPES],
    });
  }
  if (header.mediaType !== "image/webp" && (!header.width || !header.height)) {
    throw new OperationError("UNSUPPORTED_MEDIA_TYPE", `the ${header.mediaType} image's pixel size cannot be read from its header`, "file");
  }
  return { mediaType: header.mediaType, width: header.width, height: header.height };
}

/**
 * Stores an image on IPFS for an institution and records it; the same bytes again answer the same record and are
 * counted against the storage quota once. The bytes are charged against what remains of the storage quota before
 * anything is written to IPFS: a refused upload leaves nothing behind to be served, and concurrent uploads wait on
 * the same usage row, so together they cannot pass the limit.
 */
export async function storeImage(deps: { db: Database; ipfs: IpfsStore; quotas: QuotaLimits }, institutionId: string, bytes: Uint8Array, maxBytes: number): Promise<StoredMedia> {
  const kind = inspectImage(bytes, maxBytes);
  const limits = await limitsOf(deps.db, deps.quotas, institutionId);
  const storage = { institutionId, quota: "storageBytes", metric: "storage_bytes", period: "all", amount: bytes.length } as const;
  await charge(deps.db, { ...storage, limit: limits.storageBytes });
  try {
    const cid = await deps.ipfs.add(bytes);
    const inserted = await deps.db
      .insert(media)
      .values({ institutionId, cid, size: bytes.length, mediaType: kind.mediaType, width: kind.width, height: kind.height })
      .onConflictDoNothing({ target: [media.institutionId, media.cid] })
      .returning({ id: media.id });
    // Already recorded (the same bytes again): counted once, so the reservation is given back.
    if (!inserted.length) await release(deps.db, storage);
    return { cid, size: bytes.length, ...kind };
  } catch (err) {
    await release(deps.db, storage);
    throw err;
  }
}
