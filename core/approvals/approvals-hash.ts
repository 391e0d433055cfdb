import { createHash } from "node:crypto";
import { canonicalJson } from "../metadata/canonical-json.ts";

/** What the approvals' hash covers: the request held, who asked, and each approval, in the order given. */
export interface ApprovalsRecord {
  approvalRequestId: string;
  action: string;
  subject: { kind: string; id: string | null };
  requestHash: string;
  requestedBy: { memberId: string | null; apiKeyId: string | null };
  approvals: { memberId: string; apiKeyId: string; at: string }[];
}

/**
 * sha256 (0x-prefixed, bytes32) of the record's canonical JSON. The record is written whole into the audit log's
 * `operation.released` event, so anyone holding the export recomputes the hash a revocation names on chain.
 */
export function approvalsHash(record: ApprovalsRecord): string {
  return `0x${createHash("sha256").update(canonicalJson(record)).digest("hex")}`;
}
