import { and, eq, inArray } from "drizzle-orm";
import type { ChainTx } from "../../core/chain/tx-sender.ts";
import { editionMintBatches, editionOperations } from "../../core/db/schema.ts";
import type { DbTransaction } from "../../core/db/index.ts";
import type { OperationContext } from "../../core/operations/context.ts";
import { transition } from "../../core/operations/transitions.ts";

/**
 * The claim on one batch of an edition operation (an airdrop's or a custody release's), taken in the sender's
 * transaction: the operation is still open and its `sent` is the batch's start, so a batch is never signed twice
 * (another worker holding the row skips it). Answers the status it was claimed in, or undefined when not claimed.
 */
export async function claimBatch(tx: DbTransaction, operationId: string, start: number): Promise<"QUEUED" | "SUBMITTED" | undefined> {
  const [claimed] = await tx
    .select({ status: editionOperations.status })
    .from(editionOperations)
    .where(and(eq(editionOperations.id, operationId), eq(editionOperations.sent, start), inArray(editionOperations.status, ["QUEUED", "SUBMITTED"])))
    .for("update", { skipLocked: true });
  return claimed?.status as "QUEUED" | "SUBMITTED" | undefined;
}

/**
 * Stores a claimed batch with its signed transaction and moves the operation on: it enters SUBMITTED with its first
 * batch (`claimedAs` QUEUED); later batches are progress (`sent`, and `total` when the batch found more to send).
 */
export async function recordBatch(
  ctx: OperationContext,
  tx: DbTransaction,
  stored: ChainTx,
  batch: { operationId: string; start: number; count: number; claimedAs: "QUEUED" | "SUBMITTED" | undefined; progress: { sent: number; total?: number } },
): Promise<void> {
  await tx.insert(editionMintBatches).values({ operationId: batch.operationId, start: batch.start, count: batch.count, chainTxId: stored.id, txHash: stored.txHash });
  if (batch.claimedAs === "QUEUED") await transition(ctx, "editionOperation", batch.operationId, ["QUEUED"], "SUBMITTED", batch.progress, { txHash: stored.txHash });
  else await tx.update(editionOperations).set({ ...batch.progress, updatedAt: new Date() }).where(eq(editionOperations.id, batch.operationId));
}
