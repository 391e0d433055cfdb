import { and, eq, inArray, sql } from "drizzle-orm";
import { apiKeys, approvalPolicies, editionOperations, editions, issuances, outbox, type ApprovalRule } from "../db/schema.ts";
import type { OperationContext } from "../operations/context.ts";
import { transition, transitionMany } from "../operations/transitions.ts";
import type { DbTransaction } from "../db/index.ts";
import type { ApprovalRequest } from "./hold.ts";

/** The operation kinds a request may hold: one row each, moved by `transition`. */
const HELD_KINDS = ["revocation", "certificateOperation", "edition", "editionOperation"] as const;
type HeldKind = (typeof HELD_KINDS)[number];
const isHeldKind = (kind: string): kind is HeldKind => (HELD_KINDS as readonly string[]).includes(kind);

/**
 * Approved: the held operation moves AWAITING_APPROVAL → QUEUED and the outbox entries its request would have
 * written are written now (the relay enqueues them as it always does); an ADMIN key starts to authenticate; a policy
 * change is applied. `approvalsHash` goes with a revocation to the chain.
 */
export async function releaseHeld(ctx: OperationContext & { db: DbTransaction }, request: ApprovalRequest, approvalsHash: string): Promise<void> {
  const tx = ctx.db;
  const kind = request.subjectKind;
  if (isHeldKind(kind)) {
    if (kind === "revocation") await transition(ctx, "revocation", request.subjectId!, ["AWAITING_APPROVAL"], "QUEUED", { approvalsHash });
    else await transition(ctx, kind, request.subjectId!, ["AWAITING_APPROVAL"], "QUEUED");
  } else if (kind === "bulkIssuance") {
    const held = await heldIssuances(tx, request.subjectId!);
    await transitionMany(ctx, "issuance", held, ["AWAITING_APPROVAL"], "QUEUED");
    if (held.length) await tx.insert(outbox).values(held.map((id) => ({ topic: "issue-certificate", payload: { issuanceId: id } })));
  } else if (kind === "apiKey") {
    await tx.update(apiKeys).set({ pendingApprovalId: null }).where(and(eq(apiKeys.id, request.subjectId!), eq(apiKeys.pendingApprovalId, request.id)));
  } else if (kind === "approvalPolicy") {
    await applyPolicy(tx, request.institutionId, request.payload as unknown as PolicyChange);
  }
  if (request.release.length) await tx.insert(outbox).values(request.release);
}

/** Rejected or expired: the held operation ends without reaching the chain; what it reserved is given back. */
export async function dropHeld(ctx: OperationContext & { db: DbTransaction }, request: ApprovalRequest, to: "REJECTED" | "EXPIRED", error: string): Promise<void> {
  const tx = ctx.db;
  const kind = request.subjectKind;
  if (isHeldKind(kind)) {
    const moved = await transition(ctx, kind, request.subjectId!, ["AWAITING_APPROVAL"], to, { error });
    if (moved && kind === "editionOperation") {
      // An airdrop reserved its items when it was asked for: they are the edition's to give again.
      const [op] = await tx.select().from(editionOperations).where(eq(editionOperations.id, request.subjectId!));
      await tx.update(editions).set({ reserved: sql`${editions.reserved} - ${op!.total}`, updatedAt: new Date() }).where(eq(editions.id, op!.editionId));
    }
  } else if (kind === "bulkIssuance") {
    await transitionMany(ctx, "issuance", await heldIssuances(tx, request.subjectId!), ["AWAITING_APPROVAL"], to, { error });
  } else if (kind === "apiKey") {
    await tx.update(apiKeys).set({ revokedAt: new Date() }).where(and(eq(apiKeys.id, request.subjectId!), eq(apiKeys.pendingApprovalId, request.id)));
  }
}

async function heldIssuances(tx: DbTransaction, bulkId: string): Promise<string[]> {
  const rows = await tx.select({ id: issuances.id }).from(issuances).where(and(eq(issuances.bulkId, bulkId), inArray(issuances.status, ["AWAITING_APPROVAL"])));
  return rows.map((r) => r.id);
}

export interface PolicyChange {
  collectionId: string | null;
  rules: ApprovalRule[];
  ttlSeconds: number;
}

/** Writes a policy, replacing the one set for the same scope. */
export async function applyPolicy(tx: DbTransaction, institutionId: string, change: PolicyChange): Promise<void> {
  const where = and(
    eq(approvalPolicies.institutionId, institutionId),
    change.collectionId ? eq(approvalPolicies.collectionId, change.collectionId) : sql`${approvalPolicies.collectionId} is null`,
  );
  const [current] = await tx.select().from(approvalPolicies).where(where).for("update");
  if (current) await tx.update(approvalPolicies).set({ rules: change.rules, ttlSeconds: change.ttlSeconds, updatedAt: new Date() }).where(eq(approvalPolicies.id, current.id));
  else await tx.insert(approvalPolicies).values({ institutionId, collectionId: change.collectionId, rules: change.rules, ttlSeconds: change.ttlSeconds });
}
