import { randomBytes } from "node:crypto";
import { and, desc, eq, gt, isNull, lt, or } from "drizzle-orm";
import type { Database } from "../../core/db/index.ts";
import { apiKeys, institutions, members, operatorKeys, type MemberRole } from "../../core/db/schema.ts";
import type { Caller } from "../context.ts";
import { hashSecret } from "../../core/secret-hash.ts";

export const API_KEY_SCOPES = ["read", "issue", "admin"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/**
 * What a member's role lets the keys made for it do (`admin` implies the others). A key's scopes are checked
 * against its member's role when it is created and again on every request, so a demotion takes effect at once.
 */
export const ROLE_SCOPES: Record<MemberRole, readonly ApiKeyScope[]> = {
  OWNER: ["read", "issue", "admin"],
  ISSUER: ["read", "issue"],
  VIEWER: ["read"],
};

/** lastUsedAt is written at most this often per key, not on every request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

const KEY_PATTERN = /^hm_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{32,}$/;

export const hashKey = hashSecret;

function newSecret(): { key: string; prefix: string } {
  const prefix = randomBytes(6).toString("base64url");
  return { key: `hm_${prefix}_${randomBytes(24).toString("base64url")}`, prefix: `hm_${prefix}` };
}

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** Creates a key and returns its secret, which is stored only as a hash and cannot be shown again. */
export async function createApiKey(
  db: Database,
  opts: { institutionId: string; name: string; scopes?: ApiKeyScope[]; expiresAt?: Date | null; memberId?: string | null; idempotencyKey?: string },
): Promise<{ id: string; key: string; prefix: string; row: ApiKeyRow }> {
  const { key, prefix } = newSecret();
  const [row] = await db
    .insert(apiKeys)
    .values({
      institutionId: opts.institutionId,
      name: opts.name,
      keyHash: hashKey(key),
      prefix,
      scopes: opts.scopes ?? ["read", "issue"],
      expiresAt: opts.expiresAt ?? undefined,
      memberId: opts.memberId ?? undefined,
      idempotencyKey: opts.idempotencyKey,
    })
    .returning();
  return { id: row!.id, key, prefix, row: row! };
}

/** A platform operator key (scope `operator`), shown once and stored hashed. */
export async function createOperatorKey(db: Database, name: string): Promise<{ id: string; key: string; prefix: string }> {
  const { key, prefix } = newSecret();
  const [row] = await db.insert(operatorKeys).values({ name, keyHash: hashKey(key), prefix }).returning({ id: operatorKeys.id });
  return { id: row!.id, key, prefix };
}

export async function listApiKeys(db: Database, institutionId: string): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).where(eq(apiKeys.institutionId, institutionId)).orderBy(desc(apiKeys.createdAt));
}

/** Revokes one of the institution's keys (at once, for every later request); revoking again changes nothing. */
export async function revokeApiKey(db: Database, institutionId: string, id: string): Promise<ApiKeyRow | undefined> {
  await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.institutionId, institutionId), isNull(apiKeys.revokedAt)));
  const [row] = await db.select().from(apiKeys).where(and(eq(apiKeys.id, id), eq(apiKeys.institutionId, institutionId)));
  return row;
}

/** Records use without a write per request: only when the stored time is older than the resolution. */
function touch(db: Database, table: typeof apiKeys | typeof operatorKeys, id: string, lastUsedAt: Date | null, now: Date): void {
  if (lastUsedAt && now.getTime() - lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
  const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
  // Advisory: a lost write must not fail the request. The condition keeps concurrent requests to one write.
  void db
    .update(table)
    .set({ lastUsedAt: now })
    .where(and(eq(table.id, id), or(isNull(table.lastUsedAt), lt(table.lastUsedAt, stale))))
    .catch(() => {});
}

/**
 * The caller behind a bearer key, or undefined when the key is unknown, revoked or expired, or its member was
 * removed. A member's key gets the scopes it was made with that the member's role still allows. Operator keys
 * (the `operator_keys` table, or the configured OPERATOR_API_KEY_HASH) act for the platform, not an institution.
 */
export async function authenticateApiKey(db: Database, key: string, opts: { operatorKeyHash?: string } = {}): Promise<Caller | undefined> {
  if (!KEY_PATTERN.test(key)) return undefined;
  const now = new Date();
  const hash = hashKey(key);
  const [row] = await db
    .select({ key: apiKeys, institution: institutions, member: members })
    .from(apiKeys)
    .innerJoin(institutions, eq(institutions.id, apiKeys.institutionId))
    .leftJoin(members, eq(members.id, apiKeys.memberId))
    .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now))));
  if (row) {
    if (row.key.memberId && !row.member) return undefined;
    touch(db, apiKeys, row.key.id, row.key.lastUsedAt, now);
    const allowed = row.member ? ROLE_SCOPES[row.member.role] : API_KEY_SCOPES;
    return {
      institutionId: row.institution.id,
      institutionName: row.institution.name,
      apiKeyId: row.key.id,
      scopes: (row.key.scopes as ApiKeyScope[]).filter((s) => allowed.includes(s)),
    };
  }
  if (opts.operatorKeyHash && opts.operatorKeyHash === hash) {
    return { institutionId: "operator", institutionName: "platform operator", apiKeyId: "configured", scopes: [], operator: true };
  }
  const [op] = await db.select().from(operatorKeys).where(and(eq(operatorKeys.keyHash, hash), isNull(operatorKeys.revokedAt)));
  if (!op) return undefined;
  touch(db, operatorKeys, op.id, op.lastUsedAt, now);
  return { institutionId: "operator", institutionName: "platform operator", apiKeyId: op.id, scopes: [], operator: true };
}
