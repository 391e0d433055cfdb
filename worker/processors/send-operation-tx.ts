import { UnrecoverableError } from "bullmq";
import { eq } from "drizzle-orm";
import { decodeRegistryError } from "../../core/chain/registry.ts";
import type { ChainTx } from "../../core/chain/tx-sender.ts";
import { issuances, revocations } from "../../core/db/schema.ts";
import { transition, type OperationKind } from "../../core/operations/transitions.ts";
import type { WorkerDeps } from "../deps.ts";

/** Contract errors that say the request itself is wrong: retrying cannot help. */
const POISON_ERRORS = new Set([
  "HolderInvalid",
  "RequestIdInvalid",
  "CertificateNotFound",
  "ERC721InvalidReceiver",
  "AccessControlUnauthorizedAccount",
]);

/** Contract errors that say the operation already took effect on chain: the indexer will confirm it. */
const ALREADY_DONE = new Set(["RequestAlreadyUsed", "CertificateAlreadyRevoked"]);

/**
 * The chain half shared by every operation: from PINNED (or QUEUED, for operations with nothing to pin)
 * to SUBMITTED, then waits for the receipt. A stored transaction is always re-broadcast, never re-signed.
 * Confirmation is left to the indexer, which reads it from the contract's events.
 */
export async function sendOperationTx(
  deps: WorkerDeps,
  op: { kind: OperationKind; id: string; chainTxId: string | null; readyStatus: "PINNED" | "QUEUED" },
  call: { to: string; data: string; purpose: string },
): Promise<void> {
  const log = deps.logger;
  let chainTx: ChainTx | undefined = op.chainTxId ? await deps.sender.load(op.chainTxId) : undefined;
  if (!chainTx) {
    try {
      chainTx = await deps.sender.prepare(call, async (tx, stored) => {
        const table = op.kind === "issuance" ? issuances : revocations;
        await tx.update(table).set({ chainTxId: stored.id, txHash: stored.txHash, updatedAt: new Date() }).where(eq(table.id, op.id));
      });
    } catch (err) {
      const decoded = decodeRegistryError(err);
      if (decoded && ALREADY_DONE.has(decoded.name)) {
        log.warn({ [`${op.kind}Id`]: op.id, error: decoded.name }, "already took effect on chain; leaving it to the indexer");
        return;
      }
      if (decoded && POISON_ERRORS.has(decoded.name)) {
        const message = `rejected by the contract: ${decoded.name}(${decoded.args.map(String).join(", ")})`;
        await transition(deps.db, log, op.kind, op.id, [op.readyStatus], "FAILED", { error: message });
        throw new UnrecoverableError(message);
      }
      throw err;
    }
  }
  // Recorded before the broadcast so the indexer can never see the event of an operation still PINNED;
  // the signed bytes are stored, so SUBMITTED always has a transaction that will be (re)sent.
  await transition(deps.db, log, op.kind, op.id, [op.readyStatus], "SUBMITTED", { txHash: chainTx.txHash });
  await deps.sender.broadcast(chainTx);
  const receipt = await deps.sender.waitForReceipt(chainTx);
  if (receipt.status !== 1) {
    const message = `transaction ${chainTx.txHash} reverted`;
    await transition(deps.db, log, op.kind, op.id, ["SUBMITTED"], "FAILED", { error: message });
    throw new UnrecoverableError(message);
  }
}
