import { sql } from "drizzle-orm";
import type { DbTransaction } from "../db/index.ts";
import { auditEvents, auditHeads } from "../db/schema.ts";
import { auditEventHash, GENESIS_HASH, type AuditEventBody } from "./event-hash.ts";

/**
 * Who did an administrative action: a member (through one of the keys made for it or by it), a key acting for no
 * member, the platform operator, or the worker (an expiry).
 */
export interface Actor {
  memberId?: string | null;
  apiKeyId?: string | null;
  operator?: boolean;
  worker?: boolean;
}

/** The actor as the log names it. */
export function actorName(actor: Actor): string {
  if (actor.worker) return "worker";
  if (actor.operator) return "operator";
  if (actor.memberId) return `member:${actor.memberId}`;
  if (actor.apiKeyId) return `apiKey:${actor.apiKeyId}`;
  return "unknown";
}

/** The kinds of audit events, each named `<thing>.<past tense>`. */
export const AUDIT_EVENT_KINDS = [
  "operation.requested",
  "operation.approved",
  "operation.released",
  "operation.rejected",
  "operation.expired",
  "apiKey.created",
  "apiKey.revoked",
  "member.added",
  "member.roleChanged",
  "member.removed",
  "approvalPolicy.changeRequested",
  "approvalPolicy.changed",
  "institution.suspended",
  "institution.reactivated",
] as const;
export type AuditEventKind = (typeof AUDIT_EVENT_KINDS)[number];

export interface AuditEntry {
  institutionId: string;
  kind: AuditEventKind;
  actor: Actor;
  subject?: { kind: string; id: string } | null;
  data?: Record<string, unknown>;
  /** The fingerprint of the request that caused it (core/operations/idempotency.ts `requestHash`). */
  requestHash?: string | null;
}

/**
 * Appends one event to the institution's chain, in `tx`, the transaction of the change it records: the event
 * exists if and only if the change committed. The chain's head row is locked first, so appends of one institution
 * are serial and each names the one before; institutions do not wait on each other.
 */
export async function appendAuditEvent(tx: DbTransaction, entry: AuditEntry): Promise<typeof auditEvents.$inferSelect> {
  // The first event of an institution creates its head; every append then locks it.
  await tx.insert(auditHeads).values({ institutionId: entry.institutionId, seq: 0, hash: GENESIS_HASH }).onConflictDoNothing();
  const [head] = await tx.select().from(auditHeads).where(sql`${auditHeads.institutionId} = ${entry.institutionId}`).for("update");
  const at = new Date();
  const body: AuditEventBody = {
    institutionId: entry.institutionId,
    seq: head!.seq + 1,
    kind: entry.kind,
    actor: actorName(entry.actor),
    actorMemberId: entry.actor.memberId ?? null,
    actorKeyId: entry.actor.apiKeyId ?? null,
    subjectKind: entry.subject?.kind ?? null,
    subjectId: entry.subject?.id ?? null,
    // Stored as jsonb and hashed as read back: a JSON round trip now drops what jsonb would (undefined values).
    data: JSON.parse(JSON.stringify(entry.data ?? {})) as Record<string, unknown>,
    requestHash: entry.requestHash ?? null,
    at: at.toISOString(),
    prevHash: head!.hash,
  };
  const hash = auditEventHash(body);
  const [row] = await tx
    .insert(auditEvents)
    .values({ ...body, at, hash })
    .returning();
  await tx.update(auditHeads).set({ seq: body.seq, hash }).where(sql`${auditHeads.institutionId} = ${entry.institutionId}`);
  return row!;
}

/** An event row as hashed and exported. */
export function auditBodyOf(row: typeof auditEvents.$inferSelect): AuditEventBody {
  return {
    institutionId: row.institutionId,
    seq: row.seq,
    kind: row.kind,
    actor: row.actor,
    actorMemberId: row.actorMemberId,
    actorKeyId: row.actorKeyId,
    subjectKind: row.subjectKind,
    subjectId: row.subjectId,
    data: row.data,
    requestHash: row.requestHash,
    at: row.at.toISOString(),
    prevHash: row.prevHash,
  };
}
