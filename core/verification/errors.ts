/** The chain could not be asked (down, timed out, wrong network): nothing can be concluded from it. */
export class ChainUnavailableError extends Error {
  override name = "ChainUnavailableError";
}

/** The reference or document names no certificate that could be looked up. */
export class CertificateNotFoundError extends Error {
  override name = "CertificateNotFoundError";
}

/** A file given to the verifier is neither a Hallmark certificate document nor a Hallmark credential. */
export class DocumentFormatError extends Error {
  override name = "DocumentFormatError";
}
