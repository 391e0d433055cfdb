import { appendAuditEvent } from "../audit/log.ts";
import { randomUUID } from "node:crypto";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database, DbTransaction } from "../db/index.ts";
import { isId } from "../db/ids.ts";
import { isDomainDid } from "../identity/did-web.ts";
import { collections, institutions, members, outbox, registryOperations, type RegistryOperationKind } from "../db/schema.ts";
import { parseEmail } from "./members.ts";
import { OperationError } from "./errors.ts";
import { parseAddress, parseIdempotencyKey, parseReason } from "./validate.ts";
import { assertSameRequest, requestHash } from "./idempotency.ts";

export type RegistryOperation = typeof registryOperations.$inferSelect;
export type Institution = typeof institutions.$inferSelect;

export const CHAIN_ROLES = ["ISSUER", "MINTER", "PAUSER"] as const;
export type ChainRole = (typeof CHAIN_ROLES)[number];

/** The issuer registry refuses names and identities that are empty or longer than this many bytes. */
const DESCRIPTION_MAX_BYTES = 256;
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const DID = /^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$/;

function description(value: string, field: string): string {
  const v = value.normalize("NFC").trim();
  if (!v) throw new OperationError("BAD_USER_INPUT", `${field} is required`, field);
  if (Buffer.byteLength(v) > DESCRIPTION_MAX_BYTES) throw new OperationError("BAD_USER_INPUT", `${field} is longer than ${DESCRIPTION_MAX_BYTES} bytes`, field);
  if (/[\u0000-\u001F\u007F]/.test(v)) throw new OperationError("BAD_USER_INPUT", `${field} contains control characters`, field);
  return v;
}

export function parseSlug(value: string): string {
  if (!SLUG.test(value)) throw new OperationError("BAD_USER_INPUT", "slug must be 1 to 64 lower-case letters, digits and inner hyphens", "slug");
  return value;
}

export function parseIdentity(value: string): string {
  const v = value.trim();
  if (!DOMAIN.test(v) && !DID.test(v)) throw new OperationError("BAD_USER_INPUT", "identity must be a DNS domain (example.edu) or a DID (did:web:example.edu)", "identity");
  return description(v, "identity");
}

async function enqueue(
  tx: DbTransaction,
  op: { kind: RegistryOperationKind; institutionId: string; collectionId?: string; params: Record<string, string>; idempotencyKey: string; requestHash: string },
): Promise<RegistryOperation> {
  const [row] = await tx.insert(registryOperations).values(op).returning();
  await tx.insert(outbox).values({ topic: "registry-operation", payload: { operationId: row!.id } });
  return row!;
}

async function byKey(tx: DbTransaction, key: string, hash: string): Promise<RegistryOperation | undefined> {
  const [row] = await tx.select().from(registryOperations).where(eq(registryOperations.idempotencyKey, key));
  if (row) assertSameRequest(row.requestHash, hash);
  return row;
}

function ownerEmail(value: string): string {
  try {
    return parseEmail(value);
  } catch (err) {
    throw err instanceof OperationError ? new OperationError(err.code, `ownerEmail: ${err.message}`, "ownerEmail") : err;
  }
}

/** The idempotency key the first OWNER's member row and API key are recorded under, so a retry finds them. */
export const FIRST_OWNER_KEY = "register-institution:owner";

/**
 * The first OWNER's API key, made by the caller's key machinery (server/auth) inside the registration's
 * transaction: `make` answers its secret (shown once) and its record, `find` the record again for a retry.
 */
export interface OwnerKeys<K> {
  make(tx: DbTransaction, owner: { institutionId: string; memberId: string; idempotencyKey: string }): Promise<{ key: string; row: K }>;
  find(tx: DbTransaction, institutionId: string, idempotencyKey: string): Promise<K | undefined>;
}

/**
 * Records an institution (PENDING), its first OWNER (named by an e-mail or an Ethereum address) with an API key
 * acting for it, and the operation that registers it in the issuer registry, binding its collections' registries,
 * all in one transaction. It turns ACTIVE when the registration is confirmed on chain. The key's secret is answered
 * this once: a retry with the same idempotency key answers the same institution and key record, without it.
 */
export async function requestRegisterInstitution<K>(
  db: Database,
  input: { name: string; slug: string; identity: string; ownerEmail?: string | null; ownerAddress?: string | null; idempotencyKey: string },
  ownerKeys: OwnerKeys<K>,
): Promise<{ institution: Institution; operation: RegistryOperation; created: boolean; ownerApiKey: string | null; ownerKey: K | null }> {
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  const name = description(input.name, "name");
  const slug = parseSlug(input.slug);
  const identity = parseIdentity(input.identity);
  if ((input.ownerEmail == null) === (input.ownerAddress == null)) {
    throw new OperationError("BAD_USER_INPUT", "give exactly one of ownerEmail or ownerAddress: who holds the institution's first OWNER key", input.ownerEmail == null ? "ownerEmail" : "ownerAddress");
  }
  const email = input.ownerEmail != null ? ownerEmail(input.ownerEmail) : null;
  const address = input.ownerAddress != null ? parseAddress(input.ownerAddress, "ownerAddress") : null;
  const hash = requestHash({ kind: "REGISTER_INSTITUTION", name, slug, identity, owner: email ?? address });
  const opKey = `register:${idempotencyKey}`;
  return db.transaction(async (tx) => {
    const earlier = await byKey(tx, opKey, hash);
    if (earlier) {
      const [institution] = await tx.select().from(institutions).where(eq(institutions.id, earlier.institutionId));
      const ownerKey = (await ownerKeys.find(tx, earlier.institutionId, FIRST_OWNER_KEY)) ?? null;
      return { institution: institution!, operation: earlier, created: false, ownerApiKey: null, ownerKey };
    }
    // A did:web on an institution's own domain names one issuer: two institutions under it would share a DID document.
    if (isDomainDid(identity)) {
      const [holder] = await tx.select({ slug: institutions.slug }).from(institutions).where(sql`lower(trim(${institutions.identity})) = ${identity.toLowerCase()}`);
      if (holder) throw new OperationError("CONFLICT", `the identity ${identity} is institution "${holder.slug}"'s already: a did:web names one issuer`, "identity");
    }
    const [institution] = await tx
      .insert(institutions)
      .values({ name, slug, identity, status: "PENDING", idempotencyKey })
      .onConflictDoNothing()
      .returning();
    if (!institution) throw new OperationError("CONFLICT", "an institution with this slug (or idempotencyKey) exists already", "slug");
    const [owner] = await tx.insert(members).values({ institutionId: institution.id, email, address, role: "OWNER", idempotencyKey: FIRST_OWNER_KEY }).returning();
    const made = await ownerKeys.make(tx, { institutionId: institution.id, memberId: owner!.id, idempotencyKey: FIRST_OWNER_KEY });
    const operation = await enqueue(tx, { kind: "REGISTER_INSTITUTION", institutionId: institution.id, params: {}, idempotencyKey: opKey, requestHash: hash });
    return { institution, operation, created: true, ownerApiKey: made.key, ownerKey: made.row };
  });
}

async function lockInstitution(tx: DbTransaction, id: string): Promise<Institution> {
  if (!isId(id)) throw new OperationError("NOT_FOUND", "institution not found", "institutionId");
  const [row] = await tx.select().from(institutions).where(eq(institutions.id, id)).for("update");
  if (!row) throw new OperationError("NOT_FOUND", "institution not found", "institutionId");
  return row;
}

/**
 * Suspends or reactivates an institution in the issuer registry. Requests are serialised per institution; one
 * already under way of the same kind is answered again, one of the other kind is a CONFLICT until it ends.
 */
export async function requestStatusChange(
  db: Database,
  input: { institutionId: string; kind: "SUSPEND_INSTITUTION" | "REACTIVATE_INSTITUTION"; reason?: string; idempotencyKey?: string | null },
): Promise<{ institution: Institution; operation: RegistryOperation; created: boolean }> {
  const reason = input.kind === "SUSPEND_INSTITUTION" ? parseReason(input.reason ?? "") : undefined;
  const explicit = input.idempotencyKey ? parseIdempotencyKey(input.idempotencyKey) : undefined;
  const params: Record<string, string> = reason ? { reason } : {};
  const hash = requestHash({ kind: input.kind, institutionId: input.institutionId, params });
  return db.transaction(async (tx) => {
    const institution = await lockInstitution(tx, input.institutionId);
    if (explicit) {
      const earlier = await byKey(tx, `${input.kind}:${explicit}`, hash);
      if (earlier) return { institution, operation: earlier, created: false };
    }
    const [pending] = await tx
      .select()
      .from(registryOperations)
      .where(
        and(
          eq(registryOperations.institutionId, institution.id),
          inArray(registryOperations.kind, ["REGISTER_INSTITUTION", "SUSPEND_INSTITUTION", "REACTIVATE_INSTITUTION"]),
          inArray(registryOperations.status, ["QUEUED", "SUBMITTED"]),
        ),
      );
    if (pending?.kind === input.kind) return { institution, operation: pending, created: false };
    if (pending) throw new OperationError("CONFLICT", `a ${pending.kind} operation is under way (${pending.id}); wait for it to end`, "institutionId");
    if (!institution.chainInstitutionId) throw new OperationError("INSTITUTION_PENDING", "the institution is not registered on chain yet", "institutionId");
    if (input.kind === "SUSPEND_INSTITUTION" && institution.status === "SUSPENDED") {
      throw new OperationError("CONFLICT", "the institution is already suspended", "institutionId");
    }
    if (input.kind === "REACTIVATE_INSTITUTION" && institution.status !== "SUSPENDED") {
      throw new OperationError("CONFLICT", "the institution is not suspended", "institutionId");
    }
    const operation = await enqueue(tx, {
      kind: input.kind,
      institutionId: institution.id,
      params,
      idempotencyKey: `${input.kind}:${explicit ?? randomUUID()}`,
      requestHash: hash,
    });
    // The institution's own log records what the operator did to it, when it was asked for.
    await appendAuditEvent(tx, {
      institutionId: institution.id,
      kind: input.kind === "SUSPEND_INSTITUTION" ? "institution.suspended" : "institution.reactivated",
      actor: { operator: true },
      subject: { kind: "registryOperation", id: operation.id },
      requestHash: hash,
      data: params,
    });
    return { institution, operation, created: true };
  });
}

/** Grants or revokes a role of a certificate registry (any institution's collection) to an account. */
export async function requestRoleChange(
  db: Database,
  input: { collectionId: string; role: string; account: string; grant: boolean; idempotencyKey?: string | null },
): Promise<{ operation: RegistryOperation; created: boolean }> {
  if (!isId(input.collectionId)) throw new OperationError("NOT_FOUND", "collection not found", "collectionId");
  if (!(CHAIN_ROLES as readonly string[]).includes(input.role)) throw new OperationError("BAD_USER_INPUT", "role must be ISSUER, MINTER or PAUSER", "role");
  const account = parseAddress(input.account, "account");
  const explicit = input.idempotencyKey ? parseIdempotencyKey(input.idempotencyKey) : undefined;
  const kind = input.grant ? "GRANT_ROLE" : "REVOKE_ROLE";
  const params = { role: input.role, account };
  const hash = requestHash({ kind, collectionId: input.collectionId, params });
  return db.transaction(async (tx) => {
    const [collection] = await tx.select().from(collections).where(eq(collections.id, input.collectionId));
    if (!collection) throw new OperationError("NOT_FOUND", "collection not found", "collectionId");
    if (collection.status !== "CONFIRMED") {
      throw new OperationError("COLLECTION_NOT_READY", `the collection is ${collection.status} on chain: its registry does not exist yet`, "collectionId", { status: collection.status });
    }
    // An anchor knows one role: the issuers that anchor batches (ANCHOR_PRIVATE_KEY, for npm run anchor).
    if (collection.kind === "ANCHORED" && input.role !== "ISSUER") throw new OperationError("BAD_USER_INPUT", "an ANCHORED collection's contract has only the ISSUER role", "role");
    if (explicit) {
      const earlier = await byKey(tx, `${kind}:${explicit}`, hash);
      if (earlier) return { operation: earlier, created: false };
    }
    const pending = await tx
      .select()
      .from(registryOperations)
      .where(and(eq(registryOperations.collectionId, collection.id), eq(registryOperations.kind, kind), inArray(registryOperations.status, ["QUEUED", "SUBMITTED"])));
    const same = pending.find((p) => p.requestHash === hash);
    if (same) return { operation: same, created: false };
    const operation = await enqueue(tx, {
      kind,
      institutionId: collection.institutionId,
      collectionId: collection.id,
      params,
      idempotencyKey: `${kind}:${explicit ?? randomUUID()}`,
      requestHash: hash,
    });
    return { operation, created: true };
  });
}
