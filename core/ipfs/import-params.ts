import { importFile, type ImporterOptions } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import { CID } from "multiformats/cid";

/** Kubo's `add --chunker` spelling of the chunk size below, sent to remote nodes so their config cannot change it. */
export const KUBO_CHUNKER = "size-262144";
/** The chunk size itself, in bytes. */
export const KUBO_CHUNK_SIZE = 262_144;

/**
 * Kubo's defaults for `ipfs add --cid-version 1` (256 KiB chunks, balanced DAG of 174 links, raw leaves).
 * @helia/unixfs defaults to 1 MiB chunks and 1024 links, which would give different CIDs for the same bytes,
 * so the importer is driven directly with these.
 */
export function kuboV1ImportOptions(): ImporterOptions {
  return {
    cidVersion: 1,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: KUBO_CHUNK_SIZE }),
    layout: balanced({ maxChildrenPerNode: 174 }),
  };
}

/** Kubo's CIDv0 defaults (dag-pb leaves), so `Qm…` CIDs from older content can be verified too. */
export function kuboV0ImportOptions(): ImporterOptions {
  return {
    cidVersion: 0,
    rawLeaves: false,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: KUBO_CHUNK_SIZE }),
    layout: balanced({ maxChildrenPerNode: 174 }),
  };
}

/** The root CID the bytes would get, hashing every block but storing none. */
export async function computeCid(bytes: Uint8Array, options: ImporterOptions = kuboV1ImportOptions()): Promise<CID> {
  const discard = { put: async (cid: CID) => cid };
  const { cid } = await importFile({ content: bytes }, discard, options);
  return cid;
}
