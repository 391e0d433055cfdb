import { eq } from "drizzle-orm";
import { Transaction } from "ethers";
import type { ChainTxHead, TxSender } from "../core/chain/tx-sender.ts";
import { certificateOperations, editionMintBatches, editions, issuances, registryOperations, revocations } from "../core/db/schema.ts";
import { transitionMany } from "../core/operations/transitions.ts";
import { PollLoop } from "../core/poll-loop.ts";
import type { WorkerDeps } from "./deps.ts";

const REBROADCAST_AFTER_MS = 3_000;

/**
 * Carries every stored transaction to an outcome, from the database alone, so a restarted worker finishes what a
 * crashed one began: SIGNED ones are broadcast, SENT ones re-broadcast while pending, mined ones recorded;
 * a reverted batch hands its issuances back to the batcher once; a dropped transaction (its nonce taken by
 * another) can never be mined, so its operations go back to be sent again.
 */
export class TxMonitor {
  private readonly deps: WorkerDeps;
  private readonly senders: TxSender[];
  private readonly lastBroadcast = new Map<string, number>();
  private readonly loop: PollLoop;

  constructor(deps: WorkerDeps, senders: TxSender[]) {
    this.deps = deps;
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
        for (const table of [issuances, revocations, registryOperations, certificateOperations, editions, editionMintBatches]) {
          await tx.update(table).set({ chainTxId: stored.id, txHash: stored.txHash, updatedAt: new Date() }).where(eq(table.chainTxId, old.id));
        }
      },
    );
    if (replacement) await sender.broadcast(replacement).catch(() => {});
  }

  /** A reverted transaction: its issuances go back to the batcher once (estimation then isolates the cause); revocations fail. */
  private async release(chainTx: ChainTxHead): Promise<void> {
    const { db, logger } = this.deps;
    await db.transaction(async (tx) => {
      const linked = await tx.select().from(issuances).where(eq(issuances.chainTxId, chainTx.id));
      const retry = linked.filter((i) => !i.error);
      const fail = linked.filter((i) => i.error);
      await transitionMany(tx, logger, "issuance", retry.map((i) => i.id), ["SUBMITTED"], "PINNED", {
        chainTxId: null,
        txHash: null,
        error: `transaction ${chainTx.txHash} reverted; retrying once`,
      });
      await transitionMany(tx, logger, "issuance", fail.map((i) => i.id), ["SUBMITTED"], "FAILED", {
        error: `transaction ${chainTx.txHash} reverted twice`,
      });
      const revs = await tx.select().from(revocations).where(eq(revocations.chainTxId, chainTx.id));
      await transitionMany(tx, logger, "revocation", revs.map((r) => r.id), ["SUBMITTED"], "FAILED", {
        error: `transaction ${chainTx.txHash} reverted`,
      });
      const ops = await tx.select({ id: certificateOperations.id }).from(certificateOperations).where(eq(certificateOperations.chainTxId, chainTx.id));
      await transitionMany(tx, logger, "certificateOperation", ops.map((o) => o.id), ["SUBMITTED"], "FAILED", {
        error: `transaction ${chainTx.txHash} reverted`,
      });
    });
  }
}
