import { IpfsNotFoundError, IpfsUnavailableError, type IpfsStore } from "../ipfs/index.ts";
import { cidOfIpfsUri, EditionMetadataError, parseEditionMetadata, type EditionMetadata } from "../metadata/edition.ts";
import { EditionMetadataUnusableError, ChainReadError } from "./errors.ts";

/** An edition metadata document is a few KiB; anything far larger is not one, and is not read into memory. */
export const MAX_METADATA_BYTES = 1024 * 1024;

/** Fetches the metadata document an edition's `uri` names from the IPFS store, and parses it. */
export async function fetchEditionMetadata(ipfs: IpfsStore, uri: string): Promise<{ cid: string; metadata: EditionMetadata }> {
  const cid = cidOfIpfsUri(uri);
  if (!cid) throw new EditionMetadataUnusableError([`the edition's URI ${JSON.stringify(uri)} is not an ipfs://<cid> URI`]);
  const bytes = await readAll(ipfs, cid, MAX_METADATA_BYTES, "metadata document");
  try {
    return { cid, metadata: parseEditionMetadata(bytes) };
  } catch (err) {
    if (err instanceof EditionMetadataError) throw new EditionMetadataUnusableError(err.problems, { cause: err });
    throw err;
  }
}

/** Reads a whole file, or its first `limit` bytes when `truncate` is set; maps store errors to edition errors. */
export async function readAll(ipfs: IpfsStore, cid: string, limit: number, what: string, opts: { truncate?: boolean } = {}): Promise<Uint8Array> {
  try {
    if (!opts.truncate && (await ipfs.size(cid)) > limit) throw new EditionMetadataUnusableError([`the ${what} ${cid} is larger than ${limit} bytes`]);
    const chunks: Uint8Array[] = [];
    for await (const chunk of ipfs.cat(cid, { length: limit })) chunks.push(chunk);
    return Buffer.concat(chunks);
  } catch (err) {
    if (err instanceof IpfsNotFoundError) throw new EditionMetadataUnusableError([`the ${what} ${cid} is not held by this platform's IPFS store`], { cause: err });
    if (err instanceof IpfsUnavailableError) throw new ChainReadError(`IPFS is unavailable: ${err.message}`, { cause: err });
    throw err;
  }
}
