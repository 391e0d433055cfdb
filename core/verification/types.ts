import type { Localizable } from "../i18n/language-map.ts";
import type { OnChainStatus, RevocationReason } from "../chain/certificate-registry.ts";

export type Verdict = "VALID" | "INVALID" | "UNKNOWN";
export type CheckName = "integrity" | "status" | "issuer" | "signature";
export type CheckResult = "valid" | "invalid" | "skipped";

export interface Check {
  name: CheckName;
  result: CheckResult;
  /** A sentence a person can act on: what was compared with what, or why it could not be. */
  reason: string;
}

/** Where a certificate lives on chain: everything else about it is read from there. */
export interface ChainReference {
  chainId: number;
  contract: string;
  tokenId: bigint;
}

/** What the chain says about a certificate; absent fields could not be read. */
export interface ChainFacts {
  chainId: number;
  contract: string;
  /** Absent when a document names no token that exists. */
  tokenId?: string;
  owner?: string;
  status?: OnChainStatus;
  metadataUri?: string;
  digest?: string;
  issuedAt?: string;
  /** ISO-8601; absent when the certificate never expires. */
  validUntil?: string;
  revocationReason?: RevocationReason;
  txHash?: string;
  blockNumber?: number;
}

/**
 * A personal field's standing. PUBLIC: in clear in the document (v1). MATCHES: committed to, and the disclosure given
 * opens the commitment. DOES_NOT_MATCH: a disclosure was given and does not. NOT_DISCLOSED: committed to, nothing given
 * (or erased).
 */
export type DisclosureStatus = "PUBLIC" | "MATCHES" | "DOES_NOT_MATCH" | "NOT_DISCLOSED";

/** The certificate's fields, as its document states them (shown to a person, never used to decide). */
export interface CertificateSummary {
  id?: string;
  /** A string, or a language map when the certificate was written in several languages (pages pick the reader's). */
  title?: Localizable;
  description?: Localizable;
  /** Only when in clear (v1) or disclosed and matching. */
  recipientName?: string;
  /** Absent when the document names no recipient. */
  recipientNameStatus?: DisclosureStatus;
  /** Personal attributes the document commits to, and whether each was disclosed (disclosed ones are in `attributes`). */
  personal?: { name: string; status: DisclosureStatus }[];
  recipientAddress?: string;
  issuerName?: string;
  issuerId?: string;
  collectionName?: string;
  issuedAt?: string;
  validUntil?: string;
  /** `label`: how the field is shown, when the issuer named it in languages; else `name` is. */
  attributes: { name: string; value: Localizable; label?: Localizable }[];
}

export interface VerificationResult {
  verdict: Verdict;
  checks: Check[];
  certificate: CertificateSummary;
  chain?: ChainFacts;
  /** When the checks ran (ISO-8601). */
  checkedAt: string;
}
