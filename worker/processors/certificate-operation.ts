import { UnrecoverableError } from "bullmq";
import { eq } from "drizzle-orm";
import { certificateRegistryInterface, decodeRegistryError } from "../../core/chain/certificate-registry.ts";
import { claimRow, sendOperation } from "../../core/chain/send-operation.ts";
import { certificateOperations, certificates, collections, institutions, issuances } from "../../core/db/schema.ts";
import type { CertificateOperationJob } from "../../core/jobs.ts";
import { buildCertificateDocument, type CertificateFields } from "../../core/metadata/certificate.ts";
import { transition } from "../../core/operations/transitions.ts";
import { pipelineOf, type WorkerDeps } from "../deps.ts";

type Operation = typeof certificateOperations.$inferSelect;
type Certificate = typeof certificates.$inferSelect;
type Collection = typeof collections.$inferSelect;
type Institution = typeof institutions.$inferSelect;

/** Contract errors that say the request itself cannot succeed: retrying cannot help. */
const POISON_ERRORS: Record<string, string> = {
  CertificateNotFound: "the certificate does not exist on chain",
  CertificateAlreadyRevoked: "the certificate is revoked on chain",
  CertificateAlreadySuperseded: "the certificate was already superseded on chain",
  CertificateAlreadySuspended: "the certificate is already suspended on chain",
  CertificateNotSuspended: "the certificate is not suspended on chain",
  HolderInvalid: "the new holder cannot receive a certificate",
  RequestAlreadyUsed: "the recovery's document (and the request id it names) was already issued",
  IssuerInactive: "the issuer registry does not let this registry issue (institution suspended or unbound)",
  AccessControlUnauthorizedAccount: "the worker's key lacks the issuer role on this registry",
  EnforcedPause: "the registry is paused",
};

/**
 * Carries a certificate operation to the chain: QUEUED → PINNED (RECOVER and CORRECT_METADATA: the new document
 * built and pinned) → SUBMITTED (reissue / updateMetadata / suspend / unsuspend signed, stored and broadcast). The
 * transaction monitor carries it to its receipt and the indexer confirms it from the contract's event.
 */
export async function certificateOperation(deps: WorkerDeps, job: CertificateOperationJob): Promise<void> {
  const { db } = deps;
  const pipeline = pipelineOf(deps);
  const [row] = await db
    .select({ operation: certificateOperations, certificate: certificates, collection: collections, institution: institutions })
    .from(certificateOperations)
    .innerJoin(certificates, eq(certificates.id, certificateOperations.certificateId))
    .innerJoin(collections, eq(collections.id, certificates.collectionId))
    .innerJoin(institutions, eq(institutions.id, certificateOperations.institutionId))
    .where(eq(certificateOperations.id, job.operationId));
  if (!row) throw new UnrecoverableError(`certificate operation ${job.operationId} does not exist`);
  let { operation } = row;
  const { certificate, collection, institution } = row;
  if (operation.chainTxId || !["QUEUED", "PINNED"].includes(operation.status)) return;

  const pins = operation.kind === "RECOVER" || operation.kind === "CORRECT_METADATA";
  if (pins && operation.status === "QUEUED") {
    const doc = await documentFor(db, operation, certificate, collection, institution);
    // Rebuilt from the stored row on every attempt: the same bytes, so the same CID and digest.
    const cid = await deps.ipfs.add(doc.bytes);
    await transition(pipeline, "certificateOperation", operation.id, ["QUEUED"], "PINNED", { metadataCid: cid, digest: doc.digest });
    operation = { ...operation, status: "PINNED", metadataCid: cid, digest: doc.digest };
  }
  const from = pins ? "PINNED" : "QUEUED";
  if (operation.status !== from) return;

  const call = { to: collection.contractAddress!, data: encodeCall(operation, certificate), purpose: `${operation.kind.toLowerCase()}:${operation.id}` };
  await pipeline.afterCommit((within) => sendOperation(deps, deps.senders[0]!, call, {
    claim: (tx) => claimRow(tx, certificateOperations, operation.id, [from]),
    record: async (tx, stored) => {
      await transition(within(tx), "certificateOperation", operation.id, [from], "SUBMITTED", { chainTxId: stored.id, txHash: stored.txHash });
    },
    refused: async (err) => {
      const decoded = decodeRegistryError(err);
      const why = decoded && POISON_ERRORS[decoded.name];
      if (!decoded || !why) return false;
      const message = `rejected by the contract: ${why} (${decoded.name})`;
      await transition(pipeline, "certificateOperation", operation.id, [from], "FAILED", { error: message });
      throw new UnrecoverableError(message);
    },
  }));
}

function encodeCall(operation: Operation, certificate: Certificate): string {
  const iface = certificateRegistryInterface();
  const tokenId = BigInt(certificate.tokenId);
  switch (operation.kind) {
    case "SUSPEND":
      return iface.encodeFunctionData("suspend", [tokenId]);
    case "UNSUSPEND":
      return iface.encodeFunctionData("unsuspend", [tokenId]);
    case "CORRECT_METADATA":
      // The token URI follows the digest (the pin stage pins the document as the raw CID of its sha-256).
      return iface.encodeFunctionData("updateMetadata", [tokenId, operation.digest]);
    case "RECOVER": {
      const validUntil = certificate.validUntil ? BigInt(Math.floor(certificate.validUntil.getTime() / 1000)) : 0n;
      // The new token id is the new document's digest; the document names the recovery's request id.
      return iface.encodeFunctionData("reissue", [tokenId, operation.digest, operation.newHolder, validUntil]);
    }
    default:
      throw new UnrecoverableError(`unknown certificate operation ${operation.kind satisfies never}`);
  }
}

/**
 * The new document: for a recovery the same fields for the new holder, under its own id and request id, naming
 * the certificate it replaces; for a correction the corrected fields under the certificate's own id and request id
 * (so the document still leads to its token), issued at the same instant.
 */
async function documentFor(db: WorkerDeps["db"], operation: Operation, certificate: Certificate, collection: Collection, institution: Institution) {
  const fields = operation.fields as unknown as CertificateFields;
  const common = {
    institution: { id: institution.id, name: institution.name },
    collection: { id: collection.id, name: collection.name, chainId: collection.chainId, contractAddress: collection.contractAddress! },
  };
  if (operation.kind === "RECOVER") {
    return buildCertificateDocument(fields, {
      ...common,
      issuanceId: operation.newIssuanceId!,
      requestId: operation.requestId!,
      issuedAt: operation.createdAt,
      recipient: operation.newHolder!,
      replaces: { id: certificate.id, tokenId: certificate.tokenId },
    });
  }
  const [issuance] = await db
    .select({ id: issuances.id, requestId: issuances.requestId, createdAt: issuances.createdAt })
    .from(issuances)
    .where(eq(issuances.id, certificate.issuanceId));
  // A recovered certificate's corrected document still names the one it replaced.
  const [replaced] = certificate.replacesId
    ? await db.select({ id: certificates.id, tokenId: certificates.tokenId }).from(certificates).where(eq(certificates.id, certificate.replacesId))
    : [];
  return buildCertificateDocument(fields, {
    ...common,
    issuanceId: issuance!.id,
    requestId: issuance!.requestId,
    issuedAt: issuance!.createdAt,
    recipient: certificate.owner,
    replaces: replaced,
  });
}
