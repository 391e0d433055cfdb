import { createHash, randomBytes } from "node:crypto";
import { and, eq, gt, isNull, or } from "drizzle-orm";
import type { Database } from "../../core/db/index.ts";
import { apiKeys, institutions } from "../../core/db/schema.ts";
import type { Caller } from "../context.ts";

export const API_KEY_SCOPES = ["read", "issue", "admin"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const KEY_PATTERN = /^hm_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{32,}$/;

function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Creates a key and returns its secret, which is stored only as a hash and cannot be shown again. */
export async function createApiKey(
  db: Database,
  opts: { institutionId: string; name: string; scopes?: ApiKeyScope[]; expiresAt?: Date },
): Promise<{ id: string; key: string; prefix: string }> {
  const prefix = randomBytes(6).toString("base64url");
  const key = `hm_${prefix}_${randomBytes(24).toString("base64url")}`;
  const [row] = await db
    .insert(apiKeys)
    .values({
      institutionId: opts.institutionId,
      name: opts.name,
      keyHash: hashKey(key),
      prefix: `hm_${prefix}`,
      scopes: opts.scopes ?? ["read", "issue"],
      expiresAt: opts.expiresAt,
    })
    .returning({ id: apiKeys.id });
  return { id: row!.id, key, prefix: `hm_${prefix}` };
}

/** The caller behind a bearer key, or undefined when the key is unknown, revoked or expired. */
export async function authenticateApiKey(db: Database, key: string): Promise<Caller | undefined> {
  if (!KEY_PATTERN.test(key)) return undefined;
  const now = new Date();
  const [row] = await db
    .select({ key: apiKeys, institution: institutions })
    .from(apiKeys)
    .innerJoin(institutions, eq(institutions.id, apiKeys.institutionId))
    .where(
      and(
        eq(apiKeys.keyHash, hashKey(key)),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now)),
      ),
    );
  if (!row) return undefined;
  // Last-used time is advisory: a lost write must not fail the request.
  void db
    .update(apiKeys)
    .set({ lastUsedAt: now })
    .where(eq(apiKeys.id, row.key.id))
    .catch(() => {});
  return {
    institutionId: row.institution.id,
    institutionName: row.institution.name,
    apiKeyId: row.key.id,
    scopes: row.key.scopes as ApiKeyScope[],
  };
}
