export { credentialCacheKey, exportCredential, type ExportDeps } from "./export.ts";
export { credentialVerifier } from "./verify-credential.ts";
export { documentLoader } from "./document-loader.ts";
export { CredentialExportError } from "./errors.ts";
export { institutionSigningKey } from "./institution-keys.ts";
