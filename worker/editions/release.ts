import { and, asc, eq, inArray } from "drizzle-orm";
import { isRevert } from "../../core/chain/contract-errors.ts";
import { sendOperation } from "../../core/chain/send-operation.ts";
import { gasLimitFor } from "../../core/chain/tx-sender.ts";
import type { SenderRotation } from "../../core/chain/sender-rotation.ts";
import { editionContracts, editionMintBatches, editionOperations, editions } from "../../core/db/schema.ts";
import { collectibleEditionsInterface } from "../../core/editions/abi.ts";
import { itemsInCustody } from "../../core/editions/custody.ts";
import type { Pipeline } from "../../core/operations/context.ts";
import { transition } from "../../core/operations/transitions.ts";
import type { WorkerDeps } from "../deps.ts";
import { claimBatch, recordBatch } from "./batch-rows.ts";
import { contractRefusal, failOperation } from "./failures.ts";

/** Items one release transaction names at first; halved while its gas exceeds the per-transaction cap. */
const FIRST_RELEASE = 200;

/**
 * Moves the collectibles of claimed custodial accounts to their holders' wallets: for each RELEASE operation without a
 * transaction in flight, the items of its edition the account still holds in custody are read from the chain and
 * released (`releaseFromCustody(custodian, wallet, ids)`) through the crash-safe sender, the batch row stored with the
 * signed transaction. The indexer confirms each batch from its CustodyReleased events; once the chain shows nothing
 * left in custody, the operation is CONFIRMED. The chain, not the database, says what is left, so an item is never
 * named twice: a restart finds the stored transaction (re-broadcast by the monitor) or the items still in custody.
 */
export async function sendCustodyReleases(
  deps: Pick<WorkerDeps, "db" | "provider" | "logger" | "config"> & { pipeline: Pipeline },
  rotation: SenderRotation,
): Promise<void> {
  const { db, provider, logger, config, pipeline } = deps;
  const open = await db
    .select({ op: editionOperations, edition: editions, contract: editionContracts })
    .from(editionOperations)
    .innerJoin(editions, eq(editions.id, editionOperations.editionId))
    .innerJoin(editionContracts, eq(editionContracts.id, editions.contractId))
    .where(and(eq(editionOperations.kind, "RELEASE"), inArray(editionOperations.status, ["QUEUED", "SUBMITTED"])))
    .orderBy(asc(editionOperations.createdAt))
    .limit(50);
  if (!open.length) return;
  const inFlight = new Set(
    (
      await db
        .select({ id: editionMintBatches.operationId })
        .from(editionMintBatches)
        .where(and(inArray(editionMintBatches.operationId, open.map((o) => o.op.id)), eq(editionMintBatches.status, "SUBMITTED")))
    ).map((r) => r.id),
  );
  const iface = collectibleEditionsInterface();
  for (const { op, edition, contract } of open) {
    if (inFlight.has(op.id) || !edition.chainEditionId || !op.custodian) continue;
    const wallet = op.holders[0]!;
    const ids = await itemsInCustody(provider, { address: contract.contractAddress, fromBlock: contract.deployBlock }, BigInt(edition.chainEditionId), op.custodian);
    if (!ids.length) {
      // Nothing (left) in custody: every item the account received is the wallet's, or was never there to move.
      await pipeline.transaction((ctx) => transition(ctx, "editionOperation", op.id, ["QUEUED", "SUBMITTED"], "CONFIRMED", { total: op.minted }));
      continue;
    }
    const sender = await rotation.pick();
    if (!sender) return;
    const cap = BigInt(config.chain.txGasCap);
    let size = Math.min(ids.length, FIRST_RELEASE);
    let batch: bigint[] = [];
    let data = "0x";
    let gas = 0n;
    try {
      for (;;) {
        batch = ids.slice(0, size);
        data = iface.encodeFunctionData("releaseFromCustody", [op.custodian, wallet, batch]);
        gas = await provider.estimateGas({ from: sender.address, to: contract.contractAddress, data });
        if (gasLimitFor(gas) <= cap || size === 1) break;
        size = Math.max(1, Math.floor(size / 2));
      }
    } catch (err) {
      const refusal = contractRefusal(err);
      if (!refusal && !isRevert(err)) throw err;
      // Releases reserve nothing: nothing to give back.
      await failOperation(pipeline, op, `rejected by the contract: ${refusal ?? "reverted"}`, { keepReservation: true });
      continue;
    }
    const start = op.sent;
    let claimedAs: "QUEUED" | "SUBMITTED" | undefined;
    const call = { to: contract.contractAddress, data, purpose: `editions:release:${op.id}:${start}`, gasLimit: gasLimitFor(gas) };
    await pipeline.afterCommit((within) =>
      sendOperation(deps, sender, call, {
        async claim(tx) {
          claimedAs = await claimBatch(tx, op.id, start);
          return claimedAs !== undefined;
        },
        async record(tx, stored) {
          // More items in custody than expected (an address given as a holder that was a custodial account): the
          // total grows to all of them, so the operation is not confirmed before the last is released.
          const progress = { sent: start + batch.length, total: Math.max(op.total, start + ids.length) };
          await recordBatch(within(tx), tx, stored, { operationId: op.id, start, count: batch.length, claimedAs, progress });
          logger.info({ editionOperationId: op.id, kind: op.kind, count: batch.length, txHash: stored.txHash }, "custody release SUBMITTED");
        },
        refused: async () => false,
      }),
    );
  }
}
