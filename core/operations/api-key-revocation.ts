import { sql, type SQL } from "drizzle-orm";
import type { Database, DbTransaction } from "../db/index.ts";


/**
 * Revokes the institution's keys that `seed` selects (a condition on `api_keys`) and, transitively, every key made
 * by one of them: a key never outlives the authority that made it. Keys already revoked keep their time.
 */
export async function revokeKeysAndTheirMakings(db: Database | DbTransaction, institutionId: string, seed: SQL): Promise<void> {
  await db.execute(sql`
    WITH RECURSIVE doomed(id) AS (
      SELECT id FROM api_keys WHERE institution_id = ${institutionId} AND (${seed})
      UNION
      SELECT k.id FROM api_keys k JOIN doomed d ON k.created_by_key_id = d.id
    )
    UPDATE api_keys SET revoked_at = now() WHERE id IN (SELECT id FROM doomed) AND revoked_at IS NULL`);
}
