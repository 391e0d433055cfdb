import { randomUUID } from "node:crypto";
import { and, eq, notInArray } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { certificates, ENDED_UNSENT_STATUSES, revocations } from "../db/schema.ts";
import { RevocationReason } from "../chain/certificate-registry.ts";
import { OperationError } from "./errors.ts";
import { parseIdempotencyKey, parseReason } from "./validate.ts";
import { isId } from "../db/ids.ts";
import { assertSameRequest, requestHash } from "./idempotency.ts";
import { approvalGate } from "../approvals/policies.ts";
import { queueOrHold } from "../approvals/hold.ts";
import type { Actor } from "../audit/log.ts";

export type Revocation = typeof revocations.$inferSelect;

export interface RevokeCertificateInput {
  certificateId: string;
  reason: string;
  reasonCode?: RevocationReason | null;
  idempotencyKey?: string | null;
}


/**
 * Records a revocation and its outbox entry in one transaction, with its audit event. Under the collection's
 * approval policy the revocation starts AWAITING_APPROVAL instead, its outbox entry held by an approval request
 * (core/approvals/). A certificate is revoked once: without an idempotency key, asking again returns the revocation
 * already under way (or awaiting approval).
 */
export async function requestRevocation(
  db: Database,
  institutionId: string,
  input: RevokeCertificateInput,
  actor: Actor = {},
): Promise<{ revocation: Revocation; created: boolean }> {
  if (!isId(input.certificateId)) throw new OperationError("NOT_FOUND", "certificate not found", "certificateId");
  const reason = parseReason(input.reason);
  const reasonCode = input.reasonCode ?? "UNSPECIFIED";
  if (!RevocationReason.includes(reasonCode) || reasonCode === "UNUSED") {
    throw new OperationError("BAD_USER_INPUT", "reasonCode is not an RFC 5280 revocation reason", "reasonCode");
  }
  const explicitKey = input.idempotencyKey ? parseIdempotencyKey(input.idempotencyKey) : undefined;
  const hash = requestHash({ certificateId: input.certificateId, reason, reasonCode });

  return db.transaction(async (tx) => {
    const [certificate] = await tx
      .select()
      .from(certificates)
      .where(and(eq(certificates.id, input.certificateId), eq(certificates.institutionId, institutionId)));
    if (!certificate) throw new OperationError("NOT_FOUND", "certificate not found", "certificateId");

    if (explicitKey) {
      const [sameKey] = await tx
        .select()
        .from(revocations)
        .where(and(eq(revocations.institutionId, institutionId), eq(revocations.idempotencyKey, explicitKey)));
      if (sameKey) {
        assertSameRequest(sameKey.requestHash, hash);
        return { revocation: sameKey, created: false };
      }
    }
    // Revocation is permanent and happens once: a second request is answered with the first.
    const [active] = await tx
      .select()
      .from(revocations)
      .where(and(eq(revocations.certificateId, certificate.id), notInArray(revocations.status, [...ENDED_UNSENT_STATUSES])));
    if (active) return { revocation: active, created: false };

    const id = randomUUID();
    const idempotencyKey = explicitKey ?? `revoke:${id}`;
    const gate = await approvalGate(tx, { institutionId, collectionId: certificate.collectionId, action: "REVOKE", actor });
    const inserted = await tx
      .insert(revocations)
      .values({ id, institutionId, certificateId: certificate.id, idempotencyKey, requestHash: hash, reason, reasonCode, status: gate ? "AWAITING_APPROVAL" : "QUEUED" })
      .onConflictDoNothing()
      .returning();
    if (!inserted[0]) {
      // A concurrent request won the race (same key, or the one active revocation per certificate).
      throw new OperationError("CONFLICT", "a concurrent revocation of this certificate is being recorded; retry", "certificateId");
    }
    await queueOrHold(tx, gate, {
      institutionId,
      collectionId: certificate.collectionId,
      action: "REVOKE",
      subjectKind: "revocation",
      subjectId: id,
      actor,
      requestHash: hash,
      release: [{ topic: "revoke-certificate", payload: { revocationId: id } }],
      data: { certificateId: certificate.id, reason, reasonCode },
    });
    return { revocation: inserted[0], created: true };
  });
}
