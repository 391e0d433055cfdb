import { and, asc, eq } from "drizzle-orm";
import { appendAuditEvent, type Actor } from "../audit/log.ts";
import { apiKeys, approvalRequests, approvals, members, type MemberRole } from "../db/schema.ts";
import { isId } from "../db/ids.ts";
import type { Pipeline } from "../operations/context.ts";
import { OperationError } from "../operations/errors.ts";
import { idempotencyConflict } from "../operations/idempotency.ts";
import { parseIdempotencyKey, parseReason } from "../operations/validate.ts";
import { approvalsHash, type ApprovalsRecord } from "./approvals-hash.ts";
import type { ApprovalRequest } from "./hold.ts";
import { dropHeld, releaseHeld } from "./outcome.ts";

/** Who decides: the institution and the key that calls. */
export interface Decider {
  institutionId: string;
  apiKeyId: string;
}

/**
 * Approves a request held for approval. The key must be one made for a member (it acts as that member; a key made
 * for nobody approves nothing), whose role the policy lets approve, other than the member or key that asked. A
 * member approves once. The approval that meets the threshold releases the operation, in the same transaction.
 */
export async function approveOperation(pipeline: Pipeline, decider: Decider, requestId: string, idempotencyKey?: string | null): Promise<ApprovalRequest> {
  return decide(pipeline, decider, requestId, { decision: "APPROVE", idempotencyKey: parseKey(idempotencyKey) });
}

/** Rejects a request held for approval, for good: one member with the right to approve may reject it. */
export async function rejectOperation(pipeline: Pipeline, decider: Decider, requestId: string, reason: string, idempotencyKey?: string | null): Promise<ApprovalRequest> {
  return decide(pipeline, decider, requestId, { decision: "REJECT", reason: parseReason(reason), idempotencyKey: parseKey(idempotencyKey) });
}

const parseKey = (key: string | null | undefined) => (key == null ? undefined : parseIdempotencyKey(key));

async function decide(
  pipeline: Pipeline,
  decider: Decider,
  requestId: string,
  what: { decision: "APPROVE" | "REJECT"; reason?: string; idempotencyKey?: string },
): Promise<ApprovalRequest> {
  if (!isId(requestId)) throw new OperationError("NOT_FOUND", "approval request not found", "id");
  return pipeline.transaction(async (ctx) => {
    const tx = ctx.db;
    const [request] = await tx
      .select()
      .from(approvalRequests)
      .where(and(eq(approvalRequests.id, requestId), eq(approvalRequests.institutionId, decider.institutionId)))
      .for("update");
    if (!request) throw new OperationError("NOT_FOUND", "approval request not found", "id");
    if (what.idempotencyKey) {
      // A retry of a decision already recorded answers the request as it stands, whatever that decision led to.
      const [mine] = await tx.select().from(approvals).where(and(eq(approvals.requestId, requestId), eq(approvals.keyId, decider.apiKeyId), eq(approvals.idempotencyKey, what.idempotencyKey)));
      if (mine) {
        if (mine.decision !== what.decision || (mine.reason ?? undefined) !== what.reason) throw idempotencyConflict();
        return request;
      }
    }
    if (request.status !== "AWAITING_APPROVAL") throw new OperationError("CONFLICT", `the operation is not awaiting approval (it is ${request.status})`, "id", { status: request.status });
    if (request.expiresAt.getTime() <= Date.now()) throw new OperationError("CONFLICT", "the approval deadline has passed; the operation is expiring", "id", { status: "EXPIRED" });

    const [key] = await tx
      .select({ memberId: apiKeys.memberId, role: members.role })
      .from(apiKeys)
      .leftJoin(members, eq(members.id, apiKeys.memberId))
      .where(eq(apiKeys.id, decider.apiKeyId));
    if (!key?.memberId || !key.role) throw new OperationError("FORBIDDEN", "only a key made for a member approves or rejects: this key acts for no member", "id");
    if (key.memberId === request.requestedByMemberId || decider.apiKeyId === request.requestedByKeyId) {
      throw new OperationError("FORBIDDEN", "the member who asked for an operation cannot approve or reject it", "id");
    }
    if (!request.approverRoles.includes(key.role as MemberRole)) {
      throw new OperationError("FORBIDDEN", `the policy lets ${request.approverRoles.join(" or ")} members decide; this member is ${key.role}`, "id");
    }
    const actor: Actor = { memberId: key.memberId, apiKeyId: decider.apiKeyId };
    const [recorded] = await tx
      .insert(approvals)
      .values({ requestId, memberId: key.memberId, keyId: decider.apiKeyId, decision: what.decision, reason: what.reason, idempotencyKey: what.idempotencyKey })
      .onConflictDoNothing()
      .returning();
    if (!recorded) throw new OperationError("CONFLICT", "this member has already decided on this operation", "id");
    const subject = request.subjectId ? { kind: request.subjectKind, id: request.subjectId } : null;

    if (what.decision === "REJECT") {
      const [ended] = await tx
        .update(approvalRequests)
        .set({ status: "REJECTED", rejectionReason: what.reason, decidedAt: new Date() })
        .where(eq(approvalRequests.id, requestId))
        .returning();
      await dropHeld(ctx, request, "REJECTED", `rejected: ${what.reason}`);
      await appendAuditEvent(tx, {
        institutionId: request.institutionId,
        kind: "operation.rejected",
        actor,
        subject,
        requestHash: request.requestHash,
        data: { action: request.action, approvalRequestId: request.id, reason: what.reason },
      });
      return ended!;
    }

    const given = await tx.select().from(approvals).where(and(eq(approvals.requestId, requestId), eq(approvals.decision, "APPROVE"))).orderBy(asc(approvals.createdAt), asc(approvals.id));
    await appendAuditEvent(tx, {
      institutionId: request.institutionId,
      kind: "operation.approved",
      actor,
      subject,
      requestHash: request.requestHash,
      data: { action: request.action, approvalRequestId: request.id, approvals: given.length, required: request.required },
    });
    if (given.length < request.required) return request;

    const record: ApprovalsRecord = {
      approvalRequestId: request.id,
      action: request.action,
      subject: { kind: request.subjectKind, id: request.subjectId },
      requestHash: request.requestHash,
      requestedBy: { memberId: request.requestedByMemberId, apiKeyId: request.requestedByKeyId },
      approvals: given.map((a) => ({ memberId: a.memberId, apiKeyId: a.keyId, at: a.createdAt.toISOString() })),
    };
    const hash = approvalsHash(record);
    const [approved] = await tx
      .update(approvalRequests)
      .set({ status: "APPROVED", approvalsHash: hash, decidedAt: new Date() })
      .where(eq(approvalRequests.id, requestId))
      .returning();
    await releaseHeld(ctx, request, hash);
    await appendAuditEvent(tx, {
      institutionId: request.institutionId,
      kind: request.action === "POLICY_CHANGE" ? "approvalPolicy.changed" : "operation.released",
      actor,
      subject,
      requestHash: request.requestHash,
      data: { action: request.action, approvalsHash: hash, record, ...(request.action === "POLICY_CHANGE" ? { policy: request.payload } : {}) },
    });
    return approved!;
  });
}
