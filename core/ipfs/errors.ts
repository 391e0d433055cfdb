/** The content is not held by the store (embedded) or by the node (remote); retrying elsewhere will not help here. */
export class IpfsNotFoundError extends Error {
  override name = "IpfsNotFoundError";
  readonly cid: string;

  constructor(cid: string, options?: { cause?: unknown; detail?: string }) {
    super(`IPFS content ${cid} not found${options?.detail ? `: ${options.detail}` : ""}`, { cause: options?.cause });
    this.cid = cid;
  }
}

/** The store could not be reached or is closed; the operation may succeed later. */
export class IpfsUnavailableError extends Error {
  override name = "IpfsUnavailableError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
