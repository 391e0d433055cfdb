export interface CatOptions {
  offset?: number;
  length?: number;
  signal?: AbortSignal;
}

export interface IpfsStore {
  /**
   * Adds bytes as a CIDv1 with Kubo's `--cid-version 1 --raw-leaves` parameters, so one chunk gives a raw CID whose
   * multihash is sha256(bytes), and keeps it (Kubo pins it; the embedded store never deletes). Returns the base32
   * CID string.
   */
  add(bytes: Uint8Array): Promise<string>;
  /**
   * Adds files as one UnixFS directory (same import parameters as `add`), keeps it as `add` does and returns its CID; each file is
   * then at `<cid>/<path>`. Paths use "/" and may nest.
   */
  addDirectory(files: { path: string; bytes: Uint8Array }[]): Promise<string>;
  /**
   * The file's bytes (or a range) at a CID or `<cid>/<path>`; throws IpfsNotFoundError when the content is not held
   * locally / by the node.
   */
  cat(cid: string, opts?: CatOptions): AsyncIterable<Uint8Array>;
  /** Byte size of the file content at a CID or `<cid>/<path>` (for Content-Length and ranges). */
  size(cid: string): Promise<number>;
  /** What is at a CID or `<cid>/<path>`: a file, or a directory with its entries. */
  stat(cid: string): Promise<{ type: "file"; size: number } | { type: "directory"; entries: { name: string; type: "file" | "directory"; size: number }[] }>;
  /** Whether the root block is held locally / by the node; never fetches. */
  has(cid: string): Promise<boolean>;
  close(): Promise<void>;
}
