import { UnrecoverableError } from "bullmq";
import { eq } from "drizzle-orm";
import { certificateRegistryInterface } from "../../core/chain/registry.ts";
import { collections, institutions, issuances } from "../../core/db/schema.ts";
import type { IssueCertificateJob } from "../../core/jobs.ts";
import { buildCertificateDocument, type CertificateFields } from "../../core/metadata/certificate.ts";
import { transition } from "../../core/operations/transitions.ts";
import type { WorkerDeps } from "../deps.ts";
import { sendOperationTx } from "./send-operation-tx.ts";

/** QUEUED → PINNED (metadata on IPFS) → SUBMITTED (issue transaction broadcast). */
export async function issueCertificate(deps: WorkerDeps, job: IssueCertificateJob): Promise<void> {
  const [row] = await deps.db
    .select({ issuance: issuances, collection: collections, institution: institutions })
    .from(issuances)
    .innerJoin(collections, eq(collections.id, issuances.collectionId))
    .innerJoin(institutions, eq(institutions.id, issuances.institutionId))
    .where(eq(issuances.id, job.issuanceId));
  if (!row) throw new UnrecoverableError(`issuance ${job.issuanceId} does not exist`);
  let { issuance } = row;
  const { collection, institution } = row;
  if (issuance.status === "CONFIRMED" || issuance.status === "FAILED") return;

  const fields = issuance.document as unknown as CertificateFields;
  // Rebuilt from the stored row on every attempt: the same bytes, so the same CID and digest.
  const doc = buildCertificateDocument(fields, {
    issuanceId: issuance.id,
    requestId: issuance.requestId,
    issuedAt: issuance.createdAt,
    recipient: issuance.recipient,
    institution: { id: institution.id, name: institution.name },
    collection: { id: collection.id, name: collection.name, chainId: collection.chainId, contractAddress: collection.contractAddress },
  });
  if (issuance.status === "QUEUED") {
    const cid = await deps.ipfs.add(doc.bytes);
    await transition(deps.db, deps.logger, "issuance", issuance.id, ["QUEUED"], "PINNED", { metadataCid: cid, digest: doc.digest });
    issuance = { ...issuance, status: "PINNED", metadataCid: cid, digest: doc.digest };
  }
  if (issuance.status === "SUBMITTED" && !issuance.chainTxId) return;

  const validUntil = fields.validUntil ? BigInt(Math.floor(new Date(fields.validUntil).getTime() / 1000)) : 0n;
  const data = certificateRegistryInterface().encodeFunctionData("issue", [
    {
      requestId: issuance.requestId,
      holder: issuance.recipient,
      uri: `ipfs://${issuance.metadataCid}`,
      digest: issuance.digest,
      validUntil,
    },
  ]);
  await sendOperationTx(
    deps,
    { kind: "issuance", id: issuance.id, chainTxId: issuance.chainTxId, readyStatus: "PINNED" },
    { to: collection.contractAddress, data, purpose: `issue:${issuance.id}` },
  );
}
