import { RevocationReason } from "../../core/chain/registry.ts";
import { CERTIFICATE_STATUSES, ISSUANCE_STATUSES } from "../../core/db/schema.ts";
import { builder } from "../builder.ts";

export const OperationStatusEnum = builder.enumType("OperationStatus", {
  description:
    "Where an asynchronous operation stands. QUEUED: recorded. PINNED: metadata stored on IPFS. SUBMITTED: transaction sent to the chain. CONFIRMED: seen in a block by the indexer. FAILED: will not happen (see `error`).",
  values: ISSUANCE_STATUSES,
});

export const CertificateStatusEnum = builder.enumType("CertificateStatus", {
  description: "VALID: issued and in force. REVOKED: revoked for good on chain.",
  values: CERTIFICATE_STATUSES,
});

export const RevocationReasonEnum = builder.enumType("RevocationReason", {
  description: "RFC 5280 revocation reasons, recorded on chain with the revocation.",
  values: RevocationReason.filter((r) => r !== "UNUSED"),
});
