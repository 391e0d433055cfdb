import { createHash } from "node:crypto";
import { canonicalJson } from "../metadata/canonical-json.ts";

/** The `prevHash` of an institution's first audit event. */
export const GENESIS_HASH = "0".repeat(64);

/**
 * What an audit event's hash covers: every field of the event but the hash itself and where it was anchored.
 * Exported as is (one JSON object a line), so an auditor recomputes the hash from the line alone.
 */
export interface AuditEventBody {
  institutionId: string;
  seq: number;
  kind: string;
  actor: string;
  actorMemberId: string | null;
  actorKeyId: string | null;
  subjectKind: string | null;
  subjectId: string | null;
  data: Record<string, unknown>;
  requestHash: string | null;
  /** ISO 8601, milliseconds, UTC. */
  at: string;
  prevHash: string;
}

/**
 * sha256 (hex) of the canonical JSON (keys sorted, no spaces) of the body with `v: 1`. The version lets a later
 * format coexist in one log without ambiguity about what a hash covered.
 */
export function auditEventHash(body: AuditEventBody): string {
  const covered = {
    v: 1,
    institutionId: body.institutionId,
    seq: body.seq,
    kind: body.kind,
    actor: body.actor,
    actorMemberId: body.actorMemberId,
    actorKeyId: body.actorKeyId,
    subjectKind: body.subjectKind,
    subjectId: body.subjectId,
    data: body.data,
    requestHash: body.requestHash,
    at: body.at,
    prevHash: body.prevHash,
  };
  return createHash("sha256").update(canonicalJson(covered)).digest("hex");
}

/** The Merkle leaf of an event: its hash as bytes32. */
export function auditLeaf(hash: string): string {
  return `0x${hash}`;
}

/** The issuer registry's `log` argument for an institution: its UUID's 16 bytes. */
export function auditLogId(institutionId: string): string {
  return `0x${institutionId.replace(/-/g, "").toLowerCase()}`;
}
