import { eq } from "drizzle-orm";
import { Transaction } from "ethers";
import type { ChainTxHead, TxSender } from "../core/chain/tx-sender.ts";
import type { PgColumn } from "drizzle-orm/pg-core";
import { issuances } from "../core/db/schema.ts";
import type { Pipeline } from "../core/operations/context.ts";
import { CHAIN_TX_TABLES, OPERATION_KIND_NAMES, OPERATION_KINDS } from "../core/operations/kinds.ts";
import { transitionMany } from "../core/operations/transitions.ts";
import { PollLoop } from "../core/poll-loop.ts";
import { pipelineOf, type WorkerDeps } from "./deps.ts";

const REBROADCAST_AFTER_MS = 3_000;

/**
 * Carries every stored transaction to an outcome, from the database alone, so a restarted worker finishes what a
 * crashed one began: SIGNED ones are broadcast, SENT ones re-broadcast while pending, mined ones recorded;
 * a reverted one releases its operations as each kind says (core/operations/kinds.ts); a dropped transaction (its nonce taken by
 * another) can never be mined, so its operations go back to be sent again.
 */
export class TxMonitor {
  private readonly deps: WorkerDeps;
  private readonly senders: TxSender[];
  private readonly lastBroadcast = new Map<string, number>();
  private readonly loop: PollLoop;
  private readonly pipeline: Pipeline;

  constructor(deps: WorkerDeps, senders: TxSender[]) {
    this.deps = deps;
    this.pipeline = pipelineOf(deps);
    this.senders = senders;
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

  /** The same call under a new nonce; the operations follow it to the new transaction. */
  private async resubmit(sender: TxSender, head: ChainTxHead): Promise<void> {
    const old = (await sender.load(head.id))!;
    const { gasLimit, data } = Transaction.from(old.rawTx);
    const replacement = await sender.prepare(
      async () => ({ to: old.to, data, purpose: old.purpose, gasLimit }),
      async (tx, stored) => {
        for (const t of CHAIN_TX_TABLES) {
          // drizzle cannot type an update over any table: it sees one with the same columns.
          const table = t as typeof issuances;
          await tx.update(table).set({ chainTxId: stored.id, txHash: stored.txHash, updatedAt: new Date() }).where(eq(table.chainTxId, old.id));
        }
      },
    );
    if (replacement) await sender.broadcast(replacement).catch(() => {});
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
