import { and, asc, eq, inArray, lt, ne } from "drizzle-orm";
import { decodeContractError, isRevert } from "../../core/chain/contract-errors.ts";
import { sendOperation } from "../../core/chain/send-operation.ts";
import { gasLimitFor } from "../../core/chain/tx-sender.ts";
import type { SenderRotation } from "../../core/chain/sender-rotation.ts";
import { claimCodes, custodialHolders, editionContracts, editionMintBatches, editionOperations, editions } from "../../core/db/schema.ts";
import type { Database } from "../../core/db/index.ts";
import { collectibleEditionsInterface } from "../../core/editions/abi.ts";
import type { Pipeline } from "../../core/operations/context.ts";
import { transition } from "../../core/operations/transitions.ts";
import type { WorkerDeps } from "../deps.ts";
import { contractRefusal, failOperation, VOUCHER_REDEEMED_ON_CHAIN } from "./failures.ts";

/** The first batch an airdrop tries; halved while its gas exceeds the per-transaction cap. */
export const FIRST_BATCH = 1_000;

/**
 * Sends the next batch of each airdrop (or redeemed claim) whose edition is on chain and has no batch in flight:
 * one batch of an edition at a time, so serials follow the holders' order. A batch is as many holders as fit under
 * the per-transaction gas cap; `batchSizes` keeps, per edition, the size the cap allowed, so later batches start
 * there. The batch row and the operation's progress are stored with the signed transaction, before it is broadcast.
 */
export async function sendAirdropBatches(
  deps: Pick<WorkerDeps, "db" | "provider" | "logger" | "config"> & { pipeline: Pipeline },
  rotation: SenderRotation,
  batchSizes: Map<string, number>,
): Promise<void> {
  const { db, provider, logger, config, pipeline } = deps;
  const open = await db
    .select({ op: editionOperations, edition: editions, contract: editionContracts })
    .from(editionOperations)
    .innerJoin(editions, eq(editions.id, editionOperations.editionId))
    .leftJoin(editionContracts, eq(editionContracts.id, editions.contractId))
    .where(and(ne(editionOperations.kind, "RELEASE"), inArray(editionOperations.status, ["QUEUED", "SUBMITTED"]), lt(editionOperations.sent, editionOperations.total)))
    .orderBy(asc(editionOperations.createdAt))
    .limit(50);
  const busy = new Set<string>();
  if (open.length) {
    const inFlight = await db
      .selectDistinct({ editionId: editionOperations.editionId })
      .from(editionMintBatches)
      .innerJoin(editionOperations, eq(editionOperations.id, editionMintBatches.operationId))
      .where(eq(editionMintBatches.status, "SUBMITTED"));
    for (const r of inFlight) busy.add(r.editionId);
  }
  const iface = collectibleEditionsInterface();
  for (const { op, edition, contract } of open) {
    if (edition.status === "FAILED") {
      await failOperation(pipeline, op, "the edition was never created on chain");
      continue;
    }
    if (busy.has(edition.id) || edition.status !== "CONFIRMED" || !contract || !edition.chainEditionId) continue;
    busy.add(edition.id);
    // A claim code redeemed through the API spends its voucher on chain in the same call (redeemFor), so the
    // voucher cannot mint a second item, and a voucher already claimed on chain makes the call revert.
    const voucherCode = op.kind === "CLAIM" && op.claimCodeId ? (await db.select().from(claimCodes).where(eq(claimCodes.id, op.claimCodeId)))[0]?.voucherCode : undefined;
    if (op.kind === "CLAIM" && !voucherCode) {
      // Never an airdrop in its place: that would leave the code's voucher able to mint a second item.
      await failOperation(pipeline, op, "the claim's code is missing");
      continue;
    }
    const sender = await rotation.pick();
    if (!sender) return;
    const cap = BigInt(config.chain.txGasCap);
    let size = Math.min(op.total - op.sent, batchSizes.get(edition.id) ?? FIRST_BATCH);
    let holders: string[] = [];
    let data = "0x";
    let gas = 0n;
    // A batch is a run of holders of one kind: wallets (airdrop) or custodial accounts (airdropToCustody), as the
    // custodial accounts say when the batch is sent.
    const accounts = await custodialAccountsOf(db, op.holders.slice(op.sent, op.sent + size));
    const custodial = accounts.custodial.has(op.holders[op.sent]!);
    const run = op.holders.slice(op.sent, op.sent + size).findIndex((h) => accounts.custodial.has(h) !== custodial);
    if (run > 0) size = run;
    try {
      for (;;) {
        holders = op.holders.slice(op.sent, op.sent + size).map((h) => accounts.claimed.get(h) ?? h);
        const chainEditionId = BigInt(edition.chainEditionId);
        data = voucherCode
          ? iface.encodeFunctionData(custodial ? "redeemForCustody" : "redeemFor", [chainEditionId, voucherCode, holders[0]])
          : iface.encodeFunctionData(custodial ? "airdropToCustody" : "airdrop", [chainEditionId, holders]);
        try {
          gas = await provider.estimateGas({ from: sender.address, to: contract.contractAddress, data });
        } catch (err) {
          // A batch too large for a block runs out of gas in the estimate: a revert with no error of the contract's.
          // Halved until it fits; a named refusal, or one holder refused, is the contract's verdict.
          if (size === 1 || contractRefusal(err) || !isRevert(err)) throw err;
          size = Math.ceil(size / 2);
          batchSizes.set(edition.id, size);
          continue;
        }
        if (gasLimitFor(gas) <= cap || size === 1) break;
        // Proportionally smaller, with a tenth to spare: the cost per item is nearly constant.
        size = Math.max(1, Math.min(Math.ceil(size / 2), Math.floor((size * Number(cap)) / Number(gasLimitFor(gas)) * 0.9)));
        batchSizes.set(edition.id, size);
      }
    } catch (err) {
      if (decodeContractError(err, iface)?.name === "VoucherAlreadyUsed") {
        // Claimed on chain with the voucher first: that claim minted the item the code reserved.
        await failOperation(pipeline, op, VOUCHER_REDEEMED_ON_CHAIN, { keepReservation: true });
        continue;
      }
      const refusal = contractRefusal(err);
      if (!refusal && !isRevert(err)) throw err;
      await failOperation(pipeline, op, `rejected by the contract: ${refusal ?? "reverted"}`);
      continue;
    }
    const start = op.sent;
    let firstBatch = false;
    // The estimate above sized the batch, so it is handed on rather than made again; the claim is on `sent` (the
    // batch's start), not on a transaction-less row: an airdrop has one transaction per batch.
    const call = { to: contract.contractAddress, data, purpose: `editions:airdrop:${op.id}:${start}`, gasLimit: gasLimitFor(gas) };
    await pipeline.afterCommit((within) =>
      sendOperation(deps, sender, call, {
        async claim(tx) {
          const [claimed] = await tx
            .select({ id: editionOperations.id, status: editionOperations.status })
            .from(editionOperations)
            .where(and(eq(editionOperations.id, op.id), eq(editionOperations.sent, start), inArray(editionOperations.status, ["QUEUED", "SUBMITTED"])))
            .for("update", { skipLocked: true });
          if (!claimed) return false;
          firstBatch = claimed.status === "QUEUED";
          return true;
        },
        async record(tx, stored) {
          await tx.insert(editionMintBatches).values({ operationId: op.id, start, count: holders.length, chainTxId: stored.id, txHash: stored.txHash });
          logger.info({ editionOperationId: op.id, kind: op.kind, start, count: holders.length, txHash: stored.txHash }, "edition airdrop batch SUBMITTED");
          // The operation enters SUBMITTED with its first batch; later batches are progress (how many holders were
          // sent), told as their items are minted.
          const sent = start + holders.length;
          if (firstBatch) await transition(within(tx), "editionOperation", op.id, ["QUEUED"], "SUBMITTED", { sent }, { txHash: stored.txHash });
          else await tx.update(editionOperations).set({ sent, updatedAt: new Date() }).where(eq(editionOperations.id, op.id));
        },
        // Estimated above: never asked.
        refused: async () => false,
      }),
    );
  }
}

/**
 * Which of `holders` are custodial accounts still in custody, and the wallet each claimed one was claimed to: an
 * airdrop accepted just before its holder claimed names the account, and its item then goes to the wallet instead
 * (minted as any wallet's), never into an account already emptied.
 */
async function custodialAccountsOf(db: Database, holders: string[]): Promise<{ custodial: Set<string>; claimed: Map<string, string> }> {
  const unique = [...new Set(holders)];
  const rows = unique.length
    ? await db.select({ address: custodialHolders.custodialAddress, claimedAddress: custodialHolders.claimedAddress }).from(custodialHolders).where(inArray(custodialHolders.custodialAddress, unique))
    : [];
  const custodial = new Set(rows.filter((r) => !r.claimedAddress).map((r) => r.address));
  const claimed = new Map(rows.filter((r) => r.claimedAddress).map((r) => [r.address, r.claimedAddress!]));
  return { custodial, claimed };
}
