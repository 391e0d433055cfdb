import { RevocationReason } from "../../core/chain/certificate-registry.ts";
import { API_CERTIFICATE_STATUSES } from "../../core/certificate-status.ts";
import { ISSUANCE_STATUSES } from "../../core/db/schema.ts";
import { builder } from "../builder.ts";

/** An enum's values, each with its description; the compiler insists every value has one. */
export function describedValues<const V extends string>(values: readonly V[], descriptions: Record<V, string>): { [K in V]: { value: K; description: string } } {
  return Object.fromEntries(values.map((v) => [v, { value: v, description: descriptions[v] }])) as { [K in V]: { value: K; description: string } };
}

export const OperationStatusEnum = builder.enumType("OperationStatus", {
  description:
    "Where an asynchronous operation stands. AWAITING_APPROVAL: held by an approval policy. QUEUED: recorded. PINNED: metadata stored on IPFS. SUBMITTED: transaction sent to the chain. CONFIRMED: seen in a block by the indexer. FAILED, REJECTED, EXPIRED: will not happen.",
  values: describedValues(ISSUANCE_STATUSES, {
    QUEUED: "Recorded; waiting for the worker.",
    PINNED: "Metadata stored on IPFS; not yet sent to the chain.",
    SUBMITTED: "Transaction sent to the chain; not yet seen in a block.",
    CONFIRMED: "Seen in a block by the indexer. Final.",
    FAILED: "Will not happen; `error` says why. Final.",
    AWAITING_APPROVAL: "Held by the collection's approval policy until enough members approve it (approveOperation); nothing is sent before.",
    REJECTED: "A member rejected it (rejectOperation); it never reaches the chain. Final.",
    EXPIRED: "Not approved before its approval deadline; it never reaches the chain. Final.",
  }),
});

export const CertificateStatusEnum = builder.enumType("CertificateStatus", {
  description:
    "VALID: issued and in force. EXPIRED: past its `validUntil`. REVOKED: revoked for good on chain. SUSPENDED: suspended by the issuer, may be reinstated. SUPERSEDED: replaced for good by a recovered certificate. Precedence as the registry's status(): REVOKED, SUPERSEDED, EXPIRED, SUSPENDED, VALID.",
  values: describedValues(API_CERTIFICATE_STATUSES, {
    VALID: "Issued and in force: not revoked, superseded or suspended, and not past `validUntil`.",
    EXPIRED:
      "Past its `validUntil` (and neither revoked nor superseded; a suspended certificate that expires reads EXPIRED). Derived at the time of the request, as the registry and the verify page derive it: no transaction marks it.",
    REVOKED: "Revoked for good on chain.",
    SUSPENDED: "Suspended by the issuer on chain; unsuspendCertificate reinstates it.",
    SUPERSEDED: "Replaced for good on chain by a certificate reissued to the holder's new address (`supersededBy`).",
  }),
});

export const RevocationReasonEnum = builder.enumType("RevocationReason", {
  description: "RFC 5280 revocation reasons, recorded on chain with the revocation.",
  values: describedValues(
    RevocationReason.filter((r): r is Exclude<RevocationReason, "UNUSED"> => r !== "UNUSED"),
    {
      UNSPECIFIED: "No reason given (RFC 5280 unspecified).",
      KEY_COMPROMISE: "The holder's key was compromised (RFC 5280 keyCompromise).",
      CA_COMPROMISE: "The issuer's key was compromised (RFC 5280 cACompromise).",
      AFFILIATION_CHANGED: "The holder's affiliation changed (RFC 5280 affiliationChanged).",
      SUPERSEDED: "Replaced by another certificate (RFC 5280 superseded).",
      CESSATION_OF_OPERATION: "What it certifies no longer operates (RFC 5280 cessationOfOperation).",
      CERTIFICATE_HOLD: "Put on hold (RFC 5280 certificateHold).",
      REMOVE_FROM_CRL: "RFC 5280 removeFromCRL, kept for completeness.",
      PRIVILEGE_WITHDRAWN: "A privilege it granted was withdrawn (RFC 5280 privilegeWithdrawn).",
      AA_COMPROMISE: "The attribute authority was compromised (RFC 5280 aACompromise).",
    },
  ),
});
