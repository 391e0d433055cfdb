import { and, eq, isNull } from "drizzle-orm";
import { contractOf, CreationRevertedError } from "../core/chain/contract-creation.ts";
import { decodeAdminError, issuerRegistryAt, issuerRegistryInterface } from "../core/chain/issuer-registry.ts";
import { describeContractError } from "../core/chain/contract-errors.ts";
import { sendOperation } from "../core/chain/send-operation.ts";
import { chainTxs, collections, institutions } from "../core/db/schema.ts";
import type { Collection } from "../core/operations/collections.ts";
import { transition } from "../core/operations/transitions.ts";
import { ChainConfirmer } from "./chain-confirmer.ts";
import type { WorkerDeps } from "./deps.ts";
import { failCollection } from "./processors/deploy-collection.ts";
import { issuerRegistryOf } from "./processors/operator-request.ts";

type ChainTx = typeof chainTxs.$inferSelect;

/**
 * Carries a SUBMITTED collection to CONFIRMED | FAILED, from the chain, in two steps, each once its transaction is
 * mined and deep enough:
 * 1. its contract's creation: the contract the MINED creation made is recorded (a creation dropped and re-sent
 *    under another nonce lands elsewhere; the collection follows its `chainTxId`), and its binding to the
 *    institution in the issuer registry is signed and stored in the same database transaction, with the admin key;
 * 2. that binding: the registry is read back, and the collection is CONFIRMED when it names the institution.
 * From then on the indexer follows the contract (a CONFIRMED certificate registry) and certificates may be issued
 * into it. A reverted transaction fails the collection.
 */
export class CollectionStage extends ChainConfirmer {
  constructor(deps: WorkerDeps) {
    super("collection stage", deps);
  }

  async tick(): Promise<void> {
    const { db, provider, config } = this.deps;
    const rows = await db
      .select({ collection: collections, tx: chainTxs })
      .from(collections)
      .innerJoin(chainTxs, eq(chainTxs.id, collections.chainTxId))
      .where(eq(collections.status, "SUBMITTED"));
    if (!rows.length) return;
    const head = await provider.getBlockNumber();
    for (const { collection, tx } of rows) {
      const step = collection.contractAddress ? "binding" : "creation";
      if (tx.status === "REVERTED") {
        await failCollection(this.deps, collection.id, ["SUBMITTED"], `its contract's ${step} ${tx.txHash} reverted`);
      } else if (tx.status === "MINED" && tx.blockNumber != null && head - tx.blockNumber >= config.chain.confirmations) {
        if (step === "creation") await this.bind(collection, tx);
        else await this.confirm(collection, tx);
      }
    }
  }

  /** Records the contract the mined creation made, and signs and stores its binding to the institution. */
  private async bind(collection: Collection, creation: ChainTx): Promise<void> {
    const { db, provider } = this.deps;
    let created: { address: string; blockNumber: number } | undefined;
    try {
      created = await contractOf(provider, creation);
    } catch (err) {
      if (!(err instanceof CreationRevertedError)) throw err;
      await failCollection(this.deps, collection.id, ["SUBMITTED"], `its contract's creation ${creation.txHash} reverted`);
      return;
    }
    // The monitor saw it mined; a node that lost the receipt since is asked again on the next round.
    if (!created) return;
    const deployed = { contractAddress: created.address, deployBlock: created.blockNumber, deployTxHash: creation.txHash };
    const [institution] = await db.select().from(institutions).where(eq(institutions.id, collection.institutionId));
    const sender = this.deps.adminSender;
    const registry = issuerRegistryOf(this.deps);
    if (!sender || !registry || !institution?.chainInstitutionId) {
      const why = !institution?.chainInstitutionId ? "the institution is not registered on chain" : "no admin key or issuer registry is configured";
      await failCollection(this.deps, collection.id, ["SUBMITTED"], `its contract ${created.address} was created but cannot be bound: ${why}`, deployed);
      return;
    }
    const data = issuerRegistryInterface().encodeFunctionData("bindAccount", [BigInt(institution.chainInstitutionId), created.address]);
    await this.pipeline.afterCommit((within) =>
      sendOperation(this.deps, sender, { to: registry, data, purpose: `collection:bind:${collection.id}` }, {
        // Only while the creation is still the transaction under way: the binding is signed once.
        claim: async (tx) =>
          (
            await tx
              .select({ id: collections.id })
              .from(collections)
              .where(and(eq(collections.id, collection.id), eq(collections.status, "SUBMITTED"), eq(collections.chainTxId, creation.id), isNull(collections.contractAddress)))
              .for("update", { skipLocked: true })
          ).length > 0,
        record: async (tx, stored) => {
          // Still SUBMITTED: the contract is told now, its confirmation once the binding is read back.
          await transition(within(tx), "collection", collection.id, ["SUBMITTED"], "SUBMITTED", { ...deployed, chainTxId: stored.id, txHash: stored.txHash });
        },
        refused: async (err) => {
          const decoded = decodeAdminError(err);
          if (!decoded) return false;
          await failCollection(this.deps, collection.id, ["SUBMITTED"], `its contract ${created.address} was created, but the issuer registry refused to bind it: ${describeContractError(decoded)}`, deployed);
          return true;
        },
      }),
    );
  }

  /** CONFIRMED once the issuer registry binds the contract to the institution. */
  private async confirm(collection: Collection, binding: ChainTx): Promise<void> {
    const { db, provider } = this.deps;
    const [institution] = await db.select().from(institutions).where(eq(institutions.id, collection.institutionId));
    const bound = (await issuerRegistryAt(issuerRegistryOf(this.deps)!, provider).institutionOf(collection.contractAddress!)) as bigint;
    if (bound.toString() !== institution?.chainInstitutionId) {
      await failCollection(this.deps, collection.id, ["SUBMITTED"], `binding ${binding.txHash} was mined, but the issuer registry binds the contract to institution ${bound} now`);
      return;
    }
    await this.pipeline.transaction((ctx) => transition(ctx, "collection", collection.id, ["SUBMITTED"], "CONFIRMED", { error: null }));
  }
}
