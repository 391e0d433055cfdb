import { randomBytes } from "node:crypto";
import { and, desc, eq, gt, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Database } from "../../core/db/index.ts";
import { isId } from "../../core/db/ids.ts";
import { revokeKeysAndTheirMakings } from "../../core/operations/api-key-revocation.ts";
import type { OwnerKeys } from "../../core/operations/operator-requests.ts";
import { apiKeys, institutions, members, operatorKeys, type MemberRole } from "../../core/db/schema.ts";
import { API_KEY_SCOPES, type ApiKeyScope, type Caller } from "./caller.ts";
import { hashSecret } from "../../core/secret-hash.ts";

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
  opts: {
    institutionId: string;
    name: string;
    scopes?: ApiKeyScope[];
    expiresAt?: Date | null;
    memberId?: string | null;
    idempotencyKey?: string;
    /** The key making it (through the API); absent: the operator's CLI or scripts. */
    maker?: Pick<Caller, "apiKeyId" | "memberId">;
  },
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
      createdBy: opts.maker ? "API_KEY" : "OPERATOR",
      createdByKeyId: opts.maker?.apiKeyId,
      createdByMemberId: opts.maker?.memberId,
    })
    .returning();
  return { id: row!.id, key, prefix, row: row! };
}

/**
 * The first OWNER's key of an institution the operator registers (requestRegisterInstitution): every scope, made
 * by the operator, acting for that member, in the registration's own transaction.
 */
export const firstOwnerKeys: OwnerKeys<ApiKeyRow> = {
  make: (tx, owner) => createApiKey(tx, { ...owner, name: "first owner", scopes: ["read", "issue", "admin"] }),
  find: async (tx, institutionId, idempotencyKey) =>
    (await tx.select().from(apiKeys).where(and(eq(apiKeys.institutionId, institutionId), eq(apiKeys.idempotencyKey, idempotencyKey))))[0],
};

/** A platform operator key (scope `operator`), shown once and stored hashed. */
export async function createOperatorKey(db: Database, name: string): Promise<{ id: string; key: string; prefix: string }> {
  const { key, prefix } = newSecret();
  const [row] = await db.insert(operatorKeys).values({ name, keyHash: hashKey(key), prefix }).returning({ id: operatorKeys.id });
  return { id: row!.id, key, prefix };
}

export async function listApiKeys(db: Database, institutionId: string): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).where(eq(apiKeys.institutionId, institutionId)).orderBy(desc(apiKeys.createdAt));
}

/**
 * Revokes one of the institution's keys and every key made by it, transitively (at once, for every later request);
 * revoking again changes nothing.
 */
export async function revokeApiKey(db: Database, institutionId: string, id: string): Promise<ApiKeyRow | undefined> {
  if (!isId(id)) return undefined;
  await revokeKeysAndTheirMakings(db, institutionId, sql`id = ${id}`);
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

/** Makers further back than this are not followed: such a chain is refused rather than walked without end. */
const MAX_MAKER_DEPTH = 32;

const effective = (scopes: readonly string[]): readonly ApiKeyScope[] => (scopes.includes("admin") ? API_KEY_SCOPES : (scopes as ApiKeyScope[]));

/**
 * What a key's makers may still grant: the scopes every key up its chain of makers holds now, cut to what every
 * member on the chain (acted for, or making) may hold by its role now. Undefined when a maker key is revoked, a
 * member on the chain was removed, or the chain is too long: the key then works no more. Checked on every request,
 * so neither a race with removeMember nor a row written before makers were revoked can escape it.
 */
async function grantedByMakers(db: Database, key: ApiKeyRow): Promise<readonly ApiKeyScope[] | undefined> {
  const chain = key.createdByKeyId
    ? ((
        (await db.execute(sql`
          WITH RECURSIVE chain(id, created_by_key_id, member_id, created_by_member_id, scopes, revoked_at, depth) AS (
            SELECT id, created_by_key_id, member_id, created_by_member_id, scopes, revoked_at, 1 FROM api_keys
              WHERE id = ${key.createdByKeyId} AND institution_id = ${key.institutionId}
            UNION ALL
            SELECT k.id, k.created_by_key_id, k.member_id, k.created_by_member_id, k.scopes, k.revoked_at, c.depth + 1
              FROM api_keys k JOIN chain c ON k.id = c.created_by_key_id
              WHERE c.depth <= ${MAX_MAKER_DEPTH} AND k.institution_id = ${key.institutionId}
          )
          SELECT * FROM chain`)) as unknown as {
          rows: { id: string; created_by_key_id: string | null; member_id: string | null; created_by_member_id: string | null; scopes: string[]; revoked_at: unknown; depth: number }[];
        }
      ).rows)
    : [];
  if (key.createdByKeyId) {
    // Every maker named must be found, unrevoked, and the chain must end within the bound.
    const last = chain.at(-1);
    if (!last || chain.length > MAX_MAKER_DEPTH || last.created_by_key_id) return undefined;
    if (chain.some((k) => k.revoked_at != null)) return undefined;
  }
  let granted: readonly ApiKeyScope[] = API_KEY_SCOPES;
  for (const k of chain) granted = granted.filter((s) => effective(k.scopes).includes(s));
  const memberIds = new Set([key.createdByMemberId, ...chain.flatMap((k) => [k.member_id, k.created_by_member_id])].filter((m): m is string => !!m));
  if (memberIds.size) {
    const found = await db
      .select({ id: members.id, role: members.role })
      .from(members)
      .where(and(eq(members.institutionId, key.institutionId), inArray(members.id, [...memberIds])));
    if (found.length !== memberIds.size) return undefined;
    for (const m of found) granted = granted.filter((s) => ROLE_SCOPES[m.role].includes(s));
  }
  return granted;
}

function buildKeyLookup(db: Database) {
  return db
    .select({ key: apiKeys, institution: institutions, member: members })
    .from(apiKeys)
    .innerJoin(institutions, eq(institutions.id, apiKeys.institutionId))
    .leftJoin(members, eq(members.id, apiKeys.memberId))
    .where(
      and(
        eq(apiKeys.keyHash, sql.placeholder("hash")),
        isNull(apiKeys.revokedAt),
        isNull(apiKeys.pendingApprovalId),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, sql.placeholder("now"))),
      ),
    )
    .prepare("api_key_by_hash");
}

/**
 * Every request with a key runs this look-up: built once per database handle and prepared by name, so each pooled
 * connection parses and plans it once. Nothing it answers is kept: a revoked key fails the very next request.
 */
const keyLookups = new WeakMap<Database, ReturnType<typeof buildKeyLookup>>();

function keyLookup(db: Database): ReturnType<typeof buildKeyLookup> {
  let found = keyLookups.get(db);
  if (!found) keyLookups.set(db, (found = buildKeyLookup(db)));
  return found;
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
  const [row] = await keyLookup(db).execute({ hash, now });
  if (row) {
    if (row.key.memberId && !row.member) return undefined;
    // ADMIN is read as what it implies, so narrowing an ADMIN key leaves it what its maker may still grant.
    let scopes = effective(row.key.scopes).filter((s) => (row.member ? ROLE_SCOPES[row.member.role] : API_KEY_SCOPES).includes(s));
    if (row.key.createdByKeyId || row.key.createdByMemberId) {
      const granted = await grantedByMakers(db, row.key);
      if (!granted) return undefined;
      scopes = scopes.filter((s) => granted.includes(s));
    }
    touch(db, apiKeys, row.key.id, row.key.lastUsedAt, now);
    return {
      institutionId: row.institution.id,
      institutionName: row.institution.name,
      apiKeyId: row.key.id,
      memberId: row.key.memberId ?? row.key.createdByMemberId ?? undefined,
      scopes,
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
