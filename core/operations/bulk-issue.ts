import { and, count, eq } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { approvalRequests, bulkIssuances, issuances, type IssuanceStatus } from "../db/schema.ts";
import { approvalGate } from "../approvals/policies.ts";
import { queueOrHold, type ApprovalRequest } from "../approvals/hold.ts";
import type { Actor } from "../audit/log.ts";
import { requestHash } from "./idempotency.ts";
import { OperationError } from "./errors.ts";
import { issuableCollection } from "./collections.ts";
import { requestIssuanceBatch, type BatchItemResult, type IssueCertificateInput, type IssueDeps } from "./issue.ts";
import { parseIdempotencyKey } from "./validate.ts";
import { checkBatchSize } from "../quotas.ts";

export const MAX_BULK_ITEMS = 10_000;
const CHUNK = 1_000;

export type BulkIssuance = typeof bulkIssuances.$inferSelect;

/**
 * Many certificates as one operation. Each item is an ordinary issuance with its own idempotency key, so a
 * bulk request sent again (after a timeout, or resumed by the CSV importer) creates only what is missing.
 */
export async function requestBulkIssuance(
  deps: IssueDeps,
  institutionId: string,
  input: { collectionId: string; idempotencyKey: string; items: Omit<IssueCertificateInput, "collectionId">[] },
  onProgress?: (done: number, total: number) => void,
  actor: Actor = {},
): Promise<{ bulk: BulkIssuance; results: BatchItemResult[]; approvalRequest?: ApprovalRequest }> {
  const { db } = deps;
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  await issuableCollection(db, institutionId, input.collectionId);
  if (!input.items.length) throw new OperationError("BAD_USER_INPUT", "items must not be empty", "items");
  if (input.items.length > MAX_BULK_ITEMS) {
    throw new OperationError("BAD_USER_INPUT", `at most ${MAX_BULK_ITEMS} items per request`, "items");
  }
  await checkBatchSize(db, deps.quotas, institutionId, input.items.length);
  const [created] = await db
    .insert(bulkIssuances)
    .values({ institutionId, collectionId: input.collectionId, idempotencyKey, total: input.items.length })
    .onConflictDoNothing()
    .returning();
  const bulk =
    created ??
    (await db
      .select()
      .from(bulkIssuances)
      .where(and(eq(bulkIssuances.institutionId, institutionId), eq(bulkIssuances.idempotencyKey, idempotencyKey))))[0]!;
  if (bulk.collectionId !== input.collectionId) {
    throw new OperationError("IDEMPOTENCY_CONFLICT", "this idempotencyKey was already used for another collection", "idempotencyKey");
  }
  // Under a policy every item is recorded AWAITING_APPROVAL, and one approval request releases them all.
  const gate = await approvalGate(db, { institutionId, collectionId: input.collectionId, action: "BULK_ISSUANCE", items: input.items.length, actor });
  const results: BatchItemResult[] = [];
  for (let offset = 0; offset < input.items.length; offset += CHUNK) {
    const chunk = await requestIssuanceBatch(deps, institutionId, input.collectionId, input.items.slice(offset, offset + CHUNK), bulk.id, !!gate);
    results.push(...chunk.map((r) => ({ ...r, index: r.index + offset })));
    onProgress?.(results.length, input.items.length);
  }
  const rejected = results.filter((r) => r.error).length;
  await db.update(bulkIssuances).set({ rejected, total: input.items.length }).where(eq(bulkIssuances.id, bulk.id));
  // Recorded once per bulk: a retry (same key) finds the request, or the audit event, already there.
  const approvalRequest = await db.transaction(async (tx) => {
    const [open] = await tx.select().from(approvalRequests).where(and(eq(approvalRequests.subjectId, bulk.id), eq(approvalRequests.subjectKind, "bulkIssuance")));
    // Nothing to hold or to tell: every item refused, or (without a gate) a retry that recorded nothing new.
    const recorded = gate ? results.some((r) => r.issuance?.status === "AWAITING_APPROVAL") : results.some((r) => r.created);
    if (open || !recorded) return open;
    return queueOrHold(tx, gate, {
      institutionId,
      collectionId: input.collectionId,
      action: "BULK_ISSUANCE",
      subjectKind: "bulkIssuance",
      subjectId: bulk.id,
      actor,
      requestHash: requestHash({ bulkIssuance: idempotencyKey, collectionId: input.collectionId, items: input.items.length }),
      release: [],
      data: { items: input.items.length, rejected },
    });
  });
  return { bulk: { ...bulk, rejected, total: input.items.length }, results, approvalRequest };
}

export interface BulkProgress {
  total: number;
  rejected: number;
  byStatus: Record<IssuanceStatus, number>;
  /** Items that reached an end: confirmed, failed, rejected at the door, or rejected or expired under an approval policy. */
  done: number;
}

export async function bulkProgress(db: Database, bulk: BulkIssuance): Promise<BulkProgress> {
  const rows = await db
    .select({ status: issuances.status, n: count() })
    .from(issuances)
    .where(eq(issuances.bulkId, bulk.id))
    .groupBy(issuances.status);
  const byStatus = { QUEUED: 0, PINNED: 0, SUBMITTED: 0, CONFIRMED: 0, FAILED: 0, AWAITING_APPROVAL: 0, REJECTED: 0, EXPIRED: 0 } as Record<IssuanceStatus, number>;
  for (const r of rows) byStatus[r.status] = r.n;
  const ended = byStatus.CONFIRMED + byStatus.FAILED + byStatus.REJECTED + byStatus.EXPIRED;
  return { total: bulk.total, rejected: bulk.rejected, byStatus, done: ended + bulk.rejected };
}
