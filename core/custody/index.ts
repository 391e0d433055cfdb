import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { and, desc, eq, inArray, or } from "drizzle-orm";
import { computeAddress, SigningKey } from "ethers";
import type { Config } from "../config.ts";
import type { Database, DbTransaction } from "../db/index.ts";
import { certificates, custodialHolders, holderClaims, issuances } from "../db/schema.ts";
import { requestCertificateOperation, type CertificateOperation } from "../operations/certificate-operations.ts";
import { OperationError } from "../operations/errors.ts";
import { assertMayIssue } from "../operations/may-issue.ts";
import { parseIdempotencyKey } from "../operations/validate.ts";
import { idempotencyConflict } from "../operations/idempotency.ts";
import { hashSecret } from "../secret-hash.ts";

export type CustodialHolder = typeof custodialHolders.$inferSelect;

/** Longest holder reference, in characters after normalization (an e-mail address is at most 254). */
export const HOLDER_REFERENCE_MAX = 320;
/** A claim code lasts this long unless the institution says otherwise, and at most a year. */
const CLAIM_DEFAULT_TTL_MS = 30 * 24 * 60 * 60_000;
const CLAIM_MAX_TTL_MS = 366 * 24 * 60 * 60_000;
/** secp256k1's group order: a derived private key must lie in [1, n-1]. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

// ─── The custody secret ────────────────────────────────────────────────────────────────────────────────────────

let configured: { secret?: string; file?: string; sealingKeys?: string } = {};
let secret: Buffer | undefined;

/**
 * Tells this process where its custody secret comes from: CUSTODY_SECRET, else (outside production, where the
 * config requires it) a random one generated on first use and kept in `<data dir>/custody-secret`.
 */
export function configureCustody(config: Pick<Config, "custodySecret" | "dataDir"> & Partial<Pick<Config, "sealingKeys">>): void {
  configured = { secret: config.custodySecret, file: join(resolve(config.dataDir), "custody-secret"), sealingKeys: config.sealingKeys };
  secret = undefined;
}

function custodySecret(): Buffer {
  if (secret) return secret;
  if (configured.secret) return (secret = Buffer.from(configured.secret, "utf8"));
  const file = configured.file;
  if (!file) throw new Error("the custody secret is not configured (configureCustody)");
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    // `wx`: two processes starting at once keep whichever was written first.
    try {
      writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    chmodSync(file, 0o600);
  }
  return (secret = Buffer.from(readFileSync(file, "utf8").trim(), "utf8"));
}

/** A 32-byte key for one purpose, derived from the custody secret (HKDF-SHA256): the secret itself is never used as a key. */
export function platformKey(purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", custodySecret(), Buffer.alloc(0), `hallmark/${purpose}`, 32));
}

/** SEALING_KEYS as configured (see `parseSealingKeys`); undefined: the custody-derived key alone. */
export function sealingKeysSpec(): string | undefined {
  return configured.sealingKeys;
}

// ─── References and custodial accounts ─────────────────────────────────────────────────────────────────────────

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

export interface Custody {
  /** HMAC of the institution and the normalized reference under the custody secret; the reference is never stored. */
  referenceHash: string;
  /** The custodial account (EIP-55). Its private key is derived again whenever needed and never stored. */
  address: string;
}

/** The custodial account of (institution, reference): the same every time, distinct per institution, the platform's alone. */
export function custodyOf(institutionId: string, reference: string): Custody {
  const normalized = normalizeHolderReference(reference);
  const key = custodialPrivateKey(institutionId, normalized);
  const referenceHash = createHmac("sha256", custodySecret()).update(`hallmark/holder-reference/v1\0${institutionId}\0${normalized}`).digest("hex");
  return { referenceHash, address: computeAddress(new SigningKey(key).publicKey) };
}

/** HKDF-SHA256 of the custody secret, salted with the institution, keyed by the normalized reference: a secp256k1 key. */
function custodialPrivateKey(institutionId: string, normalized: string): string {
  for (let counter = 0; ; counter++) {
    const okm = Buffer.from(hkdfSync("sha256", custodySecret(), `hallmark/custody/v1\0${institutionId}`, `${counter}\0${normalized}`, 32));
    const k = BigInt(`0x${okm.toString("hex")}`);
    if (k > 0n && k < SECP256K1_N) return `0x${okm.toString("hex")}`;
  }
}

/** An issuance's recipient: an address as given, or the reference's custodial account (its claimed wallet once claimed). */
export interface ReferenceTarget extends Custody {
  recipient: string;
}

/**
 * The recipients of issuances named by holder reference, by item index (an OperationError for a bad reference).
 * Items that give neither or both of `recipient` and `holderReference` are refused here too.
 */
export async function resolveHolderReferences(
  db: Database,
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
        const custody = custodyOf(institutionId, item.holderReference!);
        out.set(index, { ...custody, recipient: custody.address });
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
export async function recordHolderAccounts(db: Database, institutionId: string, targets: ReferenceTarget[]): Promise<void> {
  const hashes = [...new Set(targets.map((t) => t.referenceHash))];
  if (!hashes.length) return;
  await db
    .insert(custodialHolders)
    .values(hashes.map((referenceHash) => ({ institutionId, referenceHash, custodialAddress: targets.find((t) => t.referenceHash === referenceHash)!.address })))
    .onConflictDoNothing();
}

// ─── Holder accounts, claim codes and claims ───────────────────────────────────────────────────────────────────

/** The institution's holder under `reference`; null when nothing was issued to it nor a claim code made. */
export async function holderAccount(db: Database | DbTransaction, institutionId: string, reference: string): Promise<CustodialHolder | null> {
  const { referenceHash } = custodyOf(institutionId, reference);
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

export function hashHolderClaimCode(code: string): string {
  return hashSecret(`hallmark/holder-claim/v1\0${code.trim()}`);
}

export interface NewHolderClaim {
  holder: CustodialHolder;
  /** Shown in this answer only; null when the idempotency key named an earlier request. */
  code: string | null;
  expiresAt: Date;
  created: boolean;
}

/**
 * A single-use claim code for the holder under `reference`, for the institution to hand over. Only its hash is
 * kept; repeating the request with the same idempotency key answers the same claim without the code.
 */
export async function requestHolderClaim(
  db: Database,
  institutionId: string,
  input: { holderReference: string; idempotencyKey: string; expiresAt?: Date | null },
  now = new Date(),
): Promise<NewHolderClaim> {
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  const custody = custodyOf(institutionId, input.holderReference);
  const expiresAt = input.expiresAt ?? new Date(now.getTime() + CLAIM_DEFAULT_TTL_MS);
  if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= now.getTime()) {
    throw new OperationError("BAD_USER_INPUT", "expiresAt must be in the future", "expiresAt");
  }
  if (expiresAt.getTime() - now.getTime() > CLAIM_MAX_TTL_MS) throw new OperationError("BAD_USER_INPUT", "expiresAt must be within a year", "expiresAt");
  await assertMayIssue(db, institutionId);
  return db.transaction(async (tx) => {
    await tx.insert(custodialHolders).values({ institutionId, referenceHash: custody.referenceHash, custodialAddress: custody.address }).onConflictDoNothing();
    const [holder] = await tx
      .select()
      .from(custodialHolders)
      .where(and(eq(custodialHolders.institutionId, institutionId), eq(custodialHolders.referenceHash, custody.referenceHash)));
    const [earlier] = await tx
      .select()
      .from(holderClaims)
      .where(and(eq(holderClaims.institutionId, institutionId), eq(holderClaims.idempotencyKey, idempotencyKey)));
    if (earlier) {
      if (earlier.holderId !== holder!.id || (input.expiresAt && earlier.expiresAt.getTime() !== input.expiresAt.getTime())) {
        throw idempotencyConflict();
      }
      return { holder: holder!, code: null, expiresAt: earlier.expiresAt, created: false };
    }
    if (holder!.claimedAddress) throw new OperationError("ALREADY_CLAIMED", "this holder has already claimed their certificates to a wallet", "holderReference");
    const code = `hm-holder-${randomBytes(18).toString("base64url")}`;
    await tx.insert(holderClaims).values({ institutionId, holderId: holder!.id, codeHash: hashHolderClaimCode(code), idempotencyKey, expiresAt });
    return { holder: holder!, code, expiresAt, created: true };
  });
}

/** Issuances still on their way to a custodial account: a claim waits for them, or they would land after it. */
const IN_FLIGHT = ["QUEUED", "PINNED", "SUBMITTED"] as const;

/**
 * The signed-in holder redeems a claim code: the code is spent, the custodial account is marked claimed by
 * `wallet`, and each certificate it holds is moved to the wallet by a recovery (reissue) operation — serial,
 * history and replaces/supersededBy links kept. All of it in one transaction: on any refusal nothing changes.
 */
export async function claimCustody(
  db: Database,
  input: { code: string; wallet: string },
  now = new Date(),
): Promise<{ holder: CustodialHolder; operations: CertificateOperation[] }> {
  const code = String(input.code ?? "").trim();
  if (!code || code.length > 200) throw new OperationError("CLAIM_CODE_INVALID", "no such claim code", "code");
  const codeHash = hashHolderClaimCode(code);
  return db.transaction(async (tx) => {
    const [claim] = await tx.select().from(holderClaims).where(eq(holderClaims.codeHash, codeHash)).for("update");
    if (!claim) throw new OperationError("CLAIM_CODE_INVALID", "no such claim code", "code");
    if (claim.usedAt) throw new OperationError("CLAIM_CODE_USED", "this claim code was already used", "code");
    if (claim.expiresAt.getTime() <= now.getTime()) throw new OperationError("CLAIM_CODE_EXPIRED", `this claim code expired at ${claim.expiresAt.toISOString()}`, "code");
    const [holder] = await tx.select().from(custodialHolders).where(eq(custodialHolders.id, claim.holderId)).for("update");
    if (holder!.claimedAddress) throw new OperationError("ALREADY_CLAIMED", "these certificates were already claimed to a wallet", "code");
    const [pending] = await tx
      .select({ id: issuances.id })
      .from(issuances)
      .where(and(eq(issuances.institutionId, holder!.institutionId), eq(issuances.recipient, holder!.custodialAddress), inArray(issuances.status, [...IN_FLIGHT])))
      .limit(1);
    if (pending) throw new OperationError("CONFLICT", "a certificate for this holder is still being issued; retry in a moment", "code");

    await tx.update(holderClaims).set({ usedAt: now, usedBy: input.wallet }).where(eq(holderClaims.id, claim.id));
    const [claimed] = await tx
      .update(custodialHolders)
      .set({ claimedAddress: input.wallet, claimedAt: now })
      .where(eq(custodialHolders.id, holder!.id))
      .returning();
    const held = await tx
      .select({ id: certificates.id })
      .from(certificates)
      .where(
        and(
          eq(certificates.institutionId, holder!.institutionId),
          eq(certificates.owner, holder!.custodialAddress),
          or(eq(certificates.status, "VALID"), eq(certificates.status, "SUSPENDED")),
        ),
      )
      .orderBy(certificates.createdAt, certificates.id);
    const operations: CertificateOperation[] = [];
    for (const { id } of held) {
      const { operation } = await requestCertificateOperation(tx as unknown as Database, holder!.institutionId, {
        kind: "RECOVER",
        input: { certificateId: id, newHolder: input.wallet, reason: "claimed from custody by its holder", idempotencyKey: `custody-claim:${claim.id}:${id}` },
      });
      operations.push(operation);
    }
    return { holder: claimed!, operations };
  });
}
