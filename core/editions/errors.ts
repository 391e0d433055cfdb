import { isCallException } from "ethers";
/** No edition by that id: the contract answered `EditionNotFound`, or there is no contract at the address. */
export class EditionNotFoundError extends Error {
  override name = "EditionNotFoundError";
}

/** The chain or the IPFS store could not be asked: nothing can be concluded about the edition right now. */
export class ChainReadError extends Error {
  override name = "ChainReadError";
}

/**
 * The edition exists on chain but its metadata (or one of its images) cannot be used: not held by the IPFS store,
 * too large, or not an edition metadata document. `problems` says what, one entry a problem.
 */
export class EditionMetadataUnusableError extends Error {
  override name = "EditionMetadataUnusableError";
  readonly problems: string[];

  constructor(problems: string[], options?: { cause?: unknown }) {
    super(`the edition's metadata cannot be used: ${problems.join("; ")}`, options);
    this.problems = problems;
  }
}

/** Runs a read of the chain: a contract's own refusal passes as it is; the node failing becomes a ChainReadError. */
export async function askChain<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isCallException(err) || err instanceof ChainReadError) throw err;
    throw new ChainReadError(`the chain did not answer: ${(err as Error).message?.split("\n")[0] ?? String(err)}`, { cause: err });
  }
}
