import { and, eq, inArray, sql } from "drizzle-orm";
import { apiKeys, approvalPolicies, editionOperations, editions, issuances, outbox, type ApprovalRule } from "../db/schema.ts";
import type { OperationContext } from "../operations/context.ts";
import { transition, transitionMany } from "../operations/transitions.ts";
import type { DbTransaction } from "../db/index.ts";
import type { ApprovalRequest } from "./hold.ts";
import { canonicalJson } from "../metadata/canonical-json.ts";
import { monthOf, release } from "../quotas.ts";

/** The operation kinds a request may hold: one row each, moved by `transition`. */
const HELD_KINDS = ["revocation", "anchoredRevocation", "certificateOperation", "edition", "editionOperation"] as const;
type HeldKind = (typeof HELD_KINDS)[number];
const isHeldKind = (kind: string): kind is HeldKind => (HELD_KINDS as readonly string[]).includes(kind);

/**
 * Approved: the held operation moves AWAITING_APPROVAL → QUEUED and the outbox entries its request would have
 * written are written now (the relay enqueues them as it always does); an ADMIN key starts to authenticate; a policy
 * change is applied. `approvalsHash` goes with a revocation to the chain (an anchored revocation's worker reads it
 * from the approved request).
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

/**
 * Rejected or expired: the held operation ends without reaching the chain; what it reserved is given back, in the
 * transaction that ends it: an airdrop's items, a held bulk issuance's quota (issuances and content bytes), an
 * edition's metadata bytes.
 */
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
    if (moved && kind === "edition") {
      // createEdition charged its metadata's bytes to storage; nothing will be kept.
      const [edition] = await tx.select({ metadataJson: editions.metadataJson }).from(editions).where(eq(editions.id, request.subjectId!));
      await release(tx, { institutionId: request.institutionId, metric: "storage_bytes", period: "all", amount: Buffer.byteLength(edition!.metadataJson) });
    }
  } else if (kind === "bulkIssuance") {
    const held = await tx
      .select({ id: issuances.id, document: issuances.document, createdAt: issuances.createdAt })
      .from(issuances)
      .where(and(eq(issuances.bulkId, request.subjectId!), eq(issuances.status, "AWAITING_APPROVAL")));
    const ended = new Set(await transitionMany(ctx, "issuance", held.map((r) => r.id), ["AWAITING_APPROVAL"], to, { error }));
    await refundIssuances(tx, request.institutionId, held.filter((r) => ended.has(r.id)));
  } else if (kind === "apiKey") {
    await tx.update(apiKeys).set({ revokedAt: new Date() }).where(and(eq(apiKeys.id, request.subjectId!), eq(apiKeys.pendingApprovalId, request.id)));
  }
}

/**
 * Gives back what recording these issuances charged (core/quotas.ts chargeIssuances): one issuance each in the month
 * it was recorded, and its content's bytes.
 */
async function refundIssuances(tx: DbTransaction, institutionId: string, rows: { document: unknown; createdAt: Date }[]): Promise<void> {
  const perMonth = new Map<string, number>();
  let bytes = 0;
  for (const row of rows) {
    perMonth.set(monthOf(row.createdAt), (perMonth.get(monthOf(row.createdAt)) ?? 0) + 1);
    bytes += Buffer.byteLength(canonicalJson(row.document));
  }
  for (const [period, amount] of perMonth) await release(tx, { institutionId, metric: "issuances", period, amount });
  await release(tx, { institutionId, metric: "storage_bytes", period: "all", amount: bytes });
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
