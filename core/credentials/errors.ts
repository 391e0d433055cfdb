/** The certificate cannot be exported as a credential now; `reason` says why in words a holder understands. */
export class CredentialExportError extends Error {
  override name = "CredentialExportError";
  readonly code: "NOT_FOUND" | "NOT_VALID" | "UNAVAILABLE";
  constructor(code: CredentialExportError["code"], message: string) {
    super(message);
    this.code = code;
  }
}
