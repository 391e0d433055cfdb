import { and, eq } from "drizzle-orm";
import { appendAuditEvent, type Actor } from "../audit/log.ts";
import type { Database } from "../db/index.ts";
import { collections, members } from "../db/schema.ts";
import { isId } from "../db/ids.ts";
import { OperationError } from "../operations/errors.ts";
import { requestHash } from "../operations/idempotency.ts";
import { queueOrHold, type ApprovalRequest } from "./hold.ts";
import { applyPolicy, type PolicyChange } from "./outcome.ts";
import { ownPolicy, parseApprovalPolicy, policyChangeGate, type ApprovalPolicy, type ApprovalPolicyInput } from "./policies.ts";

/**
 * An OWNER sets the approval policy of a collection (or the institution's default, `collectionId` null; no rules
 * removes it). When the policy in force guards its own change, the change waits for approval like any other
 * request, so one owner cannot switch dual control off alone. Answers the policy now in force for that scope and,
 * when the change is held, its approval request.
 */
export async function setApprovalPolicy(
  db: Database,
  actor: Actor & { institutionId: string },
  input: ApprovalPolicyInput & { collectionId?: string | null },
): Promise<{ policy: ApprovalPolicy | undefined; approvalRequest: ApprovalRequest | undefined }> {
  const { institutionId } = actor;
  const parsed = parseApprovalPolicy(input);
  const collectionId = input.collectionId ?? null;
  return db.transaction(async (tx) => {
    // Another institution's collection is not found, whoever asks: checked before the caller's role.
    if (collectionId) {
      const [collection] = isId(collectionId) ? await tx.select({ id: collections.id }).from(collections).where(and(eq(collections.id, collectionId), eq(collections.institutionId, institutionId))) : [];
      if (!collection) throw new OperationError("NOT_FOUND", "collection not found", "collectionId");
    }
    const [member] = actor.memberId ? await tx.select().from(members).where(and(eq(members.id, actor.memberId), eq(members.institutionId, institutionId))) : [];
    if (member?.role !== "OWNER") throw new OperationError("FORBIDDEN", "only an OWNER member sets approval policies (through a key made for or by an OWNER)");
    const change: PolicyChange = { collectionId, rules: parsed.rules, ttlSeconds: parsed.ttlSeconds };
    const gate = await policyChangeGate(tx, institutionId, collectionId, actor);
    const hash = requestHash({ setApprovalPolicy: change });
    if (!gate) {
      await applyPolicy(tx, institutionId, change);
      await appendAuditEvent(tx, {
        institutionId,
        kind: "approvalPolicy.changed",
        actor,
        subject: { kind: "approvalPolicy", id: collectionId ?? institutionId },
        requestHash: hash,
        data: { action: "POLICY_CHANGE", policy: change, awaitingApproval: false },
      });
      return { policy: await ownPolicy(tx, institutionId, collectionId), approvalRequest: undefined };
    }
    const held = await queueOrHold(tx, gate, {
      institutionId,
      collectionId,
      action: "POLICY_CHANGE",
      subjectKind: "approvalPolicy",
      subjectId: null,
      actor,
      requestHash: hash,
      release: [],
      payload: change as unknown as Record<string, unknown>,
      data: { policy: change },
    });
    return { policy: await ownPolicy(tx, institutionId, collectionId), approvalRequest: held };
  });
}
