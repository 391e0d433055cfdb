import { UnrecoverableError } from "bullmq";
import { eq } from "drizzle-orm";
import { certificateRegistryInterface, RevocationReason } from "../../core/chain/registry.ts";
import { certificates, collections, revocations } from "../../core/db/schema.ts";
import type { RevokeCertificateJob } from "../../core/jobs.ts";
import type { WorkerDeps } from "../deps.ts";
import { sendOperationTx } from "./send-operation-tx.ts";

/** QUEUED → SUBMITTED (revoke transaction broadcast); nothing to pin. */
export async function revokeCertificate(deps: WorkerDeps, job: RevokeCertificateJob): Promise<void> {
  const [row] = await deps.db
    .select({ revocation: revocations, certificate: certificates, collection: collections })
    .from(revocations)
    .innerJoin(certificates, eq(certificates.id, revocations.certificateId))
    .innerJoin(collections, eq(collections.id, certificates.collectionId))
    .where(eq(revocations.id, job.revocationId));
  if (!row) throw new UnrecoverableError(`revocation ${job.revocationId} does not exist`);
  const { revocation, certificate, collection } = row;
  if (revocation.status === "CONFIRMED" || revocation.status === "FAILED") return;
  if (revocation.status === "SUBMITTED" && !revocation.chainTxId) return;

  const reason = RevocationReason.indexOf(revocation.reasonCode as RevocationReason);
  const data = certificateRegistryInterface().encodeFunctionData("revoke", [BigInt(certificate.tokenId), reason]);
  await sendOperationTx(
    deps,
    { kind: "revocation", id: revocation.id, chainTxId: revocation.chainTxId, readyStatus: "QUEUED" },
    { to: collection.contractAddress, data, purpose: `revoke:${revocation.id}` },
  );
}
