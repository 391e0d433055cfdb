import type { DbTransaction } from "../db/index.ts";
import { approvalRequests, outbox, type ApprovalAction } from "../db/schema.ts";
import { appendAuditEvent, type Actor } from "../audit/log.ts";
import type { Gate } from "./policies.ts";
import { isPublished, OPERATION_KIND_NAMES, type OperationKind, type PublishedKind } from "../operations/kinds.ts";
import { recordStateChanges } from "../webhooks/events.ts";

const isPublishedKind = (kind: string): kind is PublishedKind => (OPERATION_KIND_NAMES as string[]).includes(kind) && isPublished(kind as OperationKind);

export type ApprovalRequest = typeof approvalRequests.$inferSelect;
export type OutboxEntry = { topic: string; payload: Record<string, unknown> };

export interface Requested {
  institutionId: string;
  collectionId: string | null;
  action: ApprovalAction;
  /** The operation kind (core/operations/kinds.ts), or `bulkIssuance`, `apiKey`, `approvalPolicy`. */
  subjectKind: string;
  subjectId: string | null;
  actor: Actor;
  requestHash: string;
  /** The outbox entries the request writes: at once without a gate, on approval with one. */
  release: OutboxEntry[];
  /** POLICY_CHANGE: the policy to apply once approved. */
  payload?: Record<string, unknown>;
  /** What the audit event says besides the action (the certificate, the reason…). */
  data?: Record<string, unknown>;
}

/**
 * The end of every request that may be held, in its transaction: without a gate its outbox entries are written (the
 * operation is QUEUED, as it always was); with one an approval request holds them until enough members approve.
 * Either way the request is an audit event. Answers the approval request, when one was opened.
 */
export async function queueOrHold(tx: DbTransaction, gate: Gate | null, req: Requested): Promise<ApprovalRequest | undefined> {
  let held: ApprovalRequest | undefined;
  if (!gate) {
    if (req.release.length) await tx.insert(outbox).values(req.release);
  } else {
    [held] = await tx
      .insert(approvalRequests)
      .values({
        institutionId: req.institutionId,
        collectionId: req.collectionId,
        action: req.action,
        subjectKind: req.subjectKind,
        subjectId: req.subjectId,
        requestedByMemberId: req.actor.memberId ?? null,
        requestedByKeyId: req.actor.apiKeyId ?? null,
        requestHash: req.requestHash,
        required: gate.needed,
        approverRoles: gate.rule.approverRoles,
        release: req.release,
        payload: req.payload ?? null,
        expiresAt: new Date(Date.now() + gate.ttlSeconds * 1000),
      })
      .returning();
    // Webhooks hear the held state like any other (`revocation.awaiting_approval`); the row was created in it.
    if (isPublishedKind(req.subjectKind) && req.subjectId) {
      await recordStateChanges(tx, req.subjectKind, [{ id: req.subjectId, institutionId: req.institutionId }], "AWAITING_APPROVAL", { approvalRequestId: held!.id });
    }
  }
  await appendAuditEvent(tx, {
    institutionId: req.institutionId,
    kind: req.action === "POLICY_CHANGE" ? "approvalPolicy.changeRequested" : "operation.requested",
    actor: req.actor,
    subject: req.subjectId ? { kind: req.subjectKind, id: req.subjectId } : null,
    requestHash: req.requestHash,
    data: {
      action: req.action,
      ...(req.collectionId ? { collectionId: req.collectionId } : {}),
      ...req.data,
      ...(held ? { approvalRequestId: held.id, required: held.required, approverRoles: held.approverRoles, expiresAt: held.expiresAt.toISOString() } : { awaitingApproval: false }),
    },
  });
  return held;
}
