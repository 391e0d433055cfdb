import { randomBytes } from "node:crypto";
import { and, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { Database, DbTransaction } from "../db/index.ts";
import { certificates, custodialHolders, editionOperations, holderClaims, issuances } from "../db/schema.ts";
import { requestHash } from "../operations/idempotency.ts";
import { requestCertificateOperation, type CertificateOperation } from "../operations/certificate-operations.ts";
import { OperationError } from "../operations/errors.ts";
import { idempotencyConflict } from "../operations/idempotency.ts";
import { assertMayIssue } from "../operations/may-issue.ts";
import { parseIdempotencyKey } from "../operations/validate.ts";
import { hashSecret } from "../secret-hash.ts";
import type { Custody } from "./custody-secret.ts";
import { custodialAccount, type CustodialHolder } from "./holder-accounts.ts";

type EditionOperationRow = typeof editionOperations.$inferSelect;

/** What a claim moves: each certificate by a recovery, each edition's collectibles by a release from custody. */
export interface ClaimMoves {
  operations: CertificateOperation[];
  /** One RELEASE edition operation per edition of which the account received items. */
  releases: EditionOperationRow[];
}

/** A claim code lasts this long unless the institution says otherwise, and at most a year. */
const CLAIM_DEFAULT_TTL_MS = 30 * 24 * 60 * 60_000;
const CLAIM_MAX_TTL_MS = 366 * 24 * 60 * 60_000;

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
  custody: Custody,
  institutionId: string,
  input: { holderReference: string; idempotencyKey: string; expiresAt?: Date | null },
  now = new Date(),
): Promise<NewHolderClaim> {
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  const account = custodialAccount(custody, institutionId, input.holderReference);
  const expiresAt = input.expiresAt ?? new Date(now.getTime() + CLAIM_DEFAULT_TTL_MS);
  if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= now.getTime()) {
    throw new OperationError("BAD_USER_INPUT", "expiresAt must be in the future", "expiresAt");
  }
  if (expiresAt.getTime() - now.getTime() > CLAIM_MAX_TTL_MS) throw new OperationError("BAD_USER_INPUT", "expiresAt must be within a year", "expiresAt");
  await assertMayIssue(db, institutionId);
  return db.transaction(async (tx) => {
    await tx
      .insert(custodialHolders)
      .values({ institutionId, referenceHash: account.referenceHash, custodialAddress: account.address, holderKey: account.holderKey })
      .onConflictDoNothing();
    const [holder] = await tx
      .select()
      .from(custodialHolders)
      .where(and(eq(custodialHolders.institutionId, institutionId), eq(custodialHolders.referenceHash, account.referenceHash)));
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
): Promise<{ holder: CustodialHolder } & ClaimMoves> {
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
    await assertNothingInFlight(tx, holder!, "code");
    await tx.update(holderClaims).set({ usedAt: now, usedBy: input.wallet }).where(eq(holderClaims.id, claim.id));
    return moveToWallet(tx, holder!, input.wallet, `custody-claim:${claim.id}`, now);
  });
}

/**
 * A holder signed in by e-mail claims everything every institution holds for that address to the wallet they proved
 * with Sign-In with Ethereum, without a code from anyone: the one-time code sent to the address is the proof. Each
 * account not yet claimed is marked claimed by `wallet` and its certificates reissued to it, all in one transaction.
 * ALREADY_CLAIMED when nothing is left in custody; CONFLICT while a certificate for the holder is still being issued.
 */
export async function claimAllCustody(db: Database, input: { holderKey: string; wallet: string }, now = new Date()): Promise<{ holders: CustodialHolder[] } & ClaimMoves> {
  return db.transaction(async (tx) => {
    const open = await tx
      .select()
      .from(custodialHolders)
      .where(and(eq(custodialHolders.holderKey, input.holderKey), isNull(custodialHolders.claimedAddress)))
      .orderBy(custodialHolders.createdAt, custodialHolders.id)
      .for("update");
    if (!open.length) throw new OperationError("ALREADY_CLAIMED", "nothing is held in custody for this address: everything was claimed to a wallet already");
    for (const holder of open) await assertNothingInFlight(tx, holder);
    const holders: CustodialHolder[] = [];
    const operations: CertificateOperation[] = [];
    const releases: EditionOperationRow[] = [];
    for (const holder of open) {
      const moved = await moveToWallet(tx, holder, input.wallet, `custody-claim:email:${holder.id}`, now);
      holders.push(moved.holder);
      operations.push(...moved.operations);
      releases.push(...moved.releases);
    }
    return { holders, operations, releases };
  });
}

/** Airdrops and redeemed codes naming the account (as a JSON array for `@>`), and the kinds that mint. */
const mintsTo = (address: string) => and(inArray(editionOperations.kind, ["AIRDROP", "CLAIM"]), sql`${editionOperations.holders} @> ${JSON.stringify([address])}::jsonb`);

/**
 * Issuances and collectibles still on their way to the custodial account would land after the claim: refused until
 * they arrive. (An airdrop accepted after the claim goes to the wallet: references resolve to it, and the worker
 * sends to the wallet an airdrop that names a claimed account.)
 */
async function assertNothingInFlight(tx: DbTransaction, holder: CustodialHolder, field?: string): Promise<void> {
  const [pending] = await tx
    .select({ id: issuances.id })
    .from(issuances)
    .where(and(eq(issuances.institutionId, holder.institutionId), eq(issuances.recipient, holder.custodialAddress), inArray(issuances.status, [...IN_FLIGHT])))
    .limit(1);
  if (pending) throw new OperationError("CONFLICT", "a certificate for this holder is still being issued; retry in a moment", field);
  const [minting] = await tx
    .select({ id: editionOperations.id })
    .from(editionOperations)
    .where(and(eq(editionOperations.institutionId, holder.institutionId), inArray(editionOperations.status, ["QUEUED", "SUBMITTED"]), mintsTo(holder.custodialAddress)))
    .limit(1);
  if (minting) throw new OperationError("CONFLICT", "a collectible for this holder is still being minted; retry in a moment", field);
}

/**
 * One RELEASE operation per edition of which the account received items (airdrops and redeemed codes that named it,
 * confirmed or failed part-way): the worker moves whatever of the edition the account still holds in custody to the
 * wallet. Keyed by account and edition, so a claim makes each once.
 */
async function requestReleases(tx: DbTransaction, holder: CustodialHolder, wallet: string): Promise<EditionOperationRow[]> {
  const minted = await tx
    .select({ editionId: editionOperations.editionId, holders: editionOperations.holders })
    .from(editionOperations)
    .where(and(eq(editionOperations.institutionId, holder.institutionId), inArray(editionOperations.status, ["CONFIRMED", "FAILED"]), mintsTo(holder.custodialAddress)))
    .orderBy(editionOperations.createdAt, editionOperations.id);
  const expected = new Map<string, number>();
  for (const op of minted) expected.set(op.editionId, (expected.get(op.editionId) ?? 0) + op.holders.filter((h) => h === holder.custodialAddress).length);
  const releases: EditionOperationRow[] = [];
  for (const [editionId, total] of expected) {
    const idempotencyKey = `custody-release:${holder.id}:${editionId}`;
    const [made] = await tx
      .insert(editionOperations)
      .values({
        institutionId: holder.institutionId,
        editionId,
        kind: "RELEASE",
        idempotencyKey,
        requestHash: requestHash({ kind: "RELEASE", holderId: holder.id, editionId, wallet }),
        holders: [wallet],
        custodian: holder.custodialAddress,
        total,
      })
      .onConflictDoNothing()
      .returning();
    const row = made ?? (await tx.select().from(editionOperations).where(and(eq(editionOperations.institutionId, holder.institutionId), eq(editionOperations.idempotencyKey, idempotencyKey))))[0];
    if (row) releases.push(row);
  }
  return releases;
}

/**
 * Marks the account claimed by `wallet` and moves each certificate it holds there by a recovery (reissue): serial,
 * history and replaces/supersededBy links kept; each recovery's idempotency key is `<keyPrefix>:<certificate id>`.
 * Its collectibles follow by releases from custody (`requestReleases`).
 */
async function moveToWallet(tx: DbTransaction, holder: CustodialHolder, wallet: string, keyPrefix: string, now: Date): Promise<{ holder: CustodialHolder } & ClaimMoves> {
  const [claimed] = await tx.update(custodialHolders).set({ claimedAddress: wallet, claimedAt: now }).where(eq(custodialHolders.id, holder.id)).returning();
  const held = await tx
    .select({ id: certificates.id })
    .from(certificates)
    .where(
      and(
        eq(certificates.institutionId, holder.institutionId),
        eq(certificates.owner, holder.custodialAddress),
        or(eq(certificates.status, "VALID"), eq(certificates.status, "SUSPENDED")),
      ),
    )
    .orderBy(certificates.createdAt, certificates.id);
  const operations: CertificateOperation[] = [];
  for (const { id } of held) {
    const { operation } = await requestCertificateOperation(tx as unknown as Database, holder.institutionId, {
      kind: "RECOVER",
      input: { certificateId: id, newHolder: wallet, reason: "claimed from custody by its holder", idempotencyKey: `${keyPrefix}:${id}` },
    });
    operations.push(operation);
  }
  return { holder: claimed!, operations, releases: await requestReleases(tx, holder, wallet) };
}
