import { createHmac, hkdfSync } from "node:crypto";
import { and, desc, eq, inArray, isNull, or } from "drizzle-orm";
import { computeAddress, SigningKey } from "ethers";
import type { Database, DbTransaction } from "../db/index.ts";
import { certificates, custodialHolders, institutions } from "../db/schema.ts";
import { OperationError } from "../operations/errors.ts";
import type { Custody } from "./custody-secret.ts";

export type CustodialHolder = typeof custodialHolders.$inferSelect;

/** Longest holder reference, in characters after normalization (an e-mail address is at most 254). */
export const HOLDER_REFERENCE_MAX = 320;
/** secp256k1's group order: a derived private key must lie in [1, n-1]. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * A holder reference as the platform compares it: Unicode NFKC (full-width digits become ASCII), trimmed, inner
 * white space collapsed, lower-cased (`Ana@Example.org` and `ana@example.org` are one holder). Letters of any
 * script are kept.
 */
export function normalizeHolderReference(value: string, field = "holderReference"): string {
  const v = String(value).normalize("NFKC").trim().replace(/\s+/gu, " ").toLowerCase();
  if (!v) throw new OperationError("BAD_USER_INPUT", `${field} must not be empty`, field);
  if ([...v].length > HOLDER_REFERENCE_MAX) throw new OperationError("BAD_USER_INPUT", `${field} is longer than ${HOLDER_REFERENCE_MAX} characters`, field);
  if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}]/u.test(v)) throw new OperationError("BAD_USER_INPUT", `${field} contains control or invisible characters`, field);
  return v;
}

export interface CustodialAccount {
  /** HMAC of the institution and the normalized reference under the custody secret; the reference is never stored. */
  referenceHash: string;
  /** The custodial account (EIP-55). Its private key is derived again whenever needed and never stored. */
  address: string;
  /** The keyed hash of the reference alone (`holderKeyOf`): the same at every institution. */
  holderKey: string;
}

/**
 * The keyed hash of a normalized reference, the same at every institution: what a holder signed in by e-mail is
 * known by, and how their custodial accounts at every institution are found. The reference itself is never stored.
 */
export function holderKeyOf(custody: Custody, reference: string): string {
  const normalized = normalizeHolderReference(reference);
  return createHmac("sha256", custody.secret()).update(`hallmark/holder-key/v1\0${normalized}`).digest("hex");
}

/** The custodial account of (institution, reference): the same every time, distinct per institution, the platform's alone. */
export function custodialAccount(custody: Custody, institutionId: string, reference: string): CustodialAccount {
  const normalized = normalizeHolderReference(reference);
  const key = custodialPrivateKey(custody, institutionId, normalized);
  const referenceHash = referenceHashOf(custody, institutionId, normalized);
  return { referenceHash, address: computeAddress(new SigningKey(key).publicKey), holderKey: holderKeyOf(custody, normalized) };
}

/** The institution's keyed hash of a normalized reference (what `custodial_holders` is looked up by). */
function referenceHashOf(custody: Custody, institutionId: string, normalized: string): string {
  return createHmac("sha256", custody.secret()).update(`hallmark/holder-reference/v1\0${institutionId}\0${normalized}`).digest("hex");
}

/** HKDF-SHA256 of the custody secret, salted with the institution, keyed by the normalized reference: a secp256k1 key. */
function custodialPrivateKey(custody: Custody, institutionId: string, normalized: string): string {
  for (let counter = 0; ; counter++) {
    const okm = Buffer.from(hkdfSync("sha256", custody.secret(), `hallmark/custody/v1\0${institutionId}`, `${counter}\0${normalized}`, 32));
    const k = BigInt(`0x${okm.toString("hex")}`);
    if (k > 0n && k < SECP256K1_N) return `0x${okm.toString("hex")}`;
  }
}

/** An issuance's recipient: an address as given, or the reference's custodial account (its claimed wallet once claimed). */
export interface ReferenceTarget extends CustodialAccount {
  recipient: string;
}

/**
 * The recipients of issuances named by holder reference, by item index (an OperationError for a bad reference).
 * Items that give neither or both of `recipient` and `holderReference` are refused here too.
 */
export async function resolveHolderReferences(
  db: Database,
  custody: Custody,
  institutionId: string,
  items: { recipient?: string | null; holderReference?: string | null }[],
): Promise<Map<number, ReferenceTarget | OperationError>> {
  const out = new Map<number, ReferenceTarget | OperationError>();
  items.forEach((item, index) => {
    const hasRecipient = item.recipient != null;
    const hasReference = item.holderReference != null;
    if (hasRecipient && hasReference) {
      out.set(index, new OperationError("BAD_USER_INPUT", "give either recipient or holderReference, not both", "holderReference"));
    } else if (!hasRecipient && !hasReference) {
      out.set(index, new OperationError("BAD_USER_INPUT", "recipient (an address) or holderReference is required", "recipient"));
    } else if (hasReference) {
      try {
        const account = custodialAccount(custody, institutionId, item.holderReference!);
        out.set(index, { ...account, recipient: account.address });
      } catch (err) {
        if (!(err instanceof OperationError)) throw err;
        out.set(index, err);
      }
    }
  });
  const targets = [...out.values()].filter((t): t is ReferenceTarget => !(t instanceof OperationError));
  if (!targets.length) return out;
  const hashes = [...new Set(targets.map((t) => t.referenceHash))];
  const known = await db
    .select({ referenceHash: custodialHolders.referenceHash, claimedAddress: custodialHolders.claimedAddress })
    .from(custodialHolders)
    .where(and(eq(custodialHolders.institutionId, institutionId), inArray(custodialHolders.referenceHash, hashes)));
  const claimed = new Map(known.filter((h) => h.claimedAddress).map((h) => [h.referenceHash, h.claimedAddress!]));
  for (const t of targets) t.recipient = claimed.get(t.referenceHash) ?? t.address;
  return out;
}

/**
 * Records the holder accounts of the items about to be issued (before the issuance, so the account exists as soon
 * as anything is issued to it); an item refused for bad input records nothing.
 */
export async function recordHolderAccounts(db: Database | DbTransaction, institutionId: string, targets: ReferenceTarget[]): Promise<void> {
  const hashes = [...new Set(targets.map((t) => t.referenceHash))];
  if (!hashes.length) return;
  await db
    .insert(custodialHolders)
    .values(
      hashes.map((referenceHash) => {
        const target = targets.find((t) => t.referenceHash === referenceHash)!;
        return { institutionId, referenceHash, custodialAddress: target.address, holderKey: target.holderKey };
      }),
    )
    .onConflictDoNothing();
}

/** The institution's holder under `reference`; null when nothing was issued to it nor a claim code made. */
export async function holderAccount(db: Database | DbTransaction, custody: Custody, institutionId: string, reference: string): Promise<CustodialHolder | null> {
  const { referenceHash } = custodialAccount(custody, institutionId, reference);
  const [row] = await db
    .select()
    .from(custodialHolders)
    .where(and(eq(custodialHolders.institutionId, institutionId), eq(custodialHolders.referenceHash, referenceHash)));
  return row ?? null;
}

/** The institution's certificates held for this holder: in custody, or in the wallet it was claimed to. */
export function holderCertificates(db: Database, holder: CustodialHolder, limit = 100) {
  const owners = [holder.custodialAddress, ...(holder.claimedAddress ? [holder.claimedAddress] : [])];
  return db
    .select()
    .from(certificates)
    .where(and(eq(certificates.institutionId, holder.institutionId), inArray(certificates.owner, owners)))
    .orderBy(desc(certificates.createdAt), desc(certificates.id))
    .limit(limit);
}

/**
 * Every institution's account of the holder under `reference` (an e-mail address), found by its holder key. Accounts
 * recorded before holder keys existed are found by their per-institution hash, one HMAC per institution, and given
 * their key on the way, so the next look-up is one indexed read.
 */
export async function accountsOfReference(db: Database, custody: Custody, reference: string): Promise<CustodialHolder[]> {
  const normalized = normalizeHolderReference(reference);
  const holderKey = holderKeyOf(custody, normalized);
  const ids = await db.select({ id: institutions.id }).from(institutions);
  if (ids.length) {
    const pairs = ids.map(({ id }) => and(eq(custodialHolders.institutionId, id), eq(custodialHolders.referenceHash, referenceHashOf(custody, id, normalized))));
    // In chunks: one statement's parameters are bounded.
    for (let i = 0; i < pairs.length; i += 500) {
      await db
        .update(custodialHolders)
        .set({ holderKey })
        .where(and(isNull(custodialHolders.holderKey), or(...pairs.slice(i, i + 500))));
    }
  }
  return accountsOfHolderKey(db, holderKey);
}

/** The custodial accounts known by a holder key, oldest first. */
export function accountsOfHolderKey(db: Database | DbTransaction, holderKey: string): Promise<CustodialHolder[]> {
  return db.select().from(custodialHolders).where(eq(custodialHolders.holderKey, holderKey)).orderBy(custodialHolders.createdAt, custodialHolders.id);
}
