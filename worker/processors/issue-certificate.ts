import { UnrecoverableError } from "bullmq";
import type { IssueCertificateJob } from "../../core/jobs.ts";
import { buildCertificateDocument, type CertificateFields } from "../../core/metadata/certificate.ts";
import type { WorkerDeps } from "../deps.ts";
import type { PinStage } from "../pin-stage.ts";

/**
 * QUEUED → PINNED: builds the certificate document and pins it. The batcher takes it on chain from there, so
 * pinning runs wide in parallel while transactions stay few and full.
 */
export async function issueCertificate(deps: WorkerDeps, pins: PinStage, job: IssueCertificateJob): Promise<void> {
  const row = await pins.load(job.issuanceId);
  if (!row) throw new UnrecoverableError(`issuance ${job.issuanceId} does not exist`);
  const { issuance, collection, institution } = row;
  if (issuance.status !== "QUEUED") return;

  // Rebuilt from the stored row on every attempt: the same bytes, so the same CID and digest.
  const doc = buildCertificateDocument(issuance.document as unknown as CertificateFields, {
    issuanceId: issuance.id,
    requestId: issuance.requestId,
    issuedAt: issuance.createdAt,
    recipient: issuance.recipient,
    institution: { id: institution.id, name: institution.name },
    collection: { id: collection.id, name: collection.name, chainId: collection.chainId, contractAddress: collection.contractAddress! },
  });
  const cid = await deps.ipfs.add(doc.bytes);
  // Its institution lets the pin stage tell whether the move has webhook events to record with it.
  await pins.markPinned({ id: issuance.id, metadataCid: cid, digest: doc.digest, institutionId: institution.id });
}
