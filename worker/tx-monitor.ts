import { eq } from "drizzle-orm";
import { Transaction } from "ethers";
import { SenderRotation } from "../core/chain/sender-rotation.ts";
import type { ChainTx, ChainTxHead, TxSender } from "../core/chain/tx-sender.ts";
import { chainTxs } from "../core/db/schema.ts";
import type { PgColumn } from "drizzle-orm/pg-core";
import { issuances } from "../core/db/schema.ts";
import type { Pipeline } from "../core/operations/context.ts";
import { CHAIN_TX_TABLES, OPERATION_KIND_NAMES, OPERATION_KINDS } from "../core/operations/kinds.ts";
import { transitionMany } from "../core/operations/transitions.ts";
import { PollLoop } from "../core/poll-loop.ts";
import { pipelineOf, type WorkerDeps } from "./deps.ts";

const REBROADCAST_AFTER_MS = 3_000;
/** How often a key out of rotation (it could not pay) has its balance looked at again. */
const FUNDS_RECHECK_MS = 15_000;

/**
 * Carries every stored transaction to an outcome, from the database alone, so a restarted worker finishes what a
 * crashed one began: SIGNED ones are broadcast, SENT ones re-broadcast while pending, mined ones recorded;
 * a reverted one releases its operations as each kind says (core/operations/kinds.ts); a dropped transaction (its nonce taken by
 * another) can never be mined, so its operations go back to be sent again. A key that cannot pay is not
 * broadcast from: its transactions the node never took are moved to the keys that can (the same call under their
 * nonce), and its balance is looked at again every FUNDS_RECHECK_MS until it can pay.
 */
export class TxMonitor {
  private readonly deps: WorkerDeps;
  private readonly senders: TxSender[];
  private readonly lastBroadcast = new Map<string, number>();
  private readonly loop: PollLoop;
  private readonly pipeline: Pipeline;
  /** The keys that take over the work of a key that cannot pay: the rotation's, as the batcher picks them. */
  private readonly standIns: SenderRotation;
  private readonly fundsRecheckMs: number;

  constructor(deps: WorkerDeps, senders: TxSender[], opts: { fundsRecheckMs?: number } = {}) {
    this.deps = deps;
    this.pipeline = pipelineOf(deps);
    this.senders = senders;
    this.standIns = new SenderRotation(deps.senders);
    this.fundsRecheckMs = opts.fundsRecheckMs ?? FUNDS_RECHECK_MS;
    this.loop = new PollLoop("transaction monitor", async () => {
      await this.tick();
      return false;
    }, { idleMs: 200, logger: deps.logger });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  async tick(): Promise<void> {
    for (const sender of this.senders) {
      let health = sender.health();
      if (!health.canPay && Date.now() - health.checkedAt.getTime() >= this.fundsRecheckMs) {
        health = await sender.checkFunds().catch(() => health);
      }
      if (!health.canPay) {
        await this.outOfRotation(sender).catch((err) =>
          this.deps.logger.warn({ signer: sender.address, err: String(err).slice(0, 400) }, "moving the work of a key that cannot pay failed; retrying"),
        );
        continue;
      }
      for (const chainTx of await sender.inFlight()) {
        try {
          await this.follow(sender, chainTx);
        } catch (err) {
          // Later nonces of this key cannot be mined before this one: try them again on the next tick.
          this.deps.logger.warn({ txHash: chainTx.txHash, nonce: chainTx.nonce, err: String(err).slice(0, 400) }, "transaction not accepted by the node; retrying");
          break;
        }
      }
    }
  }

  private async follow(sender: TxSender, chainTx: ChainTxHead): Promise<void> {
    const now = Date.now();
    if (chainTx.status === "SIGNED") {
      await sender.broadcast(chainTx);
      this.lastBroadcast.set(chainTx.id, now);
      return;
    }
    const outcome = await sender.outcome(chainTx);
    if (outcome === undefined) {
      if (now - (this.lastBroadcast.get(chainTx.id) ?? chainTx.updatedAt.getTime()) > REBROADCAST_AFTER_MS) {
        await sender.broadcast(chainTx);
        this.lastBroadcast.set(chainTx.id, now);
      }
      return;
    }
    await this.settle(sender, chainTx, outcome);
  }

  private async settle(sender: TxSender, chainTx: ChainTxHead, outcome: Awaited<ReturnType<TxSender["outcome"]>>): Promise<void> {
    if (outcome === undefined) return;
    this.lastBroadcast.delete(chainTx.id);
    if (outcome === "dropped") {
      this.deps.logger.warn({ txHash: chainTx.txHash, nonce: chainTx.nonce }, "transaction dropped: its nonce was used by another");
      await this.resubmit(sender, chainTx);
    } else if (outcome.status !== 1) {
      this.deps.logger.warn({ txHash: chainTx.txHash }, "transaction reverted");
      await this.release(chainTx);
    }
    // Success needs nothing here: the indexer confirms from the contract's events.
  }

  /**
   * A key that cannot pay: the transactions the node does not hold (at or above its pending nonce; those below are
   * in its pool or mined, and are only watched here, never re-broadcast) go to a key that can, and their nonces
   * are taken back so the key has no gap once it can pay again. Nothing is moved while no other key can pay.
   */
  private async outOfRotation(sender: TxSender): Promise<void> {
    const inFlight = await sender.inFlight();
    if (!inFlight.length) return;
    const pending = await sender.pendingNonce();
    for (const chainTx of inFlight) {
      if (chainTx.nonce < pending) {
        await this.settle(sender, chainTx, await sender.outcome(chainTx));
        continue;
      }
      const standIn = await this.standIns.pick({ except: sender });
      if (!standIn) return;
      const replacement = await this.resubmit(sender, chainTx, standIn);
      if (replacement) {
        this.deps.logger.warn(
          { txHash: chainTx.txHash, nonce: chainTx.nonce, from: sender.address, to: standIn.address, replacedBy: replacement.txHash },
          "transaction of a key that cannot pay moved to another key",
        );
      }
    }
    await sender.reclaimNonces();
  }

  /**
   * The same call under a new nonce, of the same key (its transaction was dropped) or of another (the key cannot
   * pay, and the node never took its transaction: that one is marked DROPPED in the same database transaction, so
   * it is never broadcast again); the operations follow it to the new transaction. The contract's single-use
   * request ids keep a certificate from being minted twice should both ever be mined.
   */
  private async resubmit(sender: TxSender, head: ChainTxHead, by: TxSender = sender): Promise<ChainTx | undefined> {
    const old = (await sender.load(head.id))!;
    const { gasLimit, data } = Transaction.from(old.rawTx);
    const replacement = await by.prepare(
      async (tx) => {
        if (by !== sender) {
          // Another worker's monitor may have moved it first: then there is nothing left to move.
          const [row] = await tx.select({ status: chainTxs.status }).from(chainTxs).where(eq(chainTxs.id, old.id)).for("update");
          if (row?.status !== "SIGNED" && row?.status !== "SENT") return undefined;
        }
        return { to: old.to, data, purpose: old.purpose, gasLimit };
      },
      async (tx, stored) => {
        if (by !== sender) await tx.update(chainTxs).set({ status: "DROPPED", updatedAt: new Date() }).where(eq(chainTxs.id, old.id));
        for (const t of CHAIN_TX_TABLES) {
          // drizzle cannot type an update over any table: it sees one with the same columns.
          const table = t as typeof issuances;
          await tx.update(table).set({ chainTxId: stored.id, txHash: stored.txHash, updatedAt: new Date() }).where(eq(table.chainTxId, old.id));
        }
      },
    );
    if (replacement) await by.broadcast(replacement).catch(() => {});
    return replacement;
  }

  /**
   * A reverted transaction: each kind's operations on it are released as the kinds registry says (issuances go
   * back to the batcher once, where estimation isolates the cause; revocations and the like fail; registry
   * operations and airdrops are settled by their own stages).
   */
  private async release(chainTx: ChainTxHead): Promise<void> {
    await this.pipeline.transaction(async (ctx) => {
      for (const kind of OPERATION_KIND_NAMES) {
        const { release, table } = OPERATION_KINDS[kind];
        if (release === "byStage" || !("chainTxId" in table)) continue;
        const chainTxId = table.chainTxId as PgColumn;
        const linked = await ctx.db.select({ id: table.id, error: table.error }).from(table).where(eq(chainTxId, chainTx.id));
        if (release === "fail") {
          await transitionMany(ctx, kind, linked.map((o) => o.id), ["SUBMITTED"], "FAILED", { error: `transaction ${chainTx.txHash} reverted` });
          continue;
        }
        await transitionMany(ctx, kind, linked.filter((o) => !o.error).map((o) => o.id), ["SUBMITTED"], release.retryOnceAs as never, {
          chainTxId: null,
          txHash: null,
          error: `transaction ${chainTx.txHash} reverted; retrying once`,
        } as never);
        await transitionMany(ctx, kind, linked.filter((o) => o.error).map((o) => o.id), ["SUBMITTED"], "FAILED", {
          error: `transaction ${chainTx.txHash} reverted twice`,
        });
      }
    });
  }
}
