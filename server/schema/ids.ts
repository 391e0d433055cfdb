import { decodeGlobalID } from "@pothos/plugin-relay";
import { and, eq } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Context } from "../context.ts";
import { notFound } from "../errors.ts";
import { isId } from "../../core/db/ids.ts";

/**
 * The database id an id argument names: the id itself (`id` fields), or a global id (`nodeId` fields) of the
 * type `typename` (any Node type when omitted). Undefined when it names nothing.
 */
export function rawId(value: string | number, typename?: string): string | undefined {
  const id = String(value);
  if (isId(id)) return id;
  try {
    const decoded = decodeGlobalID(id);
    if ((!typename || decoded.typename === typename) && isId(decoded.id)) return decoded.id;
  } catch {}
  return undefined;
}

/**
 * The caller's institution's row with this id (or global id), or NOT_FOUND: another institution's row is
 * answered exactly as a row that does not exist.
 */
export async function ownedRow<T extends PgTable & { id: PgColumn; institutionId: PgColumn }>(
  ctx: Context,
  table: T,
  id: string | number,
  what: string,
): Promise<T["$inferSelect"]> {
  const key = rawId(id);
  const rows = key
    ? await ctx.db
        .select()
        .from(table as PgTable)
        .where(and(eq(table.id, key), eq(table.institutionId, ctx.caller!.institutionId)))
    : [];
  if (!rows[0]) throw notFound(what);
  return rows[0] as T["$inferSelect"];
}
