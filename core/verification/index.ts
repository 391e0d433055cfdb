export { verifyCertificate, type VerificationInput } from "./verify.ts";
export type { CredentialVerifier, OpenedCredential, VerifierDeps } from "./verifier-deps.ts";
export { resolveReference, parseExplicitReference, isCertificateId, type ResolvedReference } from "./reference.ts";
export { createVerifier, type Verifier } from "./service.ts";
export { gatewaySource, ipfsStoreSource, type DocumentSource } from "./document-source.ts";
export type { ChainProviders } from "./chain-reader.ts";
export { onChainIssuerRegistry, type IssuerRegistry } from "./issuer-registry-reader.ts";
export { CertificateNotFoundError, ChainUnavailableError, DocumentFormatError } from "./errors.ts";
export type * from "./types.ts";
