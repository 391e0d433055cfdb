import { and, asc, eq, lte } from "drizzle-orm";
import { appendAuditEvent } from "../audit/log.ts";
import { approvalRequests } from "../db/schema.ts";
import type { Pipeline } from "../operations/context.ts";
import { dropHeld } from "./outcome.ts";

/**
 * Ends the requests whose approval deadline has passed (at most `limit` a call, oldest deadline first): EXPIRED,
 * their operations with them, each an audit event by the worker. Rows another worker holds are skipped, so two
 * workers never expire one request twice. Answers how many it ended.
 */
export async function expireApprovals(pipeline: Pipeline, now = new Date(), limit = 100): Promise<number> {
  return pipeline.transaction(async (ctx) => {
    const due = await ctx.db
      .select()
      .from(approvalRequests)
      .where(and(eq(approvalRequests.status, "AWAITING_APPROVAL"), lte(approvalRequests.expiresAt, now)))
      .orderBy(asc(approvalRequests.expiresAt))
      .limit(limit)
      .for("update", { skipLocked: true });
    for (const request of due) {
      await ctx.db.update(approvalRequests).set({ status: "EXPIRED", decidedAt: now }).where(eq(approvalRequests.id, request.id));
      await dropHeld(ctx, request, "EXPIRED", `not approved before ${request.expiresAt.toISOString()}`);
      await appendAuditEvent(ctx.db, {
        institutionId: request.institutionId,
        kind: "operation.expired",
        actor: { worker: true },
        subject: request.subjectId ? { kind: request.subjectKind, id: request.subjectId } : null,
        requestHash: request.requestHash,
        data: { action: request.action, approvalRequestId: request.id, expiresAt: request.expiresAt.toISOString() },
      });
    }
    return due.length;
  });
}
