export { credentialCacheKey, exportCredential, type ExportDeps } from "./export.ts";
export { credentialVerifier, credentialVerifierWith } from "./verify-credential.ts";
export { createDocumentLoader, documentLoader } from "./document-loader.ts";
export { CredentialExportError } from "./errors.ts";
export { institutionSigningKey } from "./institution-keys.ts";
