import { approvalGate } from "../approvals/policies.ts";
import { queueOrHold } from "../approvals/hold.ts";
import type { Actor } from "../audit/log.ts";
import { randomBytes } from "node:crypto";
import { and, eq, inArray, sql } from "drizzle-orm";
import { keccak256, toUtf8Bytes, Wallet } from "ethers";
import type { Database, DbTransaction } from "../db/index.ts";
import { isId } from "../db/ids.ts";
import { claimCodes, editionContracts, editionOperations, editions, media } from "../db/schema.ts";
import { assertSameRequest, idempotencyConflict, requestHash } from "../operations/idempotency.ts";
import { buildEditionMetadata, DUBLIN_CORE_FIELDS, plainText, EditionMetadataError, type DublinCoreField, type ImageMediaType } from "./metadata.ts";
import { OperationError } from "../operations/errors.ts";
import { assertMayIssue } from "../operations/may-issue.ts";
import { localizedText, parseAddress, parseIdempotencyKey, text } from "../operations/validate.ts";
import type { Localizable } from "../i18n/language-map.ts";
import { charge, checkBatchSize, limitsOf, type QuotaLimits } from "../quotas.ts";
import { openSecret, type SealingKeyring } from "../custody/sealed.ts";
import { hashSecret } from "../secret-hash.ts";
import type { TransferPolicy } from "./transfer-policy.ts";
import type { Custody } from "../custody/custody-secret.ts";
import { recordHolderAccounts, resolveHolderReferences, type ReferenceTarget } from "../custody/holder-accounts.ts";

export type EditionRow = typeof editions.$inferSelect;
export type EditionOperationRow = typeof editionOperations.$inferSelect;
export type ClaimCodeRow = typeof claimCodes.$inferSelect;

export const EDITION_LIMITS = {
  name: 200,
  description: 2_000,
  story: 20_000,
  images: 20,
  label: 500,
  dublinCoreValues: 20,
  dublinCoreValue: 1_000,
  maxSupply: 2 ** 31 - 1,
  lockupSeconds: 2 ** 31 - 1,
  maxGifts: 255,
  airdropHolders: 10_000,
  claimCodes: 1_000,
} as const;

/** What a request for an edition or an airdrop needs: the database and the platform's default quotas (`config.quotas`). */
export interface EditionRequestDeps {
  db: Database;
  quotas: QuotaLimits;
  /** Resolves holder references to custodial accounts; without it only addresses are taken. */
  custody?: Custody;
}

const bad = (message: string, field: string) => new OperationError("BAD_USER_INPUT", message, field);

function int(value: number | null | undefined, field: string, min: number, max: number, fallback?: number): number {
  const v = value ?? fallback;
  if (v === undefined || !Number.isInteger(v) || v < min || v > max) throw bad(`${field} must be a whole number from ${min} to ${max}`, field);
  return v;
}

/** The institution's edition, or NOT_FOUND: another institution's edition is answered as one that does not exist. */
export async function ownedEdition(db: Database | DbTransaction, institutionId: string, editionId: string, lock = false): Promise<EditionRow> {
  if (!isId(editionId)) throw new OperationError("NOT_FOUND", "edition not found", "editionId");
  const query = db.select().from(editions).where(and(eq(editions.id, editionId), eq(editions.institutionId, institutionId)));
  const [row] = lock ? await query.for("update") : await query;
  if (!row) throw new OperationError("NOT_FOUND", "edition not found", "editionId");
  return row;
}

export interface CreateEditionInput {
  /** Each a string or a language map (checked by `localizedText`). */
  name?: unknown;
  description?: unknown;
  story?: unknown;
  images: { cid: string; label?: unknown }[];
  dublinCore?: Partial<Record<DublinCoreField, string[] | null>> | null;
  maxSupply: number;
  transferPolicy: TransferPolicy;
  lockupSeconds?: number | null;
  maxGifts?: number | null;
  idempotencyKey: string;
}

/**
 * Records an edition (QUEUED) with its metadata document built and checked; the worker pins it, deploys the
 * institution's editions contract when it has none, and sends createEdition. Images must be ones the institution
 * uploaded (`POST /media`), so their type and pixel size are known.
 */
export async function requestCreateEdition(
  deps: EditionRequestDeps,
  institutionId: string,
  input: CreateEditionInput,
  actor: Actor = {},
): Promise<{ edition: EditionRow; created: boolean }> {
  const { db } = deps;
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  const localizedName = localizedText(input.name, "name", EDITION_LIMITS.name, true)!;
  // The chain and the edition's row carry one name: the English one of a language map, else its first.
  const name = plainText(localizedName);
  const description = localizedText(input.description, "description", EDITION_LIMITS.description, false) ?? "";
  const story = localizedText(input.story, "story", EDITION_LIMITS.story, false);
  if (!input.images.length) throw bad("images must list at least one image", "images");
  if (input.images.length > EDITION_LIMITS.images) throw bad(`images must list at most ${EDITION_LIMITS.images} images`, "images");
  const maxSupply = int(input.maxSupply, "maxSupply", 1, EDITION_LIMITS.maxSupply);
  const policy = input.transferPolicy;
  const lockupSeconds = int(input.lockupSeconds, "lockupSeconds", 0, EDITION_LIMITS.lockupSeconds, 0);
  const maxGifts = int(input.maxGifts, "maxGifts", 0, EDITION_LIMITS.maxGifts, policy === "GIFT_AFTER_LOCKUP" ? 1 : 0);
  if (policy === "GIFT_AFTER_LOCKUP" && maxGifts < 1) throw bad("maxGifts must be at least 1 for GIFT_AFTER_LOCKUP", "maxGifts");
  if (policy !== "GIFT_AFTER_LOCKUP" && (lockupSeconds || maxGifts)) {
    throw bad("lockupSeconds and maxGifts apply to GIFT_AFTER_LOCKUP only", lockupSeconds ? "lockupSeconds" : "maxGifts");
  }
  const dublinCore: Partial<Record<DublinCoreField, string[]>> = {};
  for (const field of DUBLIN_CORE_FIELDS) {
    const values = input.dublinCore?.[field];
    if (!values) continue;
    if (values.length > EDITION_LIMITS.dublinCoreValues) throw bad(`dublinCore.${field} lists more than ${EDITION_LIMITS.dublinCoreValues} values`, `dublinCore.${field}`);
    const kept = values.map((v, i) => text(v, `dublinCore.${field}[${i}]`, EDITION_LIMITS.dublinCoreValue, true)!);
    if (kept.length) dublinCore[field] = kept;
  }
  await assertMayIssue(db, institutionId);

  const images: { cid: string; label: Localizable; width?: number; height?: number; mediaType?: ImageMediaType }[] = [];
  // Every image must be one of the institution's own uploads: one query for all of them.
  const cids = input.images.map((image) => image.cid.trim());
  const wellFormed = cids.filter((cid) => /^[A-Za-z0-9]{1,100}$/.test(cid));
  const uploaded = wellFormed.length
    ? await db.select().from(media).where(and(eq(media.institutionId, institutionId), inArray(media.cid, wellFormed)))
    : [];
  const byCid = new Map(uploaded.map((row) => [row.cid, row]));
  for (const [i, image] of input.images.entries()) {
    const label = localizedText(image.label, `images[${i}].label`, EDITION_LIMITS.label, true)!;
    const cid = cids[i]!;
    const row = byCid.get(cid);
    if (!row) throw new OperationError("NOT_FOUND", `images[${i}].cid names no image this institution uploaded (POST /media)`, `images[${i}].cid`);
    images.push({ cid, label, mediaType: row.mediaType as ImageMediaType, ...(row.width && row.height ? { width: row.width, height: row.height } : {}) });
  }
  let bytes: Uint8Array;
  try {
    // Without a description, the record gets none either (the builder would copy the empty one).
    const record = description ? dublinCore : { description: undefined, ...dublinCore };
    bytes = buildEditionMetadata({ name: localizedName, description, story, images, dublinCore: record }).bytes;
  } catch (err) {
    if (err instanceof EditionMetadataError) throw new OperationError("BAD_USER_INPUT", err.message, undefined, { problems: err.problems });
    throw err;
  }
  const metadataJson = new TextDecoder().decode(bytes);
  const hash = requestHash({ metadataJson, maxSupply, policy, lockupSeconds, maxGifts });
  return db.transaction(async (tx) => {
    // Editions belong to no collection: the institution's default policy says whether creating one waits for approval.
    const gate = await approvalGate(tx, { institutionId, collectionId: null, action: "EDITION_CREATION", actor });
    const [inserted] = await tx
      .insert(editions)
      .values({ institutionId, idempotencyKey, requestHash: hash, name, metadataJson, maxSupply, transferPolicy: policy, lockupSeconds, maxGifts, status: gate ? "AWAITING_APPROVAL" : "QUEUED" })
      .onConflictDoNothing({ target: [editions.institutionId, editions.idempotencyKey] })
      .returning();
    if (inserted) {
      const { storageBytes } = await limitsOf(tx, deps.quotas, institutionId);
      await charge(tx, { institutionId, quota: "storageBytes", metric: "storage_bytes", period: "all", amount: bytes.length, limit: storageBytes });
      await queueOrHold(tx, gate, {
        institutionId,
        collectionId: null,
        action: "EDITION_CREATION",
        subjectKind: "edition",
        subjectId: inserted.id,
        actor,
        requestHash: hash,
        release: [],
        data: { name, maxSupply, transferPolicy: policy },
      });
      return { edition: inserted, created: true };
    }
    const [earlier] = await tx.select().from(editions).where(and(eq(editions.institutionId, institutionId), eq(editions.idempotencyKey, idempotencyKey)));
    assertSameRequest(earlier!.requestHash, hash);
    return { edition: earlier!, created: false };
  });
}

async function earlierOperation(tx: DbTransaction, institutionId: string, key: string, hash: string): Promise<EditionOperationRow | undefined> {
  const [row] = await tx.select().from(editionOperations).where(and(eq(editionOperations.institutionId, institutionId), eq(editionOperations.idempotencyKey, key)));
  if (row) assertSameRequest(row.requestHash, hash);
  return row;
}

/** Items still to be promised: EDITION_SOLD_OUT when `wanted` exceed them (nothing is queued then). */
async function reserve(tx: DbTransaction, edition: EditionRow, wanted: number): Promise<void> {
  if (edition.status === "FAILED") throw new OperationError("EDITION_NOT_READY", "the edition was never created on chain (it FAILED)", "editionId");
  const [row] = await tx
    .update(editions)
    .set({ reserved: sql`${editions.reserved} + ${wanted}`, updatedAt: new Date() })
    .where(and(eq(editions.id, edition.id), sql`${editions.reserved} + ${wanted} <= ${editions.maxSupply}`))
    .returning({ reserved: editions.reserved });
  if (!row) {
    const remaining = Math.max(0, edition.maxSupply - edition.reserved);
    throw new OperationError("EDITION_SOLD_OUT", `the edition has ${remaining} of ${edition.maxSupply} items left; this request needs ${wanted}`, "editionId", {
      maxSupply: edition.maxSupply,
      remaining,
      requested: wanted,
    });
  }
}

/**
 * Records an airdrop of one item to each holder (in order: serials follow the list; addresses first, then the holders
 * named by reference), up to 10,000 holders. A holder reference (an e-mail address, a student number) receives the
 * item in the institution's custodial account of that reference, the same account its certificates are held in (or
 * the wallet it was claimed to). The items are reserved at once, so a request the edition cannot fill is refused
 * with EDITION_SOLD_OUT before anything is queued. The worker sends it in batches under the per-transaction gas cap
 * once the edition is on chain.
 */
export async function requestAirdrop(
  deps: EditionRequestDeps,
  institutionId: string,
  input: { editionId: string; holders?: string[] | null; holderReferences?: string[] | null; idempotencyKey: string },
  actor: Actor = {},
): Promise<{ operation: EditionOperationRow; created: boolean }> {
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  // Another institution's edition is NOT_FOUND whatever else the request says.
  await ownedEdition(deps.db, institutionId, input.editionId);
  const addresses = input.holders ?? [];
  const references = input.holderReferences ?? [];
  const total = addresses.length + references.length;
  if (!total) throw bad("holders or holderReferences must list at least one holder", "holders");
  if (total > EDITION_LIMITS.airdropHolders) throw bad(`holders and holderReferences must list at most ${EDITION_LIMITS.airdropHolders} holders together`, "holders");
  const given = addresses.map((h, i) => parseAddress(h, `holders[${i}]`));
  const targets = await referenceTargets(deps, institutionId, references, "holderReferences");
  const holders = [...given, ...targets.map((t) => t.recipient)];
  const { db } = deps;
  await checkBatchSize(db, deps.quotas, institutionId, holders.length);
  // The references' keyed hashes, not where they resolve to: a retry after the holder claimed is the same request.
  const hash = requestHash(
    references.length ? { kind: "AIRDROP", editionId: input.editionId, holders: given, holderReferences: targets.map((t) => t.referenceHash) } : { kind: "AIRDROP", editionId: input.editionId, holders },
  );
  await assertMayIssue(db, institutionId);
  return db.transaction(async (tx) => {
    const edition = await ownedEdition(tx, institutionId, input.editionId, true);
    const earlier = await earlierOperation(tx, institutionId, idempotencyKey, hash);
    if (earlier) return { operation: earlier, created: false };
    await reserve(tx, edition, holders.length);
    await recordHolderAccounts(tx, institutionId, targets);
    const gate = await approvalGate(tx, { institutionId, collectionId: null, action: "AIRDROP", items: holders.length, actor });
    const [operation] = await tx
      .insert(editionOperations)
      .values({ institutionId, editionId: edition.id, kind: "AIRDROP", idempotencyKey, requestHash: hash, holders, total: holders.length, status: gate ? "AWAITING_APPROVAL" : "QUEUED" })
      .returning();
    // The items stay reserved while the airdrop waits: a rejection or expiry gives them back (core/approvals/outcome.ts).
    await queueOrHold(tx, gate, {
      institutionId,
      collectionId: null,
      action: "AIRDROP",
      subjectKind: "editionOperation",
      subjectId: operation!.id,
      actor,
      requestHash: hash,
      release: [],
      data: { editionId: edition.id, holders: holders.length },
    });
    return { operation: operation!, created: true };
  });
}

/** The custodial accounts (or claimed wallets) of holder references; BAD_USER_INPUT naming the first bad one. */
async function referenceTargets(deps: { db: Database; custody?: Custody }, institutionId: string, references: string[], field: string): Promise<ReferenceTarget[]> {
  if (!references.length) return [];
  if (!deps.custody) throw bad("holder references are not accepted here", field);
  const resolved = await resolveHolderReferences(deps.db, deps.custody, institutionId, references.map((holderReference) => ({ holderReference })));
  return references.map((_, i) => {
    const target = resolved.get(i)!;
    if (target instanceof OperationError) throw bad(`${field}[${i}]: ${target.message}`, field);
    return target;
  });
}

export function hashClaimCode(code: string): string {
  return hashSecret(code.trim());
}

/** The bytes32 a code's voucher names on chain. */
export function voucherCodeOf(code: string): string {
  return keccak256(toUtf8Bytes(code.trim()));
}

export const VOUCHER_TYPES = { Voucher: [{ name: "editionId", type: "uint256" }, { name: "code", type: "bytes32" }, { name: "deadline", type: "uint64" }] };

export interface ClaimVoucher {
  contract: string;
  chainId: number;
  editionId: string;
  code: string;
  deadline: number;
  signature: string;
}

export interface NewClaimCode {
  row: ClaimCodeRow;
  /** Shown once: only its hash is kept. */
  code?: string;
  voucher?: ClaimVoucher;
}

/**
 * Makes `count` single-use claim codes for an edition already on chain, each reserving one item until it is redeemed
 * (or for good: an expired code's item is not released). Each code comes with an EIP-712 voucher signed by the
 * contract's voucher key, for holders who claim on chain themselves. Codes and vouchers are shown in this answer
 * only; repeating the request with the same idempotency key answers the same codes without them.
 */
export async function requestClaimCodes(
  db: Database,
  institutionId: string,
  input: { editionId: string; count: number; expiresAt: Date; idempotencyKey: string },
  chainId: number,
  keyring: SealingKeyring,
  now = new Date(),
): Promise<{ codes: NewClaimCode[]; created: boolean }> {
  const requestKey = parseIdempotencyKey(input.idempotencyKey);
  const count = int(input.count, "count", 1, EDITION_LIMITS.claimCodes);
  const expiresAt = input.expiresAt;
  if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= now.getTime()) throw bad("expiresAt must be in the future", "expiresAt");
  if (expiresAt.getTime() / 1000 >= 2 ** 63) throw bad("expiresAt is out of range", "expiresAt");
  await assertMayIssue(db, institutionId);
  return db.transaction(async (tx) => {
    const edition = await ownedEdition(tx, institutionId, input.editionId, true);
    const earlier = await tx.select().from(claimCodes).where(and(eq(claimCodes.institutionId, institutionId), eq(claimCodes.requestKey, requestKey)));
    if (earlier.length) {
      const same = earlier.length === count && earlier.every((c) => c.editionId === edition.id && c.expiresAt.getTime() === expiresAt.getTime());
      if (!same) throw idempotencyConflict();
      return { codes: earlier.map((row) => ({ row })), created: false };
    }
    if (edition.status !== "CONFIRMED" || !edition.contractId || !edition.chainEditionId) {
      throw new OperationError("EDITION_NOT_READY", `the edition is ${edition.status}: claim codes need it CONFIRMED on chain`, "editionId");
    }
    const [contract] = await tx.select().from(editionContracts).where(eq(editionContracts.id, edition.contractId));
    await reserve(tx, edition, count);
    const signer = new Wallet(openSecret(contract!.voucherSignerKey, keyring));
    const domain = { name: contract!.name, version: "1", chainId, verifyingContract: contract!.contractAddress };
    const deadline = Math.floor(expiresAt.getTime() / 1000);
    const made = Array.from({ length: count }, () => `hm-claim-${randomBytes(18).toString("base64url")}`);
    const rows = await tx
      .insert(claimCodes)
      .values(made.map((code) => ({ institutionId, editionId: edition.id, codeHash: hashClaimCode(code), voucherCode: voucherCodeOf(code), requestKey, expiresAt })))
      .returning();
    const byHash = new Map(rows.map((r) => [r.codeHash, r]));
    const codes = await Promise.all(
      made.map(async (code) => {
        const value = { editionId: BigInt(edition.chainEditionId!), code: voucherCodeOf(code), deadline: BigInt(deadline) };
        const signature = await signer.signTypedData(domain, VOUCHER_TYPES, value);
        return {
          row: byHash.get(hashClaimCode(code))!,
          code,
          voucher: { contract: contract!.contractAddress, chainId, editionId: edition.chainEditionId!, code: value.code, deadline, signature },
        };
      }),
    );
    return { codes, created: true };
  });
}

/**
 * Redeems a claim code for a holder: single use, before it expires, only for the institution that made it. The
 * worker mints the item with the contract's redeemFor, which spends the code's voucher with it (the item was reserved
 * when the code was made).
 */
export async function requestRedeemClaimCode(
  db: Database,
  institutionId: string,
  input: { code: string; holder?: string | null; holderReference?: string | null; idempotencyKey: string },
  now = new Date(),
  custody?: Custody,
): Promise<{ operation: EditionOperationRow; created: boolean }> {
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  if ((input.holder == null) === (input.holderReference == null)) throw bad("give either holder (an address) or holderReference", "holder");
  const [target] = input.holderReference != null ? await referenceTargets({ db, custody }, institutionId, [input.holderReference], "holderReference") : [];
  const holder = target ? target.recipient : parseAddress(input.holder!, "holder");
  const code = input.code.trim();
  if (!code || code.length > 200) throw new OperationError("CLAIM_CODE_INVALID", "no such claim code", "code");
  const codeHash = hashClaimCode(code);
  const hash = requestHash(target ? { kind: "CLAIM", codeHash, holderReference: target.referenceHash } : { kind: "CLAIM", codeHash, holder });
  await assertMayIssue(db, institutionId);
  return db.transaction(async (tx) => {
    const earlier = await earlierOperation(tx, institutionId, idempotencyKey, hash);
    if (earlier) return { operation: earlier, created: false };
    const [row] = await tx
      .select()
      .from(claimCodes)
      .where(and(eq(claimCodes.codeHash, codeHash), eq(claimCodes.institutionId, institutionId)))
      .for("update");
    if (!row) throw new OperationError("CLAIM_CODE_INVALID", "no such claim code", "code");
    if (row.redeemedAt) throw new OperationError("CLAIM_CODE_USED", "this claim code was already redeemed", "code");
    if (row.expiresAt.getTime() <= now.getTime()) throw new OperationError("CLAIM_CODE_EXPIRED", `this claim code expired at ${row.expiresAt.toISOString()}`, "code");
    await tx.update(claimCodes).set({ redeemedAt: now, redeemedBy: holder }).where(eq(claimCodes.id, row.id));
    if (target) await recordHolderAccounts(tx, institutionId, [target]);
    const [operation] = await tx
      .insert(editionOperations)
      .values({ institutionId, editionId: row.editionId, kind: "CLAIM", idempotencyKey, requestHash: hash, holders: [holder], total: 1, claimCodeId: row.id })
      .returning();
    return { operation: operation!, created: true };
  });
}
