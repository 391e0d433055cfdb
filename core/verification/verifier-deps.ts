import type { ChainProviders } from "./chain-reader.ts";
import type { HallmarkDocument } from "./certificate-document.ts";
import type { DocumentSource } from "./document-source.ts";
import type { IssuerRegistry } from "./issuer-registry-reader.ts";
import type { IdentityProofs } from "../identity/domain-proof.ts";
import type { ChainReference, Check } from "./types.ts";
import type { Disclosure } from "../metadata/personal-data.ts";

// Its own module so each way of verifying (a reference, a document, an anchored certificate) takes it without
// importing another.
export interface VerifierDeps {
  chains: ChainProviders;
  /** Where documents are fetched by CID; needed to verify a reference. */
  documents?: DocumentSource;
  issuers?: IssuerRegistry;
  /** What is known of the proof of an issuer's identity (its domain), told in the issuer check. */
  identityProofs?: IdentityProofs;
  /** Consult neither chain nor IPFS: whatever needs them is reported as skipped, so the verdict is never VALID. */
  offline?: boolean;
  /** Checks an exported credential's proof and hands back the certificate document it carries. */
  credentials?: CredentialVerifier;
  /**
   * The DIDs that may sign credentials for a registry: its institution's. A credential signed by anyone else is
   * refused even when its proof holds, since a valid signature by another institution says nothing of this
   * certificate. Absent (or `undefined` for a registry it does not know), no such check.
   */
  issuerDids?: (chainId: number, contract: string) => Promise<string[] | undefined>;
}

export interface CredentialVerifier {
  /** Whether `json` looks like a credential this verifier should handle. */
  recognizes(json: unknown): boolean;
  open(json: unknown): Promise<OpenedCredential>;
}

export interface OpenedCredential {
  signature: Check;
  /** The credential's issuer, as it names itself (`issuer` or `issuer.id`). */
  issuer?: string;
  /** Whether the certificate document carried inside is the one the credential's signed claims describe. */
  consistency: Check;
  document?: HallmarkDocument;
  reference?: ChainReference;
  /** The disclosures the credential's signed claims carry (the holder's own copy of their personal data). */
  disclosures?: Disclosure[];
}
