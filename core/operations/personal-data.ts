import { randomBytes, timingSafeEqual } from "node:crypto";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database, DbTransaction } from "../db/index.ts";
import { certificateOperations, certificates, collections, issuances, personalDisclosures } from "../db/schema.ts";
import { isId } from "../db/ids.ts";
import { withholdPersonalData, type CertificateFields } from "../metadata/certificate.ts";
import { isCommitment, type Disclosure } from "../metadata/personal-data.ts";
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

/** How many recoveries a chain of certificates is followed through, either way. */
const MAX_RECOVERIES = 32;

/**
 * The issuance whose disclosures a certificate shows: its own, or for a certificate recovered to a new wallet (a new
 * token with the same committed fields) the one it replaced, followed back to the first.
 */
async function originOf(db: Database, certificateId: string): Promise<{ id: string; issuanceId: string } | undefined> {
  // One statement for the whole chain of recoveries: every public read of personal data starts here.
  const result = (await db.execute(sql`
    WITH RECURSIVE chain(id, issuance_id, replaces_id, depth) AS (
      SELECT id, issuance_id, replaces_id, 0 FROM certificates WHERE id = ${certificateId}
      UNION ALL
      SELECT c.id, c.issuance_id, c.replaces_id, chain.depth + 1
        FROM certificates c JOIN chain ON c.id = chain.replaces_id
        WHERE chain.depth < ${MAX_RECOVERIES}
    )
    SELECT id, issuance_id FROM chain ORDER BY depth DESC LIMIT 1`)) as unknown as { rows: { id: string; issuance_id: string }[] };
  const row = result.rows[0];
  return row && { id: row.id, issuanceId: row.issuance_id };
}

/** The certificate and those that replaced it in turn (recoveries), which carry the same committed fields. */
async function successorsOf(db: Database, originId: string): Promise<{ id: string; issuanceId: string }[]> {
  const out: { id: string; issuanceId: string }[] = [];
  let id: string | null = originId;
  for (let depth = 0; id && depth < MAX_RECOVERIES; depth++) {
    const [row]: { id: string; issuanceId: string; supersededById: string | null }[] = await db
      .select({ id: certificates.id, issuanceId: certificates.issuanceId, supersededById: certificates.supersededById })
      .from(certificates)
      .where(eq(certificates.id, id));
    if (!row) break;
    out.push(row);
    id = row.supersededById;
  }
  return out;
}

/** A certificate's personal data record (by certificate id), or undefined when it never had personal data. */
export async function personalDataOf(db: Database, certificateId: string): Promise<PersonalDataRecord | undefined> {
  if (!isId(certificateId)) return undefined;
  const origin = await originOf(db, certificateId);
  if (!origin) return undefined;
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
    .where(eq(certificates.id, origin.id));
  return row;
}

/** The Hallmark certificate id of a token, when this deployment issued it. */
export async function certificateIdOfToken(db: Database, chainId: number, contract: string, tokenId: bigint): Promise<string | undefined> {
  const [row] = await db
    .select({ id: certificates.id, contract: collections.contractAddress })
    .from(certificates)
    .innerJoin(collections, eq(collections.id, certificates.collectionId))
    .where(and(eq(collections.chainId, chainId), eq(certificates.tokenId, tokenId.toString())));
  return row && row.contract?.toLowerCase() === contract.toLowerCase() ? row.id : undefined;
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
  const [mine] = await db
    .select({ id: certificates.id })
    .from(certificates)
    .where(and(eq(certificates.id, input.certificateId), eq(certificates.institutionId, institutionId)));
  if (!mine) throw new OperationError("NOT_FOUND", "certificate not found", "certificateId");
  const cert = (await originOf(db, mine.id))!;
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
      // Request fingerprints hash the plain values: a known name could be confirmed against them.
      const related = await successorsOf(tx as unknown as Database, cert.id);
      await tx.update(issuances).set({ requestHash: "erased" }).where(inArray(issuances.id, related.map((c) => c.issuanceId)));
      await tx.update(certificateOperations).set({ requestHash: "erased" }).where(inArray(certificateOperations.certificateId, related.map((c) => c.id)));
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


/**
 * A correction's fields with their personal values withheld as at issue: the recipient's name, every attribute the
 * current document already commits to, and the template's personal fields. An unchanged value keeps its salt (so its
 * commitment, and the holder's link, hold for both documents); a new value's disclosure is added to the record.
 */
export async function withholdInCorrection(
  tx: DbTransaction,
  certificateId: string,
  fields: CertificateFields,
  current: CertificateFields,
  templatePersonal: readonly string[],
): Promise<CertificateFields> {
  const personal = new Set([...templatePersonal, ...(current.attributes ?? []).filter((a) => isCommitment(a.value)).map((a) => a.name)]);
  const origin = await originOf(tx as unknown as Database, certificateId);
  const [row] = origin ? await tx.select().from(personalDisclosures).where(eq(personalDisclosures.issuanceId, origin.issuanceId)).for("update") : [];
  const withheld = withholdPersonalData(fields, personal, row?.disclosures ?? []);
  if (!withheld.disclosures.length || !origin) return withheld.fields;
  if (row?.erasedAt) throw new OperationError("CONFLICT", "this certificate's personal data was erased; a correction cannot give it again", "recipientName");
  const kept = row?.disclosures ?? [];
  const added = withheld.disclosures.filter((d) => !kept.some((k) => k.path === d.path && k.salt === d.salt && k.value === d.value));
  if (row) {
    if (added.length) await tx.update(personalDisclosures).set({ disclosures: [...kept, ...added] }).where(eq(personalDisclosures.issuanceId, origin.issuanceId));
  } else {
    const [cert] = await tx.select({ institutionId: certificates.institutionId }).from(certificates).where(eq(certificates.id, origin.id));
    await tx.insert(personalDisclosures).values({ issuanceId: origin.issuanceId, institutionId: cert!.institutionId, disclosures: added, shareToken: newShareToken() });
  }
  return withheld.fields;
}
