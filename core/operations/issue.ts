import { createHash, randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { collections, issuances, outbox } from "../db/schema.ts";
import { canonicalJson } from "../metadata/canonical-json.ts";
import { OperationError } from "./errors.ts";
import { requestIdFor } from "./request-id.ts";
import { parseAddress, parseCertificateFields, parseIdempotencyKey, type RawCertificateInput } from "./validate.ts";

export type Issuance = typeof issuances.$inferSelect;

export interface IssueCertificateInput extends RawCertificateInput {
  collectionId: string;
  recipient: string;
  idempotencyKey: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Records an issuance and its outbox entry in one transaction. The same idempotency key with the same
 * request returns the issuance already recorded; with a different request it is refused.
 */
export async function requestIssuance(
  db: Database,
  institutionId: string,
  input: IssueCertificateInput,
): Promise<{ issuance: Issuance; created: boolean }> {
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  if (!UUID.test(input.collectionId)) throw new OperationError("NOT_FOUND", "collection not found", "collectionId");
  const [collection] = await db
    .select()
    .from(collections)
    .where(and(eq(collections.id, input.collectionId), eq(collections.institutionId, institutionId)));
  if (!collection) throw new OperationError("NOT_FOUND", "collection not found", "collectionId");
  const recipient = parseAddress(input.recipient, "recipient");
  const document = parseCertificateFields(input, collection.name);
  const requestHash = createHash("sha256")
    .update(canonicalJson({ collectionId: collection.id, recipient, document }))
    .digest("hex");

  const id = randomUUID();
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(issuances)
      .values({
        id,
        institutionId,
        collectionId: collection.id,
        idempotencyKey,
        requestHash,
        requestId: requestIdFor(id),
        recipient,
        document: document as unknown as Record<string, unknown>,
      })
      .onConflictDoNothing({ target: [issuances.institutionId, issuances.idempotencyKey] })
      .returning();
    if (inserted[0]) {
      await tx.insert(outbox).values({ topic: "issue-certificate", payload: { issuanceId: id } });
      return { issuance: inserted[0], created: true };
    }
    const [existing] = await tx
      .select()
      .from(issuances)
      .where(and(eq(issuances.institutionId, institutionId), eq(issuances.idempotencyKey, idempotencyKey)));
    if (!existing) throw new Error("idempotency conflict vanished");
    if (existing.requestHash !== requestHash) {
      throw new OperationError(
        "IDEMPOTENCY_CONFLICT",
        "this idempotencyKey was already used for a different request",
        "idempotencyKey",
      );
    }
    return { issuance: existing, created: false };
  });
}
