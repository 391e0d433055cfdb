import { and, eq, inArray, ne } from "drizzle-orm";
import { Contract } from "ethers";
import type { DbTransaction } from "../../core/db/index.ts";
import { chainTxs, claimCodes, editionContracts, editionMintBatches, editionOperations, editions } from "../../core/db/schema.ts";
import { collectibleEditionsInterface } from "../../core/editions/abi.ts";
import type { EditionOperationRow } from "../../core/editions/operations.ts";
import type { Pipeline } from "../../core/operations/context.ts";
import type { WorkerDeps } from "../deps.ts";
import { failEdition, failOperation, VOUCHER_REDEEMED_ON_CHAIN } from "./failures.ts";

type Deps = Pick<WorkerDeps, "db" | "provider"> & { pipeline: Pipeline };

/**
 * A reverted transaction fails its airdrop batch and that batch's operation (the kinds registry leaves airdrops to
 * this stage: a claim's voucher may have been spent meanwhile), and its edition. The transaction monitor fails an
 * edition when it sees the revert (its kind's release); this also catches one whose release a crash interrupted
 * after the revert was stored. (A dropped transaction is the monitor's alone: it re-signs it under a new nonce and
 * moves the edition or batch onto the new transaction, as for every operation.)
 */
export async function failReverted(deps: Deps): Promise<void> {
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
    .where(and(eq(editionMintBatches.status, "SUBMITTED"), eq(chainTxs.status, "REVERTED")));
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
  for (const { batch, tx, op } of batches) {
    if (settling.has(op.id)) continue;
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
