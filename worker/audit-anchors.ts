import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import { buildMerkleTree } from "../core/anchoring/merkle.ts";
import { auditLeaf, auditLogId } from "../core/audit/event-hash.ts";
import { issuerRegistryInterface } from "../core/chain/issuer-registry.ts";
import { claimRow, sendOperation } from "../core/chain/send-operation.ts";
import { auditAnchors, auditEvents, chainTxs } from "../core/db/schema.ts";
import { transition } from "../core/operations/transitions.ts";
import { ChainConfirmer } from "./chain-confirmer.ts";
import type { WorkerDeps } from "./deps.ts";
import { initOnce, issuerRegistryOf } from "./processors/operator-request.ts";

/** Events one root covers at most; more wait for the next period (a proof stays 14 hashes long). */
const MAX_LEAVES = 10_000;

/**
 * Anchors each institution's audit log on chain: once a period (AUDIT_ANCHOR_INTERVAL_MS) the events not yet anchored
 * get one Merkle root, recorded as an `audit_anchors` row with each event's place in the tree, then sent as the issuer
 * registry's `anchorAuditLog` through the admin key's nonce-managed sender (QUEUED → SUBMITTED), and read back from the
 * stored transaction (→ CONFIRMED with its block, or FAILED, its events handed to the next period). One anchor per
 * institution is in flight at a time, so ranges follow each other.
 */
export class AuditAnchorStage extends ChainConfirmer {
  private lastPeriod = 0;

  constructor(deps: WorkerDeps) {
    super("audit anchors", deps);
  }

  async tick(): Promise<void> {
    const registry = issuerRegistryOf(this.deps);
    if (!registry || !this.deps.adminSender) return;
    const now = Date.now();
    if (now - this.lastPeriod >= this.deps.config.auditAnchorIntervalMs) {
      this.lastPeriod = now;
      await this.cut();
    }
    await this.send(registry);
    await this.follow(registry);
  }

  /** A root over each institution's unanchored events, unless one of its anchors is still on its way. */
  async cut(): Promise<void> {
    const { db } = this.deps;
    const pending = await db
      .selectDistinct({ institutionId: auditEvents.institutionId })
      .from(auditEvents)
      .where(and(isNull(auditEvents.anchorId), sql`not exists (select 1 from ${auditAnchors} a where a.institution_id = ${auditEvents.institutionId} and a.status in ('QUEUED', 'SUBMITTED'))`));
    for (const { institutionId } of pending) {
      await db.transaction(async (tx) => {
        const events = await tx
          .select({ id: auditEvents.id, seq: auditEvents.seq, hash: auditEvents.hash })
          .from(auditEvents)
          .where(and(eq(auditEvents.institutionId, institutionId), isNull(auditEvents.anchorId)))
          .orderBy(asc(auditEvents.seq))
          .limit(MAX_LEAVES)
          .for("update", { skipLocked: true });
        // Only a run without a gap: a root covers every event from its first to its last.
        const run = events.filter((e, i) => i === 0 || e.seq === events[0]!.seq + i);
        if (!run.length) return;
        const tree = buildMerkleTree(run.map((e) => auditLeaf(e.hash)));
        const [anchor] = await tx
          .insert(auditAnchors)
          .values({ institutionId, firstSeq: run[0]!.seq, lastSeq: run.at(-1)!.seq, root: tree.root })
          .onConflictDoNothing()
          .returning();
        if (!anchor) return;
        for (const [leafIndex, event] of run.entries()) {
          await tx.update(auditEvents).set({ anchorId: anchor.id, leafIndex }).where(eq(auditEvents.id, event.id));
        }
      });
    }
  }

  private async send(registry: string): Promise<void> {
    const { db } = this.deps;
    const sender = this.deps.adminSender!;
    const queued = await db.select().from(auditAnchors).where(and(eq(auditAnchors.status, "QUEUED"), isNull(auditAnchors.chainTxId)));
    if (!queued.length) return;
    await initOnce(sender);
    for (const anchor of queued) {
      const data = issuerRegistryInterface().encodeFunctionData("anchorAuditLog", [auditLogId(anchor.institutionId), anchor.firstSeq, anchor.lastSeq, anchor.root]);
      await this.pipeline.afterCommit((within) =>
        sendOperation(this.deps, sender, { to: registry, data, purpose: `audit-anchor:${anchor.id}` }, {
          claim: (tx) => claimRow(tx, auditAnchors, anchor.id, ["QUEUED"]),
          record: async (tx, stored) => {
            await transition(within(tx), "auditAnchor", anchor.id, ["QUEUED"], "SUBMITTED", { chainTxId: stored.id, txHash: stored.txHash, contractAddress: registry });
          },
          refused: async (err) => {
            // The registry refuses an anchor only for want of the operator role: nothing a retry changes.
            await this.fail(anchor.id, ["QUEUED"], `anchorAuditLog refused: ${String(err).slice(0, 300)}`);
            return true;
          },
        }),
      );
    }
  }

  private async follow(_registry: string): Promise<void> {
    const { db, provider, config } = this.deps;
    const rows = await db
      .select({ anchor: auditAnchors, tx: chainTxs })
      .from(auditAnchors)
      .innerJoin(chainTxs, eq(chainTxs.id, auditAnchors.chainTxId))
      .where(eq(auditAnchors.status, "SUBMITTED"));
    if (!rows.length) return;
    const head = await provider.getBlockNumber();
    for (const { anchor, tx } of rows) {
      if (tx.status === "REVERTED") await this.fail(anchor.id, ["SUBMITTED"], `transaction ${tx.txHash} reverted`);
      else if (tx.status === "MINED" && tx.blockNumber != null && head - tx.blockNumber >= config.chain.confirmations) {
        await transition(this.pipeline, "auditAnchor", anchor.id, ["SUBMITTED"], "CONFIRMED", { blockNumber: tx.blockNumber, txHash: tx.txHash });
      }
    }
  }

  /** FAILED, and its events unanchored again, in one transaction: the next period's root takes them. */
  private async fail(id: string, from: ("QUEUED" | "SUBMITTED")[], error: string): Promise<void> {
    await this.pipeline.transaction(async (ctx) => {
      if (await transition(ctx, "auditAnchor", id, from, "FAILED", { error })) {
        await ctx.db.update(auditEvents).set({ anchorId: null, leafIndex: null }).where(inArray(auditEvents.anchorId, [id]));
      }
    });
  }
}
