import type { IpfsStore } from "../ipfs/index.ts";
import { IpfsNotFoundError } from "../ipfs/index.ts";

/** A certificate document is a few KiB; anything far larger is not one, and must not be read into memory. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

/** Where the verifier fetches a document's bytes by CID. Whatever it returns is hashed before it is believed. */
export interface DocumentSource {
  /** The bytes, or undefined when the source does not hold them. */
  fetch(cid: string): Promise<Uint8Array | undefined>;
  /** Named in reasons shown to people. */
  readonly description: string;
}

export class DocumentTooLargeError extends Error {
  override name = "DocumentTooLargeError";
}

export function ipfsStoreSource(store: IpfsStore): DocumentSource {
  return {
    description: "the platform's IPFS node",
    async fetch(cid) {
      try {
        if ((await store.size(cid)) > MAX_DOCUMENT_BYTES) throw new DocumentTooLargeError(`${cid} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
        const chunks: Uint8Array[] = [];
        for await (const chunk of store.cat(cid, { length: MAX_DOCUMENT_BYTES })) chunks.push(chunk);
        return Buffer.concat(chunks);
      } catch (err) {
        if (err instanceof IpfsNotFoundError) return undefined;
        throw err;
      }
    },
  };
}

/** An HTTP gateway (`<base>/ipfs/<cid>`): untrusted transport, which is fine since the bytes are hashed. */
export function gatewaySource(baseUrl: string): DocumentSource {
  const base = baseUrl.replace(/\/+$/, "");
  return {
    description: `the gateway at ${base}`,
    async fetch(cid) {
      const res = await fetch(`${base}/ipfs/${cid}`, { signal: AbortSignal.timeout(15_000) });
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`${base}/ipfs/${cid} answered ${res.status}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (bytes.byteLength > MAX_DOCUMENT_BYTES) throw new DocumentTooLargeError(`${cid} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
      return bytes;
    },
  };
}
