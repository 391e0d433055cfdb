import { UnrecoverableError } from "bullmq";
import { and, eq, isNull } from "drizzle-orm";
import { certificateAnchorAt, certificateAnchorInterface, decodeAnchorError } from "../core/anchoring/anchor-contract.ts";
import { describeContractError } from "../core/chain/contract-errors.ts";
import { claimRow, sendOperation } from "../core/chain/send-operation.ts";
import { anchoredBatches, anchoredCertificates, anchoredRevocations, approvalRequests, chainTxs, collections } from "../core/db/schema.ts";
import type { JobPayloads } from "../core/jobs.ts";
import type { AnchoredBatch, AnchoredRevocation } from "../core/operations/anchored.ts";
import { transition } from "../core/operations/transitions.ts";
import { ChainConfirmer } from "./chain-confirmer.ts";
import { pipelineOf, type WorkerDeps } from "./deps.ts";

type ChainTx = typeof chainTxs.$inferSelect;

/** Refusals that say the request itself is wrong (the key is not an issuer, the institution is suspended): retrying cannot help. */
const POISON = new Set(["AccessControlUnauthorizedAccount", "IssuerInactive", "DocumentInvalid"]);

async function anchorOf(deps: WorkerDeps, collectionId: string): Promise<string> {
  const [collection] = await deps.db.select({ address: collections.contractAddress }).from(collections).where(eq(collections.id, collectionId));
  if (!collection?.address) throw new UnrecoverableError(`collection ${collectionId} has no contract`);
  return collection.address;
}

/**
 * `anchor-batch`, QUEUED → SUBMITTED: signs, stores and broadcasts the batch's `issue(root)` through the nonce-managed
 * sender (stored before broadcast, re-broadcast by the transaction monitor, never signed twice). A root already on
 * the anchor (an earlier attempt's transaction, or the CLI) moves to SUBMITTED without a transaction of its own; the
 * stage below confirms either from the contract.
 */
export async function anchorBatch(deps: WorkerDeps, job: JobPayloads["anchor-batch"]): Promise<void> {
  const pipeline = pipelineOf(deps);
  const [batch] = await deps.db.select().from(anchoredBatches).where(eq(anchoredBatches.id, job.batchId));
  if (!batch) throw new UnrecoverableError(`anchored batch ${job.batchId} does not exist`);
  if (batch.status !== "QUEUED" || batch.chainTxId) return;
  const data = certificateAnchorInterface().encodeFunctionData("issue", [batch.root]);
  const call = { to: await anchorOf(deps, batch.collectionId), data, purpose: `anchor:${batch.id}` };
  await pipeline.afterCommit((within) =>
    sendOperation(deps, deps.senders[0]!, call, {
      claim: (tx) => claimRow(tx, anchoredBatches, batch.id, ["QUEUED"]),
      record: async (tx, stored) => {
        await transition(within(tx), "anchoredBatch", batch.id, ["QUEUED"], "SUBMITTED", { chainTxId: stored.id, txHash: stored.txHash });
      },
      refused: async (err) => {
        const decoded = decodeAnchorError(err);
        if (decoded?.name === "DocumentAlreadyIssued") {
          await transition(pipeline, "anchoredBatch", batch.id, ["QUEUED"], "SUBMITTED");
          return true;
        }
        if (!decoded || !POISON.has(decoded.name)) return false;
        const message = `rejected by the anchor contract: ${describeContractError(decoded)}`;
        await transition(pipeline, "anchoredBatch", batch.id, ["QUEUED"], "FAILED", { error: message });
        throw new UnrecoverableError(message);
      },
    }),
  );
}

/**
 * `revoke-anchored`, QUEUED → SUBMITTED: `revoke(digest)` for one certificate or `revoke(root)` for the whole batch,
 * through the same sender; a revocation released by approvals is sent as `revokeWithApprovals(target, approvalsHash)`
 * so that the chain names them (`RevocationApproved`). A target already revoked on chain moves on without a
 * transaction; the stage confirms it.
 */
export async function revokeAnchored(deps: WorkerDeps, job: JobPayloads["revoke-anchored"]): Promise<void> {
  const pipeline = pipelineOf(deps);
  const [row] = await deps.db
    .select({ revocation: anchoredRevocations, batch: anchoredBatches })
    .from(anchoredRevocations)
    .innerJoin(anchoredBatches, eq(anchoredBatches.id, anchoredRevocations.batchId))
    .where(eq(anchoredRevocations.id, job.revocationId));
  if (!row) throw new UnrecoverableError(`anchored revocation ${job.revocationId} does not exist`);
  const { revocation, batch } = row;
  if (revocation.status !== "QUEUED" || revocation.chainTxId) return;
  const approvalsHash = await approvalsHashOf(deps, revocation.id);
  const data = approvalsHash
    ? certificateAnchorInterface().encodeFunctionData("revokeWithApprovals", [revocation.target, approvalsHash])
    : certificateAnchorInterface().encodeFunctionData("revoke", [revocation.target]);
  const call = { to: await anchorOf(deps, batch.collectionId), data, purpose: `anchor:revoke:${revocation.id}` };
  await pipeline.afterCommit((within) =>
    sendOperation(deps, deps.senders[0]!, call, {
      claim: (tx) => claimRow(tx, anchoredRevocations, revocation.id, ["QUEUED"]),
      record: async (tx, stored) => {
        await transition(within(tx), "anchoredRevocation", revocation.id, ["QUEUED"], "SUBMITTED", { chainTxId: stored.id, txHash: stored.txHash });
      },
      refused: async (err) => {
        const decoded = decodeAnchorError(err);
        if (decoded?.name === "DocumentAlreadyRevoked") {
          await transition(pipeline, "anchoredRevocation", revocation.id, ["QUEUED"], "SUBMITTED");
          return true;
        }
        if (!decoded || !POISON.has(decoded.name)) return false;
        const message = `rejected by the anchor contract: ${describeContractError(decoded)}`;
        await transition(pipeline, "anchoredRevocation", revocation.id, ["QUEUED"], "FAILED", { error: message });
        throw new UnrecoverableError(message);
      },
    }),
  );
}

/** The hash of the approvals that released this revocation, when an approval policy held it. */
async function approvalsHashOf(deps: WorkerDeps, revocationId: string): Promise<string | undefined> {
  const [request] = await deps.db
    .select({ approvalsHash: approvalRequests.approvalsHash })
    .from(approvalRequests)
    .where(and(eq(approvalRequests.subjectKind, "anchoredRevocation"), eq(approvalRequests.subjectId, revocationId), eq(approvalRequests.status, "APPROVED")));
  return request?.approvalsHash ?? undefined;
}

/**
 * SUBMITTED → CONFIRMED | FAILED for anchored batches and their revocations, from the chain: once the transaction is
 * mined and deep enough (or at once, when there was none to send), the anchor contract is read back: a batch is
 * CONFIRMED when it holds the root (with the block it was anchored in), a revocation when it says the target is
 * revoked, and the certificates it covers turn REVOKED in the same database transaction. A reverted transaction
 * fails the operation.
 */
export class AnchoredBatchStage extends ChainConfirmer {
  constructor(deps: WorkerDeps) {
    super("anchored batches", deps);
  }

  async tick(): Promise<void> {
    const { db } = this.deps;
    const batches = await db
      .select({ batch: anchoredBatches, tx: chainTxs, anchor: collections.contractAddress })
      .from(anchoredBatches)
      .innerJoin(collections, eq(collections.id, anchoredBatches.collectionId))
      .leftJoin(chainTxs, eq(chainTxs.id, anchoredBatches.chainTxId))
      .where(eq(anchoredBatches.status, "SUBMITTED"));
    const revocations = await db
      .select({ revocation: anchoredRevocations, tx: chainTxs, anchor: collections.contractAddress })
      .from(anchoredRevocations)
      .innerJoin(anchoredBatches, eq(anchoredBatches.id, anchoredRevocations.batchId))
      .innerJoin(collections, eq(collections.id, anchoredBatches.collectionId))
      .leftJoin(chainTxs, eq(chainTxs.id, anchoredRevocations.chainTxId))
      .where(eq(anchoredRevocations.status, "SUBMITTED"));
    if (!batches.length && !revocations.length) return;
    const head = await this.deps.provider.getBlockNumber();
    for (const { batch, tx, anchor } of batches) {
      const outcome = this.outcomeOf(tx, head);
      if (outcome === "reverted") await this.failBatch(batch, `its transaction ${tx!.txHash} reverted`);
      else if (outcome === "ready") await this.confirmBatch(batch, anchor!);
    }
    for (const { revocation, tx, anchor } of revocations) {
      const outcome = this.outcomeOf(tx, head);
      if (outcome === "reverted") await this.failRevocation(revocation, `its transaction ${tx!.txHash} reverted`);
      else if (outcome === "ready") await this.confirmRevocation(revocation, anchor!);
    }
  }

  /** Whether the operation's transaction is deep enough to read its effect back (no transaction: read it now). */
  private outcomeOf(tx: ChainTx | null, head: number): "ready" | "reverted" | "waiting" {
    if (!tx) return "ready";
    if (tx.status === "REVERTED") return "reverted";
    return tx.status === "MINED" && tx.blockNumber != null && head - tx.blockNumber >= this.deps.config.chain.confirmations ? "ready" : "waiting";
  }

  private async failBatch(batch: AnchoredBatch, error: string): Promise<void> {
    await transition(this.pipeline, "anchoredBatch", batch.id, ["SUBMITTED"], "FAILED", { error });
  }

  private async failRevocation(revocation: AnchoredRevocation, error: string): Promise<void> {
    await transition(this.pipeline, "anchoredRevocation", revocation.id, ["SUBMITTED"], "FAILED", { error });
  }

  private async confirmBatch(batch: AnchoredBatch, address: string): Promise<void> {
    const anchor = certificateAnchorAt(address, this.deps.provider);
    if (!((await anchor.getFunction("isIssued")(batch.root)) as boolean)) {
      await this.failBatch(batch, `the transaction was mined, but the anchor ${address} does not hold root ${batch.root}`);
      return;
    }
    const blockNumber = Number(await anchor.getFunction("getIssuedBlock")(batch.root));
    await this.pipeline.transaction((ctx) => transition(ctx, "anchoredBatch", batch.id, ["SUBMITTED"], "CONFIRMED", { blockNumber, error: null }));
  }

  private async confirmRevocation(revocation: AnchoredRevocation, address: string): Promise<void> {
    const anchor = certificateAnchorAt(address, this.deps.provider);
    if (!((await anchor.getFunction("isRevoked")(revocation.target)) as boolean)) {
      await this.failRevocation(revocation, `the transaction was mined, but the anchor ${address} does not hold ${revocation.target} revoked`);
      return;
    }
    const at = new Date();
    await this.pipeline.transaction(async (ctx) => {
      if (!(await transition(ctx, "anchoredRevocation", revocation.id, ["SUBMITTED"], "CONFIRMED", { error: null }))) return;
      if (revocation.certificateId) {
        await ctx.db
          .update(anchoredCertificates)
          .set({ status: "REVOKED", revokedAt: at })
          .where(and(eq(anchoredCertificates.id, revocation.certificateId), eq(anchoredCertificates.status, "VALID")));
        return;
      }
      await ctx.db.update(anchoredBatches).set({ revokedAt: at }).where(and(eq(anchoredBatches.id, revocation.batchId), isNull(anchoredBatches.revokedAt)));
      await ctx.db
        .update(anchoredCertificates)
        .set({ status: "REVOKED", revokedAt: at })
        .where(and(eq(anchoredCertificates.batchId, revocation.batchId), eq(anchoredCertificates.status, "VALID")));
    });
  }
}
