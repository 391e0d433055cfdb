import { and, asc, eq, gte, inArray, ne } from "drizzle-orm";
import { Contract } from "ethers";
import type { DbTransaction } from "../../core/db/index.ts";
import { chainTxs, claimCodes, editionContracts, editionMintBatches, editionOperations, editions } from "../../core/db/schema.ts";
import { collectibleEditionsInterface } from "../../core/editions/abi.ts";
import type { EditionOperationRow } from "../../core/editions/operations.ts";
import type { Pipeline } from "../../core/operations/context.ts";
import type { WorkerDeps } from "../deps.ts";
import { UNESTIMATED } from "./airdrop.ts";
import { failEdition, failOperation, VOUCHER_REDEEMED_ON_CHAIN } from "./failures.ts";

type Deps = Pick<WorkerDeps, "db" | "provider"> & { pipeline: Pipeline };

/**
 * A reverted transaction fails its airdrop batch and that batch's operation (the kinds registry leaves airdrops to
 * this stage: a claim's voucher may have been spent meanwhile), and its edition. The transaction monitor fails an
 * edition when it sees the revert (its kind's release); this also catches one whose release a crash interrupted
 * after the revert was stored. (A dropped transaction is the monitor's alone: it re-signs it under a new nonce and
 * moves the edition or batch onto the new transaction, as for every operation.)
 *
 * An airdrop batch sent without its own estimate (airdrop.ts) is handed back instead, when nothing of its airdrop
 * after it was minted: it and the reverted batches behind it are FAILED, the airdrop's progress goes back to its
 * start, and `handedBack` is told its edition (whose next batches are then estimated). The estimate then finds what
 * made it revert and fails the airdrop naming it, as it would have before the batch was sent, or it is sent again.
 * With a batch behind it minted, its items could only be minted out of order: it fails its airdrop as any other.
 */
export async function failReverted(deps: Deps, handedBack: (editionId: string) => void = () => {}): Promise<void> {
  const { db } = deps;
  const submitted = await db
    .select({ edition: editions, tx: chainTxs })
    .from(editions)
    .innerJoin(chainTxs, eq(chainTxs.id, editions.chainTxId))
    .where(and(eq(editions.status, "SUBMITTED"), eq(chainTxs.status, "REVERTED")));
  for (const { edition, tx } of submitted) await failEdition(deps.pipeline, edition.id, ["SUBMITTED"], `transaction ${tx.txHash} reverted`);
  const batches = await db
    .select({ batch: editionMintBatches, tx: chainTxs, op: editionOperations })
    .from(editionMintBatches)
    .innerJoin(chainTxs, eq(chainTxs.id, editionMintBatches.chainTxId))
    .innerJoin(editionOperations, eq(editionOperations.id, editionMintBatches.operationId))
    .where(and(eq(editionMintBatches.status, "SUBMITTED"), eq(chainTxs.status, "REVERTED")))
    .orderBy(asc(editionMintBatches.start));
  // An airdrop's batches sent behind it (several are in flight at once) settle first: the items given back are then
  // exactly those not minted. (A release sends one batch at a time.)
  const airdrops = batches.filter((b) => b.op.kind !== "RELEASE");
  const waiting = airdrops.length
    ? await db
        .selectDistinct({ operationId: editionMintBatches.operationId })
        .from(editionMintBatches)
        .innerJoin(chainTxs, eq(chainTxs.id, editionMintBatches.chainTxId))
        .where(and(inArray(editionMintBatches.operationId, airdrops.map((b) => b.op.id)), eq(editionMintBatches.status, "SUBMITTED"), ne(chainTxs.status, "REVERTED")))
    : [];
  const settling = new Set(waiting.map((w) => w.operationId));
  // Operations whose reverted batches were handed back from their first one (in order of start) on.
  const handed = new Set<string>();
  for (const { batch, tx, op } of batches) {
    if (settling.has(op.id) || handed.has(op.id)) continue;
    if (op.kind === "AIRDROP" && tx.purpose.endsWith(UNESTIMATED) && (await handBack(deps, op, batch.start))) {
      handed.add(op.id);
      handedBack(op.editionId);
      continue;
    }
    const also = (t: DbTransaction) => t.update(editionMintBatches).set({ status: "FAILED", updatedAt: new Date() }).where(eq(editionMintBatches.id, batch.id));
    if (op.kind === "RELEASE") {
      // The release reads again what is left in custody and sends that: an item moved meanwhile is no longer named.
      await db.update(editionMintBatches).set({ status: "FAILED", updatedAt: new Date() }).where(eq(editionMintBatches.id, batch.id));
      continue;
    }
    // A claim's redeemFor reverts when the holder claimed the code's voucher on chain meanwhile: that claim
    // minted the item the code reserved, so the reservation stays taken.
    const claimedOnChain = op.kind === "CLAIM" && (await voucherSpent(deps, op));
    if (claimedOnChain) await failOperation(deps.pipeline, op, VOUCHER_REDEEMED_ON_CHAIN, { keepReservation: true, also });
    else await failOperation(deps.pipeline, op, `airdrop transaction ${tx.txHash} reverted`, { also });
  }
}

/**
 * Hands back an airdrop's batches from `start` on, all reverted (its batches settled), in one transaction: FAILED,
 * and the operation's progress back at `start`, so its next batch starts there. False, changing nothing, when a
 * batch from `start` on minted its items, or the operation is no longer open.
 */
async function handBack(deps: Deps, op: EditionOperationRow, start: number): Promise<boolean> {
  return deps.db.transaction(async (tx) => {
    const [open] = await tx
      .select({ id: editionOperations.id })
      .from(editionOperations)
      .where(and(eq(editionOperations.id, op.id), inArray(editionOperations.status, ["QUEUED", "SUBMITTED"])))
      .for("update");
    if (!open) return false;
    const after = await tx
      .select({ id: editionMintBatches.id, status: editionMintBatches.status, txStatus: chainTxs.status })
      .from(editionMintBatches)
      .innerJoin(chainTxs, eq(chainTxs.id, editionMintBatches.chainTxId))
      .where(and(eq(editionMintBatches.operationId, op.id), gte(editionMintBatches.start, start), ne(editionMintBatches.status, "FAILED")));
    if (after.some((b) => b.txStatus !== "REVERTED")) return false;
    await tx.update(editionMintBatches).set({ status: "FAILED", updatedAt: new Date() }).where(inArray(editionMintBatches.id, after.map((b) => b.id)));
    await tx.update(editionOperations).set({ sent: start, updatedAt: new Date() }).where(eq(editionOperations.id, op.id));
    return true;
  });
}

/** Whether a claim operation's code has its voucher spent on chain (its own redeemFor having reverted: by a claim). */
async function voucherSpent(deps: Deps, op: EditionOperationRow): Promise<boolean> {
  if (!op.claimCodeId) return false;
  const [row] = await deps.db
    .select({ voucherCode: claimCodes.voucherCode, contract: editionContracts.contractAddress })
    .from(claimCodes)
    .innerJoin(editions, eq(editions.id, claimCodes.editionId))
    .innerJoin(editionContracts, eq(editionContracts.id, editions.contractId))
    .where(eq(claimCodes.id, op.claimCodeId));
  if (!row) return false;
  return (await new Contract(row.contract, collectibleEditionsInterface(), deps.provider).voucherUsed!(row.voucherCode)) as boolean;
}
