import { and, asc, eq, isNull } from "drizzle-orm";
import { claimRow, sendOperation } from "../../core/chain/send-operation.ts";
import { isRevert } from "../../core/chain/contract-errors.ts";
import type { SenderRotation } from "../../core/chain/sender-rotation.ts";
import { editions } from "../../core/db/schema.ts";
import { collectibleEditionsInterface } from "../../core/editions/abi.ts";
import { policyIndex } from "../../core/editions/transfer-policy.ts";
import type { Pipeline } from "../../core/operations/context.ts";
import { transition } from "../../core/operations/transitions.ts";
import type { WorkerDeps } from "../deps.ts";
import { NoDeployerError, type EditionContractRow, type EditionContracts } from "./deploy-contract.ts";
import { contractRefusal, failEdition } from "./failures.ts";

/**
 * PINNED → SUBMITTED: createEdition on the institution's contract, signed and stored by a nonce-managed sender,
 * then broadcast. An institution without a contract has its creation sent first (deploy-contract.ts); its editions
 * wait in PINNED, without holding up the tick, until the creation is mined. The contract refusing it fails the edition.
 */
export async function createPinnedEditions(
  deps: Pick<WorkerDeps, "db" | "provider" | "logger"> & { pipeline: Pipeline },
  rotation: SenderRotation,
  contracts: EditionContracts,
): Promise<void> {
  const { db, pipeline } = deps;
  const pinned = await db
    .select()
    .from(editions)
    .where(and(eq(editions.status, "PINNED"), isNull(editions.chainTxId)))
    .orderBy(asc(editions.updatedAt))
    .limit(10);
  for (const edition of pinned) {
    let contract: EditionContractRow | undefined;
    try {
      contract = await contracts.contractFor(edition.institutionId);
    } catch (err) {
      if (err instanceof NoDeployerError) {
        await failEdition(pipeline, edition.id, ["PINNED"], err.message);
        continue;
      }
      throw err;
    }
    // The institution's contract is being created: the edition stays PINNED until it is mined.
    if (!contract) continue;
    const sender = await rotation.pick();
    if (!sender) return;
    const data = collectibleEditionsInterface().encodeFunctionData("createEdition", [
      edition.name,
      `ipfs://${edition.metadataCid}`,
      edition.maxSupply,
      policyIndex(edition.transferPolicy),
      edition.lockupSeconds,
      edition.maxGifts,
    ]);
    const call = { to: contract.contractAddress, data, purpose: `editions:create:${edition.id}` };
    await pipeline.afterCommit((within) =>
      sendOperation(deps, sender, call, {
        claim: (tx) => claimRow(tx, editions, edition.id, ["PINNED"]),
        record: async (tx, stored) => {
          await transition(within(tx), "edition", edition.id, ["PINNED"], "SUBMITTED", { contractId: contract.id, chainTxId: stored.id, txHash: stored.txHash });
        },
        refused: async (err) => {
          const refusal = contractRefusal(err);
          if (!refusal && !isRevert(err)) return false;
          await failEdition(pipeline, edition.id, ["PINNED"], `rejected by the contract: ${refusal ?? "reverted"}`);
          return true;
        },
      }),
    );
  }
}
