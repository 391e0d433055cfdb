export interface CatOptions {
  offset?: number;
  length?: number;
  signal?: AbortSignal;
}

export interface IpfsStore {
  /**
   * Adds bytes as a CIDv1 with Kubo's `--cid-version 1 --raw-leaves` parameters, so one chunk gives a raw CID whose
   * multihash is sha256(bytes), and pins it. Returns the base32 CID string.
   */
  add(bytes: Uint8Array): Promise<string>;
  /** The file's bytes (or a range); throws IpfsNotFoundError when the content is not held locally / by the node. */
  cat(cid: string, opts?: CatOptions): AsyncIterable<Uint8Array>;
  /** Byte size of the file content (for Content-Length and ranges). */
  size(cid: string): Promise<number>;
  /** Whether the root block is held locally / by the node; never fetches. */
  has(cid: string): Promise<boolean>;
  close(): Promise<void>;
}
