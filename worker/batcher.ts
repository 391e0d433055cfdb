import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import { encodeIssueBatch } from "../core/chain/calldata.ts";
import { decodeRegistryError, validUntilSeconds, type IssueRequest } from "../core/chain/certificate-registry.ts";
import { describeContractError } from "../core/chain/contract-errors.ts";
import { faultPoint } from "../core/chain/faults.ts";
import { gasLimitFor } from "../core/chain/tx-sender.ts";
import { isRevert } from "../core/chain/contract-errors.ts";
import { SenderRotation } from "../core/chain/sender-rotation.ts";
import type { TxSender } from "../core/chain/tx-sender.ts";
import { collections, issuances } from "../core/db/schema.ts";
import { isDeployed, type DeployedCollection } from "../core/operations/collections.ts";
import { transitionMany } from "../core/operations/transitions.ts";
import { PollLoop } from "../core/poll-loop.ts";
import { pipelineOf, type WorkerDeps } from "./deps.ts";
import type { Pipeline } from "../core/operations/context.ts";

type Collection = DeployedCollection;

/** What the batcher reads of a pinned issuance: only what goes into the call (not the whole row and its document). */
const candidateColumns = {
  id: issuances.id,
  recipient: issuances.recipient,
  digest: issuances.digest,
  updatedAt: issuances.updatedAt,
  /** The document's `validUntil` (ISO-8601), as `CertificateFields` has it. */
  validUntil: sql<string | null>`${issuances.document}->>'validUntil'`,
  /** Handed back by the transaction monitor after a revert (it notes why): such a batch is always estimated. */
  handedBack: sql<boolean>`${issuances.error} is not null`,
};
type Issuance = {
  id: string;
  recipient: string;
  digest: string | null;
  updatedAt: Date;
  validUntil: string | null;
  handedBack: boolean;
};

/**
 * Gas a certificate may cost beyond the most a certificate has cost in an estimate: its holder's first token (a
 * balance slot written from zero) where the estimated ones went to holders already holding one, with room to spare.
 */
const PER_ITEM_ALLOWANCE = 25_000n;
/** Batches smaller than this teach nothing about the gas a certificate costs: the transaction's own cost dominates. */
const MIN_LEARNING_BATCH = 10;

/** Node messages meaning the call needs more gas than a block (or the node's cap) allows. */
const OUT_OF_GAS = /out of gas|gas required exceeds|exceeds block gas limit|gas limit reached|allowance/i;

/** Contract errors naming a holder the registry will never accept. */
const HOLDER_ERRORS = new Set(["HolderInvalid", "ERC721InvalidReceiver"]);

function toRequest(i: Issuance): IssueRequest {
  return { digest: i.digest!, holder: i.recipient, validUntil: validUntilSeconds(i.validUntil) };
}

/**
 * Coalesces pinned issuances of each registry into `issueBatch` transactions: a batch leaves when it is full or
 * its oldest issuance has waited the batch window. Poison items are found by estimation before any nonce is
 * taken, failed on their own, and never hold back the rest.
 */
export class IssuanceBatcher {
  private readonly deps: WorkerDeps;
  private readonly rotation: SenderRotation;
  private readonly loop: PollLoop;
  /** Largest batch per registry known to fit in a block (learned by halving). */
  private readonly learnedCap = new Map<string, number>();
  /** Per registry, the most gas one certificate has cost in an estimate of a batch (the estimate divided by its size). */
  private readonly gasPerItem = new Map<string, bigint>();
  private gasLimitCache?: { value: bigint; at: number };
  /** Collections by id: the fields the batcher uses (chain, contract address) never change. */
  private readonly collections = new Map<string, Collection>();
  /**
   * The collections last found with pinned issuances, kept while ticks keep sending batches (for at most a second):
   * under a backlog, finding them scans every pinned row, and the answer does not change from one batch to the next.
   */
  private busy?: { collectionIds: string[]; at: number };
  /** Each key's broadcasts, one after another in nonce order, while the next batch is being prepared. */
  private readonly broadcasts = new Map<TxSender, Promise<void>>();
  private readonly pipeline: Pipeline;

  constructor(deps: WorkerDeps, senders: TxSender[]) {
    this.deps = deps;
    this.pipeline = pipelineOf(deps);
    this.rotation = new SenderRotation(senders);
    this.loop = new PollLoop("batcher", async () => (await this.tick()) > 0, { idleMs: 50, logger: deps.logger });
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await Promise.all(this.broadcasts.values());
  }

  /** Sends at most one batch per registry; returns how many issuances it sent. */
  async tick(): Promise<number> {
    const { db, config } = this.deps;
    let pending = this.busy && Date.now() - this.busy.at < 1_000 ? this.busy : undefined;
    if (!pending) {
      const rows = await db
        .selectDistinct({ collectionId: issuances.collectionId })
        .from(issuances)
        .where(and(eq(issuances.status, "PINNED"), isNull(issuances.chainTxId)));
      pending = { collectionIds: rows.map((r) => r.collectionId), at: Date.now() };
    }
    let sent = 0;
    for (const collectionId of pending.collectionIds) {
      const collection = await this.collection(collectionId);
      if (!collection || collection.chainId !== config.chain.chainId) continue;
      sent += await this.sendBatch(collection);
    }
    this.busy = sent > 0 ? pending : undefined;
    return sent;
  }

  private async collection(id: string): Promise<Collection | undefined> {
    let collection = this.collections.get(id);
    if (!collection) {
      const [row] = await this.deps.db.select().from(collections).where(eq(collections.id, id));
      // Issuances are accepted only into deployed collections.
      collection = row && isDeployed(row) ? row : undefined;
      if (collection) this.collections.set(id, collection);
    }
    return collection;
  }

  private async sendBatch(collection: Collection): Promise<number> {
    const { db, config, logger } = this.deps;
    // The key first: while its room in flight is taken (it frees as the monitor records receipts), no rows are read.
    const sender = await this.rotation.pick();
    if (!sender) return 0;
    const candidates = await db
      .select(candidateColumns)
      .from(issuances)
      .where(and(eq(issuances.collectionId, collection.id), eq(issuances.status, "PINNED"), isNull(issuances.chainTxId)))
      .orderBy(asc(issuances.updatedAt))
      .limit(config.batch.size);
    if (!candidates.length) return 0;
    const oldestWait = Date.now() - candidates[0]!.updatedAt.getTime();
    if (candidates.length < config.batch.size && oldestWait < config.batch.windowMs) return 0;

    // The fees are asked for while the batch is estimated: they do not depend on it.
    const fees = sender.fees();
    fees.catch(() => {});
    const { items, gas, data } = await this.sendable(collection, sender, candidates);
    if (!items.length) return 0;
    const chainTx = await this.pipeline.afterCommit((within) => sender.prepare(
      async (tx) => {
        // Claim under lock: another worker may have taken some of these since they were read.
        const claimed = await tx
          .select({ id: issuances.id })
          .from(issuances)
          .where(and(inArray(issuances.id, items.map((i) => i.id)), eq(issuances.status, "PINNED"), isNull(issuances.chainTxId)))
          .for("update", { skipLocked: true });
        const ids = new Set(claimed.map((c) => c.id));
        const batch = items.filter((i) => ids.has(i.id));
        if (!batch.length) return undefined;
        // Usually every item was claimed and the calldata estimated is the calldata sent.
        const calldata = batch.length === items.length ? data : encodeIssueBatch(batch.map(toRequest));
        items.splice(0, items.length, ...batch);
        return {
          to: collection.contractAddress,
          data: calldata,
          purpose: `issueBatch:${batch.length}`,
          // The estimate covered a superset of this batch: a safe upper bound.
          gasLimit: gasLimitFor(gas),
        };
      },
      async (tx, stored) => {
        await transitionMany(within(tx), "issuance", items.map((i) => i.id), ["PINNED"], "SUBMITTED", {
          chainTxId: stored.id,
          txHash: stored.txHash,
        });
      },
      { fees },
    ));
    if (!chainTx) return 0;
    faultPoint("after-commit");
    // Best effort: the transaction monitor re-broadcasts whatever is still only SIGNED. Not waited for: the node
    // mines (or takes in) this one while the next batch is read, estimated and signed; the key's broadcasts stay in
    // nonce order, each sent once the one before it is answered.
    const previous = this.broadcasts.get(sender) ?? Promise.resolve();
    const broadcast = previous
      .then(() => sender.broadcast(chainTx))
      .catch((err) => logger.warn({ txHash: chainTx.txHash, err: String(err) }, "broadcast failed; will retry"));
    this.broadcasts.set(sender, broadcast);
    void broadcast.finally(() => {
      if (this.broadcasts.get(sender) === broadcast) this.broadcasts.delete(sender);
    });
    return items.length;
  }

  /**
   * The largest prefix-free subset of `candidates` the contract accepts, with its gas estimate: items the
   * contract rejects are failed (holder errors) or set aside to the indexer (document already minted), and an
   * error that names no item is narrowed down by halving.
   *
   * Once an estimate of this registry has said what a certificate costs, a batch whose answer is known is not
   * estimated again: estimating executes the whole batch (EDR runs it twice, once to measure and once to check the
   * measure), and the mined transaction executes it once more. The answer is known when no item was ever handed
   * back and no holder is the zero address, the one holder the contract refuses (there is no receiver hook, so a
   * contract holder cannot refuse a token); a batch naming it is still estimated, so the refusal takes no nonce. The
   * gas limit is then an upper bound from that cost. A batch sent so that reverts all the same (a document already
   * minted) is handed back by the transaction monitor, once, and its items are then estimated here, which isolates
   * the cause as before.
   */
  private async sendable(collection: Collection, sender: TxSender, candidates: Issuance[]): Promise<{ items: Issuance[]; gas: bigint; data: string }> {
    const { provider, db, logger } = this.deps;
    let data = "0x";
    // Straight to eth_estimateGas: provider.estimateGas would copy the calldata through hex twice more. Errors come
    // back the same (ethers' getRpcError shapes both), so contract errors decode as before.
    const estimate = async (batch: Issuance[]) => {
      data = encodeIssueBatch(batch.map(toRequest));
      return BigInt(await provider.send("eth_estimateGas", [{ from: sender.address.toLowerCase(), to: collection.contractAddress.toLowerCase(), data }]));
    };
    const blockGas = await this.blockGasLimit();
    const ceiling = BigInt(this.deps.config.chain.txGasCap);
    let items = candidates.slice(0, this.learnedCap.get(collection.id) ?? candidates.length);
    const perItem = this.gasPerItem.get(collection.id);
    if (perItem !== undefined && !items.some((i) => i.handedBack) && items.every((i) => BigInt(i.recipient) !== 0n)) {
      const gas = (perItem + PER_ITEM_ALLOWANCE) * BigInt(items.length);
      if (gas <= (blockGas * 8n) / 10n && gasLimitFor(gas) <= ceiling) {
        return { items, gas, data: encodeIssueBatch(items.map(toRequest)) };
      }
    }
    const shrink = () => {
      items = items.slice(0, Math.ceil(items.length / 2));
      this.learnedCap.set(collection.id, items.length);
      logger.debug({ collection: collection.id, size: items.length }, "batch too large for a block; halving");
    };
    for (;;) {
      if (!items.length) return { items, gas: 0n, data };
      try {
        const gas = await estimate(items);
        // Leave room in the block (a transaction near the block gas limit may wait forever to be included), and
        // stay under the per-transaction cap, or the node refuses the transaction outright.
        if ((gas > (blockGas * 8n) / 10n || gasLimitFor(gas) > ceiling) && items.length > 1) {
          shrink();
          continue;
        }
        if (items.length >= MIN_LEARNING_BATCH) {
          const cost = (gas + BigInt(items.length) - 1n) / BigInt(items.length);
          if (cost > (this.gasPerItem.get(collection.id) ?? 0n)) this.gasPerItem.set(collection.id, cost);
        }
        return { items, gas, data };
      } catch (err) {
        const decoded = decodeRegistryError(err);
        if (!decoded && !isRevert(err)) {
          if (OUT_OF_GAS.test(String((err as Error).message)) && items.length > 1) {
            shrink();
            continue;
          }
          // Not a contract verdict (node down, timeout): the same batch is tried again on a later tick.
          throw err;
        }
        if (decoded?.name === "RequestAlreadyUsed") {
          // Named by its document digest (the token id), which names the request id.
          const minted = items.filter((i) => i.digest?.toLowerCase() === String(decoded.args[0]).toLowerCase());
          // Already minted: the indexer confirms it from the event; it must not be sent again.
          await transitionMany(this.pipeline, "issuance", minted.map((c) => c.id), ["PINNED"], "SUBMITTED");
          items = items.filter((i) => !minted.includes(i));
          continue;
        }
        let culprits: Issuance[] = [];
        if (decoded && HOLDER_ERRORS.has(decoded.name)) {
          const holder = String(decoded.args[0]).toLowerCase();
          culprits = items.filter((i) => i.recipient.toLowerCase() === holder);
        }
        if (!culprits.length) culprits = items.length === 1 ? items : await this.narrow(items, estimate);
        const reason = decoded ? describeContractError(decoded) : "reverted";
        await transitionMany(this.pipeline, "issuance", culprits.map((c) => c.id), ["PINNED"], "FAILED", {
          error: `rejected by the contract: ${reason}`,
        });
        items = items.filter((i) => !culprits.includes(i));
      }
    }
  }

  private async blockGasLimit(): Promise<bigint> {
    if (!this.gasLimitCache || Date.now() - this.gasLimitCache.at > 60_000) {
      const block = await this.deps.provider.getBlock("latest");
      this.gasLimitCache = { value: block?.gasLimit ?? 30_000_000n, at: Date.now() };
    }
    return this.gasLimitCache.value;
  }

  /** Halves a failing batch until the one failing item is found. */
  private async narrow(items: Issuance[], estimate: (b: Issuance[]) => Promise<bigint>): Promise<Issuance[]> {
    let suspects = items;
    while (suspects.length > 1) {
      const half = suspects.slice(0, Math.ceil(suspects.length / 2));
      const ok = await estimate(half).then(
        () => true,
        (err) => {
          if (!isRevert(err)) throw err;
          return false;
        },
      );
      suspects = ok ? suspects.slice(half.length) : half;
    }
    return suspects;
  }
}
