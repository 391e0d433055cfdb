import type { Database } from "../db/index.ts";
import { media } from "../db/schema.ts";
import type { IpfsStore } from "../ipfs/index.ts";
import { IMAGE_MEDIA_TYPES, type ImageMediaType } from "../metadata/edition.ts";
import { OperationError } from "../operations/errors.ts";
import { charge, limitsOf } from "../quotas.ts";
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
 * counted against the storage quota once.
 */
export async function storeImage(deps: { db: Database; ipfs: IpfsStore }, institutionId: string, bytes: Uint8Array, maxBytes: number): Promise<StoredMedia> {
  const kind = inspectImage(bytes, maxBytes);
  // Refuse before storing when the quota has no room at all; the charge below is the exact check.
  const limits = await limitsOf(deps.db, institutionId);
  if (bytes.length > limits.storageBytes) {
    throw new OperationError("QUOTA_EXCEEDED", `quota storageBytes exceeded: limit ${limits.storageBytes}, this upload needs ${bytes.length}`, undefined, {
      quota: "storageBytes",
      limit: limits.storageBytes,
      requested: bytes.length,
    });
  }
  const cid = await deps.ipfs.add(bytes);
  await deps.db.transaction(async (tx) => {
    const inserted = await tx
      .insert(media)
      .values({ institutionId, cid, size: bytes.length, mediaType: kind.mediaType, width: kind.width, height: kind.height })
      .onConflictDoNothing({ target: [media.institutionId, media.cid] })
      .returning({ id: media.id });
    if (inserted.length) {
      await charge(tx, { institutionId, quota: "storageBytes", metric: "storage_bytes", period: "all", amount: bytes.length, limit: limits.storageBytes });
    }
  });
  return { cid, size: bytes.length, ...kind };
}
