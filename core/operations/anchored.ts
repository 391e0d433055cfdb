import { randomUUID } from "node:crypto";
import { and, eq, notInArray } from "drizzle-orm";
import { wrapForAnchoring, type AnchoredCertificate } from "../anchoring/envelope.ts";
import type { Database, DbTransaction } from "../db/index.ts";
import { isId } from "../db/ids.ts";
import { anchoredBatches, anchoredCertificates, anchoredRevocations, ENDED_UNSENT_STATUSES, institutions, outbox } from "../db/schema.ts";
import { queueOrHold } from "../approvals/hold.ts";
import { approvalGate } from "../approvals/policies.ts";
import type { Actor } from "../audit/log.ts";
import { canonicalJson } from "../metadata/canonical-json.ts";
import { buildCertificateDocument } from "../metadata/certificate.ts";
import { assignAnchoredIndices } from "../status-lists/anchored-indices.ts";
import { checkBatchSize, chargeIssuances, type QuotaLimits } from "../quotas.ts";
import { isDeployed, ownedCollection } from "./collections.ts";
import { OperationError } from "./errors.ts";
import { assertSameRequest, requestHash } from "./idempotency.ts";
import { assertMayIssue } from "./may-issue.ts";
import { requestIdFor } from "./request-id.ts";
import { parseAddress, parseCertificateFields, parseIdempotencyKey, parseReason, type RawCertificateInput } from "./validate.ts";

export type AnchoredBatch = typeof anchoredBatches.$inferSelect;
export type AnchoredCertificateRow = typeof anchoredCertificates.$inferSelect;
export type AnchoredRevocation = typeof anchoredRevocations.$inferSelect;

/**
 * Certificates in one anchored request. Larger sets are anchored in several batches (or with `npm run anchor`, which
 * reads a file of any size); this bounds the request body and the transaction that records it.
 */
export const MAX_ANCHORED_ITEMS = 10_000;
const INSERT_CHUNK = 1_000;

export interface AnchorItemInput extends RawCertificateInput {
  recipient: string;
}

/**
 * Records an anchored batch: every row checked first (a batch cannot be amended once anchored, so one bad row
 * refuses the whole request, naming every bad row by its index), then the documents built, the Merkle tree made,
 * and the batch, its certificates (document and proof each) and its outbox entry written in one transaction, with
 * the institution's quota charged for every certificate. The same idempotency key with the same rows answers the
 * batch recorded first; with other rows it is an IDEMPOTENCY_CONFLICT.
 */
export async function requestAnchoredBatch(
  deps: { db: Database; quotas: QuotaLimits },
  institutionId: string,
  input: { collectionId: string; idempotencyKey: string; certificates: readonly AnchorItemInput[] },
  now = new Date(),
): Promise<{ batch: AnchoredBatch; created: boolean }> {
  const { db } = deps;
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  const collection = await ownedCollection(db, institutionId, input.collectionId);
  if (collection.kind !== "ANCHORED") {
    throw new OperationError("BAD_USER_INPUT", "the collection is a certificate registry: anchored batches go to an ANCHORED collection", "collectionId");
  }
  if (collection.status !== "CONFIRMED" || !isDeployed(collection)) {
    const why = collection.status === "FAILED" ? `its creation FAILED (${collection.error ?? "no reason recorded"}); create another` : "anchor once it is CONFIRMED";
    throw new OperationError("COLLECTION_NOT_READY", `the collection is ${collection.status} on chain: ${why}`, "collectionId", { status: collection.status });
  }
  if (!input.certificates.length) throw new OperationError("BAD_USER_INPUT", "certificates must not be empty", "certificates");
  if (input.certificates.length > MAX_ANCHORED_ITEMS) {
    throw new OperationError("BAD_USER_INPUT", `at most ${MAX_ANCHORED_ITEMS} certificates per anchored batch`, "certificates");
  }

  const earlier = async () => {
    const [row] = await db
      .select()
      .from(anchoredBatches)
      .where(and(eq(anchoredBatches.institutionId, institutionId), eq(anchoredBatches.idempotencyKey, idempotencyKey)));
    return row;
  };
  // A retry is checked as of the request it repeats: one sent again after a certificate's validUntil has passed
  // answers the batch it made, not a refusal of a date that was in the future when it was accepted.
  const first = await earlier();
  const asOf = first?.createdAt ?? now;
  const problems: { field: string; message: string }[] = [];
  const parsed = input.certificates.flatMap((item, i) => {
    try {
      return [{ recipient: parseAddress(item.recipient, "recipient"), fields: parseCertificateFields(item, collection.name, asOf) }];
    } catch (err) {
      if (!(err instanceof OperationError)) throw err;
      problems.push({ field: `certificates.${i}.${err.field ?? ""}`.replace(/\.$/, ""), message: err.message });
      return [];
    }
  });
  if (problems.length) {
    const listed = problems.slice(0, 20).map((p) => `${p.field}: ${p.message}`).join("; ");
    throw new OperationError(
      "BAD_USER_INPUT",
      `${problems.length} of ${input.certificates.length} certificates are invalid; nothing was anchored: ${listed}${problems.length > 20 ? "; …" : ""}`,
      problems[0]!.field,
    );
  }
  const hash = requestHash({ collectionId: collection.id, certificates: parsed });
  if (first) {
    assertSameRequest(first.requestHash, hash);
    return { batch: first, created: false };
  }
  await assertMayIssue(db, institutionId);
  await checkBatchSize(db, deps.quotas, institutionId, parsed.length);

  const [institution] = await db.select({ id: institutions.id, name: institutions.name }).from(institutions).where(eq(institutions.id, institutionId));
  const documents = parsed.map(({ recipient, fields }) => {
    const id = randomUUID();
    return buildCertificateDocument(fields, {
      issuanceId: id,
      requestId: requestIdFor(id),
      issuedAt: now,
      recipient,
      institution: { id: institution!.id, name: institution!.name },
      collection: { id: collection.id, name: collection.name, chainId: collection.chainId, contractAddress: collection.contractAddress },
    }).document;
  });
  const { root, certificates } = wrapForAnchoring(documents, { chainId: collection.chainId, contract: collection.contractAddress });

  const batch = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(anchoredBatches)
      .values({ institutionId, collectionId: collection.id, idempotencyKey, requestHash: hash, root, size: certificates.length })
      .onConflictDoNothing()
      .returning();
    if (!row) return undefined;
    const bytes = documents.reduce((n, d) => n + Buffer.byteLength(canonicalJson(d)), 0);
    await chargeIssuances(tx, deps.quotas, institutionId, certificates.length, bytes, now);
    await insertCertificates(tx, institutionId, collection.id, row.id, certificates);
    await tx.insert(outbox).values({ topic: "anchor-batch", payload: { batchId: row.id } });
    return row;
  });
  if (batch) return { batch, created: true };
  // A concurrent request with the same key won the insert.
  const winner = (await earlier())!;
  assertSameRequest(winner.requestHash, hash);
  return { batch: winner, created: false };
}

/**
 * A batch's certificates, each with its document and proof, in leaf order; the holder's address read from its
 * document. Each gets its position in the collection's revocation status list here, in the batch's transaction:
 * the holder's file names it, and the file is fixed once the batch is anchored.
 */
async function insertCertificates(
  tx: DbTransaction,
  institutionId: string,
  collectionId: string,
  batchId: string,
  certificates: readonly AnchoredCertificate[],
): Promise<void> {
  const ids: string[] = [];
  for (let offset = 0; offset < certificates.length; offset += INSERT_CHUNK) {
    const inserted = await tx.insert(anchoredCertificates).values(
      certificates.slice(offset, offset + INSERT_CHUNK).map((c, i) => {
        const certificate = c.document.certificate as { id: string; recipient: { address: string } };
        return {
          batchId,
          institutionId,
          position: offset + i,
          documentId: String(certificate.id),
          digest: c.anchor.digest,
          recipient: certificate.recipient.address,
          document: c.document,
          proof: c.anchor.proof,
        };
      }),
    ).returning({ id: anchoredCertificates.id });
    ids.push(...inserted.map((r) => r.id));
  }
  await assignAnchoredIndices(tx, collectionId, ids);
}

/**
 * Records a batch `npm run anchor` anchored itself into one of the institution's ANCHORED collections, so that it is
 * listed, its files handed out and its certificates revoked through the API like any other: CONFIRMED from the
 * start, with the transaction and block the command saw. Its root must not be recorded already; no quota is charged
 * (the command is the operator's). The idempotency key is `cli:<root>`.
 */
export async function recordAnchoredBatch(
  db: Database,
  input: { institutionId: string; collectionId: string; root: string; txHash: string; blockNumber: number; certificates: readonly AnchoredCertificate[] },
): Promise<AnchoredBatch> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(anchoredBatches)
      .values({
        institutionId: input.institutionId,
        collectionId: input.collectionId,
        idempotencyKey: `cli:${input.root}`,
        requestHash: requestHash({ root: input.root }),
        root: input.root,
        size: input.certificates.length,
        status: "CONFIRMED",
        txHash: input.txHash,
        blockNumber: input.blockNumber,
      })
      .returning();
    await insertCertificates(tx, input.institutionId, input.collectionId, row!.id, input.certificates);
    return row!;
  });
}

/** Which anchored certificate: by its row id, its document's id, or its digest (exactly one). */
export interface AnchoredCertificateTarget {
  certificateId?: string | null;
  documentId?: string | null;
  digest?: string | null;
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/;

/** The institution's anchored certificate named by `target`, or NOT_FOUND. */
export async function ownedAnchoredCertificate(db: Database, institutionId: string, target: AnchoredCertificateTarget): Promise<AnchoredCertificateRow> {
  const given = [target.certificateId, target.documentId, target.digest].filter((v) => v != null && v !== "");
  if (given.length !== 1) throw new OperationError("BAD_USER_INPUT", "name the certificate by exactly one of its id, documentId and digest", "documentId");
  let where;
  if (target.certificateId) {
    if (!isId(target.certificateId)) throw new OperationError("NOT_FOUND", "anchored certificate not found", "anchoredCertificateId");
    where = eq(anchoredCertificates.id, target.certificateId);
  } else if (target.documentId) {
    where = eq(anchoredCertificates.documentId, target.documentId);
  } else {
    if (!HEX32.test(target.digest!)) throw new OperationError("BAD_USER_INPUT", "digest must be 0x and 64 hex digits", "digest");
    where = eq(anchoredCertificates.digest, target.digest!.toLowerCase());
  }
  const [row] = await db.select().from(anchoredCertificates).where(and(where, eq(anchoredCertificates.institutionId, institutionId)));
  if (!row) throw new OperationError("NOT_FOUND", "anchored certificate not found", target.certificateId ? "anchoredCertificateId" : target.documentId ? "documentId" : "digest");
  return row;
}

async function ownedBatch(db: Database, institutionId: string, batchId: string): Promise<AnchoredBatch> {
  const [row] = isId(batchId)
    ? await db.select().from(anchoredBatches).where(and(eq(anchoredBatches.id, batchId), eq(anchoredBatches.institutionId, institutionId)))
    : [];
  if (!row) throw new OperationError("NOT_FOUND", "anchored batch not found", "anchoredBatchId");
  return row;
}

/**
 * Records the revocation of one anchored certificate (`revoke(digest)`) or of a whole batch (`revoke(root)`) and its
 * outbox entry, with its audit event. Under the REVOKE rule of the batch's collection's approval policy it starts
 * AWAITING_APPROVAL instead, its outbox entry held by an approval request (core/approvals/), as a certificate's
 * revocation is: one key does not revoke alone. Only an anchored (CONFIRMED) batch can be revoked. A target is
 * revoked once: while a revocation of it is under way, awaiting approval or done, asking again (under another key)
 * answers that one; one REJECTED or EXPIRED leaves the target free to be asked for again.
 */
export async function requestAnchoredRevocation(
  db: Database,
  institutionId: string,
  requestedBy: string,
  input: { target: { batchId: string } | AnchoredCertificateTarget; reason: string; idempotencyKey: string },
  actor: Actor = {},
): Promise<{ revocation: AnchoredRevocation; created: boolean }> {
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  const reason = parseReason(input.reason);
  const certificate = "batchId" in input.target ? undefined : await ownedAnchoredCertificate(db, institutionId, input.target);
  const batch = await ownedBatch(db, institutionId, certificate ? certificate.batchId : (input.target as { batchId: string }).batchId);
  const target = certificate ? certificate.digest : batch.root;
  const hash = requestHash({ batchId: batch.id, target, reason });

  const [sameKey] = await db
    .select()
    .from(anchoredRevocations)
    .where(and(eq(anchoredRevocations.institutionId, institutionId), eq(anchoredRevocations.idempotencyKey, idempotencyKey)));
  if (sameKey) {
    assertSameRequest(sameKey.requestHash, hash);
    return { revocation: sameKey, created: false };
  }
  if (batch.status !== "CONFIRMED") {
    throw new OperationError("CONFLICT", `the batch is ${batch.status}: only an anchored (CONFIRMED) batch can be revoked`, certificate ? "anchoredCertificateId" : "anchoredBatchId");
  }
  const active = async () =>
    (
      await db
        .select()
        .from(anchoredRevocations)
        .where(and(eq(anchoredRevocations.batchId, batch.id), eq(anchoredRevocations.target, target), notInArray(anchoredRevocations.status, [...ENDED_UNSENT_STATUSES])))
    )[0];
  const running = await active();
  if (running) return { revocation: running, created: false };
  if (certificate && batch.revokedAt) {
    throw new OperationError("CERTIFICATE_REVOKED", "the whole batch this certificate belongs to is revoked", "anchoredCertificateId");
  }
  const inserted = await db.transaction(async (tx) => {
    const gate = await approvalGate(tx, { institutionId, collectionId: batch.collectionId, action: "REVOKE", actor });
    const [row] = await tx
      .insert(anchoredRevocations)
      .values({
        institutionId,
        batchId: batch.id,
        certificateId: certificate?.id ?? null,
        target,
        reason,
        requestedBy,
        idempotencyKey,
        requestHash: hash,
        status: gate ? "AWAITING_APPROVAL" : "QUEUED",
      })
      .onConflictDoNothing()
      .returning();
    if (!row) return undefined;
    await queueOrHold(tx, gate, {
      institutionId,
      collectionId: batch.collectionId,
      action: "REVOKE",
      subjectKind: "anchoredRevocation",
      subjectId: row.id,
      actor,
      requestHash: hash,
      release: [{ topic: "revoke-anchored", payload: { revocationId: row.id } }],
      data: certificate ? { anchoredCertificateId: certificate.id, target, reason } : { anchoredBatchId: batch.id, target, reason },
    });
    return row;
  });
  if (inserted) return { revocation: inserted, created: true };
  // A concurrent request won: the same key, or another revocation of the same target.
  const [byKey] = await db
    .select()
    .from(anchoredRevocations)
    .where(and(eq(anchoredRevocations.institutionId, institutionId), eq(anchoredRevocations.idempotencyKey, idempotencyKey)));
  if (byKey) {
    assertSameRequest(byKey.requestHash, hash);
    return { revocation: byKey, created: false };
  }
  return { revocation: (await active())!, created: false };
}
