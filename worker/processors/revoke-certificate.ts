import { UnrecoverableError } from "bullmq";
import { eq } from "drizzle-orm";
import { certificateRegistryInterface, decodeRegistryError, RevocationReason } from "../../core/chain/certificate-registry.ts";
import { describeContractError } from "../../core/chain/contract-errors.ts";
import { claimRow, sendOperation } from "../../core/chain/send-operation.ts";
import { certificates, collections, revocations } from "../../core/db/schema.ts";
import type { RevokeCertificateJob } from "../../core/jobs.ts";
import { transition } from "../../core/operations/transitions.ts";
import { pipelineOf, type WorkerDeps } from "../deps.ts";

/** Contract errors that say the request itself is wrong: retrying cannot help. */
const POISON_ERRORS = new Set(["CertificateNotFound", "AccessControlUnauthorizedAccount"]);

/**
 * QUEUED → SUBMITTED: signs, stores and broadcasts the revoke transaction (`revokeWithApprovals` once approved under
 * an approval policy). The transaction monitor carries it to
 * its receipt and the indexer confirms it from the contract's event.
 */
export async function revokeCertificate(deps: WorkerDeps, job: RevokeCertificateJob): Promise<void> {
  const { db } = deps;
  const pipeline = pipelineOf(deps);
  const [row] = await db
    .select({ revocation: revocations, certificate: certificates, collection: collections })
    .from(revocations)
    .innerJoin(certificates, eq(certificates.id, revocations.certificateId))
    .innerJoin(collections, eq(collections.id, certificates.collectionId))
    .where(eq(revocations.id, job.revocationId));
  if (!row) throw new UnrecoverableError(`revocation ${job.revocationId} does not exist`);
  const { revocation, certificate, collection } = row;
  if (revocation.status !== "QUEUED" || revocation.chainTxId) return;

  const reason = RevocationReason.indexOf(revocation.reasonCode as RevocationReason);
  // A dual-controlled revocation names its approvals on chain, so the chain alone shows it was approved.
  const data = revocation.approvalsHash
    ? certificateRegistryInterface().encodeFunctionData("revokeWithApprovals", [BigInt(certificate.tokenId), reason, revocation.approvalsHash])
    : certificateRegistryInterface().encodeFunctionData("revoke", [BigInt(certificate.tokenId), reason]);
  const call = { to: collection.contractAddress!, data, purpose: `revoke:${revocation.id}` };
  await pipeline.afterCommit((within) => sendOperation(deps, deps.senders[0]!, call, {
    claim: (tx) => claimRow(tx, revocations, revocation.id, ["QUEUED"]),
    record: async (tx, stored) => {
      await transition(within(tx), "revocation", revocation.id, ["QUEUED"], "SUBMITTED", { chainTxId: stored.id, txHash: stored.txHash });
    },
    refused: async (err) => {
      const decoded = decodeRegistryError(err);
      if (decoded?.name === "CertificateAlreadyRevoked") {
        // Revoked already (by an earlier attempt or outside Hallmark): the indexer confirms from the event.
        await transition(pipeline, "revocation", revocation.id, ["QUEUED"], "SUBMITTED");
        return true;
      }
      if (!decoded || !POISON_ERRORS.has(decoded.name)) return false;
      const message = `rejected by the contract: ${describeContractError(decoded)}`;
      await transition(pipeline, "revocation", revocation.id, ["QUEUED"], "FAILED", { error: message });
      throw new UnrecoverableError(message);
    },
  }));
}
