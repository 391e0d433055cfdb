import { randomUUID } from "node:crypto";
import { and, desc, eq, inArray } from "drizzle-orm";
import type { Database, DbTransaction } from "../db/index.ts";
import { isId } from "../db/ids.ts";
import { certificateOperations, certificates, collections, issuances, revocations, type CertificateOperationKind } from "../db/schema.ts";
import type { CertificateFields } from "../metadata/certificate.ts";
import { OperationError } from "./errors.ts";
import { assertMayIssue } from "./may-issue.ts";
import { requestIdFor } from "./request-id.ts";
import { parseAddress, parseCertificateFields, parseIdempotencyKey, parseReason, type RawCertificateInput } from "./validate.ts";
import { assertSameRequest, requestHash } from "./idempotency.ts";
import { withholdInCorrection } from "./personal-data.ts";
import { currentTemplate } from "./template.ts";
import { approvalGate } from "../approvals/policies.ts";
import { queueOrHold } from "../approvals/hold.ts";
import type { Actor } from "../audit/log.ts";
import type { ApprovalAction } from "../db/schema.ts";

/** The policy action each operation answers to: a suspension and its lifting are one action. */
const APPROVAL_ACTION_OF: Record<CertificateOperationKind, ApprovalAction> = {
  RECOVER: "RECOVER",
  CORRECT_METADATA: "CORRECT_METADATA",
  SUSPEND: "SUSPEND",
  UNSUSPEND: "SUSPEND",
};

export type CertificateOperation = typeof certificateOperations.$inferSelect;

/** Operations still on their way: at most one per certificate. */
export const ACTIVE_OPERATION_STATUSES = ["AWAITING_APPROVAL", "QUEUED", "PINNED", "SUBMITTED"] as const;

export interface RecoverCertificateInput {
  certificateId: string;
  newHolder: string;
  reason: string;
  idempotencyKey: string;
}

/** The corrected document's fields, replacing the current ones; `validUntil` is on chain and stays as issued. */
export interface CorrectCertificateMetadataInput extends Omit<RawCertificateInput, "validUntil"> {
  certificateId: string;
  reason?: string | null;
  idempotencyKey: string;
}

export interface SuspensionInput {
  certificateId: string;
  reason: string;
  idempotencyKey: string;
}

export type CertificateOperationRequest =
  | { kind: "RECOVER"; input: RecoverCertificateInput }
  | { kind: "CORRECT_METADATA"; input: CorrectCertificateMetadataInput }
  | { kind: "SUSPEND" | "UNSUSPEND"; input: SuspensionInput };

/**
 * Records an operation on an existing certificate and its outbox entry in one transaction. Everything the request
 * carries is checked first, so nothing malformed reaches the queue. The same idempotency key with the same request
 * returns the operation already recorded (whatever became of the certificate since); with a different request it
 * is refused. One operation may be under way per certificate: another is refused with CONFLICT until it ends.
 * Under the collection's approval policy it starts AWAITING_APPROVAL, its outbox entry held (core/approvals/).
 */
export async function requestCertificateOperation(
  db: Database,
  institutionId: string,
  request: CertificateOperationRequest,
  actor: Actor = {},
): Promise<{ operation: CertificateOperation; created: boolean }> {
  const { kind, input } = request;
  if (!isId(input.certificateId)) throw new OperationError("NOT_FOUND", "certificate not found", "certificateId");
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  const newHolder = kind === "RECOVER" ? parseAddress(request.input.newHolder, "newHolder") : null;
  const reason =
    kind === "CORRECT_METADATA" ? (request.input.reason?.trim() ? parseReason(request.input.reason) : null) : parseReason((input as SuspensionInput).reason);
  if (kind === "RECOVER" || kind === "CORRECT_METADATA") await assertMayIssue(db, institutionId);

  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({ certificate: certificates, collection: collections })
      .from(certificates)
      .innerJoin(collections, eq(collections.id, certificates.collectionId))
      .where(and(eq(certificates.id, input.certificateId), eq(certificates.institutionId, institutionId)));
    if (!row) throw new OperationError("NOT_FOUND", "certificate not found", "certificateId");
    const { certificate, collection } = row;

    let fields: CertificateFields | null = null;
    if (kind === "CORRECT_METADATA") {
      const { certificateId: _c, reason: _r, idempotencyKey: _k, ...raw } = request.input;
      fields = parseCertificateFields({ ...raw, validUntil: undefined }, collection.name);
      const current = await currentFields(tx, certificate);
      if (current.validUntil) fields.validUntil = current.validUntil;
    }
    const hash = requestHash({ kind, certificateId: certificate.id, newHolder, reason, fields });

    const [sameKey] = await tx
      .select()
      .from(certificateOperations)
      .where(and(eq(certificateOperations.institutionId, institutionId), eq(certificateOperations.idempotencyKey, idempotencyKey)));
    if (sameKey) {
      assertSameRequest(sameKey.requestHash, hash);
      return { operation: sameKey, created: false };
    }

    await assertOperable(tx, certificate, kind);
    if (newHolder && newHolder === certificate.owner) {
      throw new OperationError("BAD_USER_INPUT", "newHolder is the certificate's current holder", "newHolder");
    }
    const [active] = await tx
      .select({ id: certificateOperations.id, kind: certificateOperations.kind })
      .from(certificateOperations)
      .where(and(eq(certificateOperations.certificateId, certificate.id), inArray(certificateOperations.status, [...ACTIVE_OPERATION_STATUSES])));
    if (active) {
      throw new OperationError("CONFLICT", `another operation on this certificate (${active.kind} ${active.id}) is under way; retry once it has ended`, "certificateId");
    }

    const id = randomUUID();
    const newIssuanceId = kind === "RECOVER" ? randomUUID() : null;
    if (kind === "RECOVER") fields = await currentFields(tx, certificate);
    if (kind === "CORRECT_METADATA") {
      const template = (await currentTemplate(tx as unknown as Database, collection.id))?.fields ?? [];
      fields = await withholdInCorrection(tx, certificate.id, fields!, await currentFields(tx, certificate), template.filter((f) => f.personal && f.shown).map((f) => f.label));
    }
    const action = APPROVAL_ACTION_OF[kind];
    const gate = await approvalGate(tx, { institutionId, collectionId: collection.id, action, actor });
    const inserted = await tx
      .insert(certificateOperations)
      .values({
        status: gate ? "AWAITING_APPROVAL" : "QUEUED",
        id,
        institutionId,
        certificateId: certificate.id,
        kind,
        idempotencyKey,
        requestHash: hash,
        reason,
        newHolder,
        fields: fields as Record<string, unknown> | null,
        newIssuanceId,
        requestId: newIssuanceId ? requestIdFor(newIssuanceId) : null,
      })
      .onConflictDoNothing()
      .returning();
    if (!inserted[0]) {
      // A concurrent request won the race (same key, or the one operation under way per certificate).
      throw new OperationError("CONFLICT", "a concurrent operation on this certificate is being recorded; retry", "certificateId");
    }
    await queueOrHold(tx, gate, {
      institutionId,
      collectionId: collection.id,
      action,
      subjectKind: "certificateOperation",
      subjectId: id,
      actor,
      requestHash: hash,
      release: [{ topic: "certificate-operation", payload: { operationId: id } }],
      data: { kind, certificateId: certificate.id, reason, ...(newHolder ? { newHolder } : {}) },
    });
    return { operation: inserted[0], created: true };
  });
}

/** Refuses what the certificate's state rules out: nothing happens to a revoked certificate, nor to a superseded one. */
async function assertOperable(tx: DbTransaction, certificate: typeof certificates.$inferSelect, kind: CertificateOperationKind): Promise<void> {
  if (certificate.status === "REVOKED") throw new OperationError("CERTIFICATE_REVOKED", "the certificate is revoked", "certificateId");
  const [revoking] = await tx
    .select({ id: revocations.id })
    .from(revocations)
    .where(and(eq(revocations.certificateId, certificate.id), inArray(revocations.status, ["AWAITING_APPROVAL", "QUEUED", "PINNED", "SUBMITTED"])))
    .limit(1);
  if (revoking) throw new OperationError("CERTIFICATE_REVOKED", "the certificate is being revoked", "certificateId");
  if (certificate.status === "SUPERSEDED") {
    throw new OperationError("CERTIFICATE_SUPERSEDED", "the certificate was superseded by a recovered one; act on that one instead", "certificateId");
  }
  if (kind === "SUSPEND" && certificate.status === "SUSPENDED") throw new OperationError("CONFLICT", "the certificate is already suspended", "certificateId");
  if (kind === "UNSUSPEND" && certificate.status !== "SUSPENDED") throw new OperationError("CONFLICT", "the certificate is not suspended", "certificateId");
}

/** The fields of the certificate's current document: its latest confirmed correction, else what it was issued with. */
export async function currentFields(tx: DbTransaction | Database, certificate: { id: string; issuanceId: string }): Promise<CertificateFields> {
  const [corrected] = await tx
    .select({ fields: certificateOperations.fields })
    .from(certificateOperations)
    .where(
      and(
        eq(certificateOperations.certificateId, certificate.id),
        eq(certificateOperations.kind, "CORRECT_METADATA"),
        eq(certificateOperations.status, "CONFIRMED"),
      ),
    )
    .orderBy(desc(certificateOperations.updatedAt))
    .limit(1);
  if (corrected?.fields) return corrected.fields as unknown as CertificateFields;
  const [issuance] = await tx.select({ document: issuances.document }).from(issuances).where(eq(issuances.id, certificate.issuanceId));
  return issuance!.document as unknown as CertificateFields;
}
