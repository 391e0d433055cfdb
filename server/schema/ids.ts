import { and, eq } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Context } from "../context.ts";
import { notFound } from "../errors.ts";
import { isId } from "../../core/db/ids.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The caller's institution's row with this id, or NOT_FOUND: another institution's row is answered exactly as
 * a row that does not exist.
 */
export async function ownedRow<T extends PgTable & { id: PgColumn; institutionId: PgColumn }>(
  ctx: Context,
  table: T,
  id: string | number,
  what: string,
): Promise<T["$inferSelect"]> {
  const rows = isId(String(id))
    ? await ctx.db
        .select()
        .from(table as PgTable)
        .where(and(eq(table.id, String(id)), eq(table.institutionId, ctx.caller!.institutionId)))
    : [];
  if (!rows[0]) throw notFound(what);
  return rows[0] as T["$inferSelect"];
}
