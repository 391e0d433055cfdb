import { randomBytes, timingSafeEqual } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { certificates, collections, issuances, personalDisclosures } from "../db/schema.ts";
import { isId } from "../db/ids.ts";
import type { Disclosure } from "../metadata/personal-data.ts";
import { OperationError } from "./errors.ts";
import { parseIdempotencyKey } from "./validate.ts";

/** The secret part of a holder's link: 256 random bits, so one link cannot be turned into another's. */
export function newShareToken(): string {
  return randomBytes(32).toString("base64url");
}

export interface PersonalDataRecord {
  issuanceId: string;
  disclosures: Disclosure[] | null;
  shareToken: string | null;
  erasedAt: Date | null;
  erasedBy: string | null;
  erasedReason: string | null;
  publicHolderNames: boolean;
}

/** A certificate's personal data record (by certificate id), or undefined when it never had personal data. */
export async function personalDataOf(db: Database, certificateId: string): Promise<PersonalDataRecord | undefined> {
  if (!isId(certificateId)) return undefined;
  const [row] = await db
    .select({
      issuanceId: personalDisclosures.issuanceId,
      disclosures: personalDisclosures.disclosures,
      shareToken: personalDisclosures.shareToken,
      erasedAt: personalDisclosures.erasedAt,
      erasedBy: personalDisclosures.erasedBy,
      erasedReason: personalDisclosures.erasedReason,
      publicHolderNames: collections.publicHolderNames,
    })
    .from(certificates)
    .innerJoin(personalDisclosures, eq(personalDisclosures.issuanceId, certificates.issuanceId))
    .innerJoin(collections, eq(collections.id, certificates.collectionId))
    .where(eq(certificates.id, certificateId));
  return row;
}

/** The Hallmark certificate id of a token, when this deployment issued it. */
export async function certificateIdOfToken(db: Database, chainId: number, contract: string, tokenId: bigint): Promise<string | undefined> {
  const [row] = await db
    .select({ id: certificates.id, contract: collections.contractAddress })
    .from(certificates)
    .innerJoin(collections, eq(collections.id, certificates.collectionId))
    .where(and(eq(collections.chainId, chainId), eq(certificates.tokenId, tokenId.toString())));
  return row && row.contract.toLowerCase() === contract.toLowerCase() ? row.id : undefined;
}

/**
 * What a viewer may be shown: everything for a matching share token, everything when the collection publishes
 * names, otherwise nothing. Erased data is shown to no one.
 */
export function disclosuresFor(record: PersonalDataRecord | undefined, shareToken: string | undefined): Disclosure[] | undefined {
  if (!record?.disclosures) return undefined;
  if (record.publicHolderNames) return record.disclosures;
  return shareToken && record.shareToken && sameToken(shareToken, record.shareToken) ? record.disclosures : undefined;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface ErasePersonalDataInput {
  certificateId: string;
  reason: string;
  idempotencyKey: string;
}

/**
 * Deletes a certificate's disclosures and its link, and the issuance's request fingerprint (a hash over the name,
 * which would let a guess be confirmed). The document on IPFS and the digest on chain are untouched and still
 * verify: they only ever held salted commitments. Erasing again with the same key answers the same record.
 */
export async function erasePersonalData(db: Database, institutionId: string, actor: string, input: ErasePersonalDataInput): Promise<PersonalDataRecord> {
  const key = parseIdempotencyKey(input.idempotencyKey);
  const reason = input.reason?.trim();
  if (!reason) throw new OperationError("BAD_USER_INPUT", "reason must not be empty", "reason");
  if (reason.length > 500) throw new OperationError("BAD_USER_INPUT", "reason is longer than 500 characters", "reason");
  if (!isId(input.certificateId)) throw new OperationError("NOT_FOUND", "certificate not found", "certificateId");
  const [cert] = await db
    .select({ issuanceId: certificates.issuanceId })
    .from(certificates)
    .where(and(eq(certificates.id, input.certificateId), eq(certificates.institutionId, institutionId)));
  if (!cert) throw new OperationError("NOT_FOUND", "certificate not found", "certificateId");
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(personalDisclosures).where(eq(personalDisclosures.issuanceId, cert.issuanceId)).for("update");
    if (!row) throw new OperationError("NOT_FOUND", "this certificate holds no personal data", "certificateId");
    if (row.erasedAt && row.eraseIdempotencyKey !== key) {
      throw new OperationError("CONFLICT", `the personal data was already erased on ${row.erasedAt.toISOString()}`, "certificateId");
    }
    if (!row.erasedAt) {
      await tx
        .update(personalDisclosures)
        .set({ disclosures: null, shareToken: null, erasedAt: new Date(), erasedBy: actor, erasedReason: reason, eraseIdempotencyKey: key })
        .where(eq(personalDisclosures.issuanceId, cert.issuanceId));
      await tx.update(issuances).set({ requestHash: "erased" }).where(eq(issuances.id, cert.issuanceId));
    }
    const record = await personalDataOf(tx as unknown as Database, input.certificateId);
    return record!;
  });
}

/** Whether the institution's collection shows holders' names on pages anyone can reach by token id. */
export async function setPublicHolderNames(db: Database, institutionId: string, collectionId: string, value: boolean) {
  if (!isId(collectionId)) throw new OperationError("NOT_FOUND", "collection not found", "collectionId");
  const [row] = await db
    .update(collections)
    .set({ publicHolderNames: value })
    .where(and(eq(collections.id, collectionId), eq(collections.institutionId, institutionId)))
    .returning();
  if (!row) throw new OperationError("NOT_FOUND", "collection not found", "collectionId");
  return row;
}
