import { and, asc, count, desc, sql, type SQL } from "drizzle-orm";
import { PgDialect, type PgColumn, type PgTable } from "drizzle-orm/pg-core";
import { getAddress } from "ethers";
import { GraphQLError, Kind, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";
import type { Database } from "../../core/db/index.ts";
import { isId } from "../../core/db/ids.ts";
import { arrayRows, tableRows, type NamedStatement } from "../../core/db/raw-rows.ts";
import { builder, MAX_PAGE_SIZE } from "../builder.ts";
import { describedValues } from "./enums.ts";

const DEFAULT_PAGE_SIZE = 20;

export const SortOrderEnum = builder.enumType("SortOrder", {
  description: "Order of a connection's items: by creation time, then by id (so items created in the same instant keep one order).",
  values: describedValues(["ASC", "DESC"], {
    ASC: "Oldest first.",
    DESC: "Newest first.",
  }),
});

export type SortOrder = "ASC" | "DESC";

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** A connection page as Pothos expects it, plus the count of every item the filters match (read only when asked). */
export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => Promise<number>;
}

function badInput(message: string, field: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", field } });
}

/**
 * A cursor names one item by its creation time, exactly as PostgreSQL holds it (microseconds: a JavaScript
 * Date would lose them and skip or repeat items), and its id.
 */
function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString("base64url");
}

const PG_TIMESTAMPTZ = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d){0,2}$/;

function decodeCursor(cursor: string, field: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === "string" &&
      PG_TIMESTAMPTZ.test(value[0]) &&
      typeof value[1] === "string" &&
      isId(value[1])
    ) {
      return [value[0], value[1]];
    }
  } catch {}
  throw badInput(`${field} is not a cursor of this connection`, field);
}

/** Reads the connection arguments, refusing a page larger than MAX_PAGE_SIZE. */
export function pageSize(args: PageArgs): { size: number; fromEnd: boolean } {
  for (const field of ["first", "last"] as const) {
    const n = args[field];
    if (n != null && (n < 0 || n > MAX_PAGE_SIZE)) throw badInput(`${field} must be between 0 and ${MAX_PAGE_SIZE}`, field);
  }
  if (args.first != null && args.last != null) throw badInput("pass either first or last, not both", "last");
  if (args.last != null) return { size: args.last, fromEnd: true };
  return { size: args.first ?? DEFAULT_PAGE_SIZE, fromEnd: false };
}

/**
 * One page of `table`'s rows matching `where`, ordered by (createdAt, id) in `order`, with Relay's
 * first/after/last/before. One query for the page; the total is counted only when asked: in the page's own
 * statement when `withTotal` says the request selects it (one round trip, one snapshot), else by a second query
 * when `totalCount` is resolved (and when the page is empty, having no row to carry it).
 */
export async function paginate<R>(opts: {
  db: Database;
  table: PgTable & { createdAt: PgColumn; id: PgColumn };
  where: SQL | undefined;
  order: SortOrder;
  args: PageArgs;
  /** The request selects `totalCount` (see {@link selectsField}): it is counted by the page's statement. */
  withTotal?: boolean;
}): Promise<Page<R>> {
  const { db, table, args } = opts;
  const { size, fromEnd } = pageSize(args);
  const after = args.after != null ? decodeCursor(args.after, "after") : undefined;
  const before = args.before != null ? decodeCursor(args.before, "before") : undefined;
  const key = sql`(${table.createdAt}, ${table.id})`;
  const at = ([t, i]: [string, string]) => sql`(${t}::timestamptz, ${i}::uuid)`;
  // "After" means later in the requested order.
  const later = opts.order === "ASC" ? (c: [string, string]) => sql`${key} > ${at(c)}` : (c: [string, string]) => sql`${key} < ${at(c)}`;
  const earlier = opts.order === "ASC" ? (c: [string, string]) => sql`${key} < ${at(c)}` : (c: [string, string]) => sql`${key} > ${at(c)}`;
  const where = and(opts.where, after && later(after), before && earlier(before));
  // Reading from the end walks the order backwards, then turns the page around.
  const ascending = (opts.order === "ASC") !== fromEnd;
  const by = ascending ? asc : desc;
  const counted = () => db.select({ n: count() }).from(table as PgTable).where(opts.where).then((r) => r[0]!.n);
  let total: Promise<number> | undefined;
  const page = await pageRows<R>(db, { table, where, all: opts.where, by, limit: size + 1, withTotal: !!opts.withTotal });
  let rows: { row: R & { id: string }; cursorAt: string }[];
  if (page) {
    rows = page.rows;
    if (page.total !== undefined) total = Promise.resolve(page.total);
  } else {
    rows = (await db
      .select({ row: table as PgTable, cursorAt: sql<string>`${table.createdAt}::text` })
      .from(table as PgTable)
      .where(where)
      .orderBy(by(table.createdAt), by(table.id))
      .limit(size + 1)) as unknown as { row: R & { id: string }; cursorAt: string }[];
  }
  return pageOf(rows, {
    size,
    fromEnd,
    after: after !== undefined,
    before: before !== undefined,
    edge: (r) => ({ cursor: encodeCursor(r.cursorAt, r.row.id), node: r.row as R }),
    totalCount: () => (total ??= counted()),
  });
}

const dialect = new PgDialect();

/** Named page statements by their text; a bounded number of shapes (filters, order, cursors), each prepared once per connection. */
const pageStatements = new Map<string, NamedStatement>();
const MAX_PAGE_STATEMENTS = 500;

/**
 * The page's rows read as raw arrays by a named statement (see core/db/raw-rows.ts), with the count of every row
 * `all` matches in a column of its own when `withTotal`; undefined when the database is not a `pg` pool.
 */
async function pageRows<R>(
  db: Database,
  q: { table: PgTable & { createdAt: PgColumn; id: PgColumn }; where: SQL | undefined; all: SQL | undefined; by: typeof asc; limit: number; withTotal: boolean },
): Promise<{ rows: { row: R & { id: string }; cursorAt: string }[]; total?: number } | undefined> {
  const reader = tableRows(q.table);
  const { sql: text, params } = dialect.sqlToQuery(
    sql`select ${sql.raw(reader.list)}, ${q.table.createdAt}::text${q.withTotal ? sql`, (select count(*) from ${q.table}${q.all ? sql` where ${q.all}` : sql``})` : sql``} from ${q.table}${q.where ? sql` where ${q.where}` : sql``} order by ${q.by(q.table.createdAt)}, ${q.by(q.table.id)} limit ${q.limit}`,
  );
  let statement = pageStatements.get(text);
  if (!statement) {
    // Past the bound a shape runs unnamed (parsed each time) rather than leave ever more statements on each connection.
    statement = { name: pageStatements.size < MAX_PAGE_STATEMENTS ? `page_${pageStatements.size}` : "", text };
    if (statement.name) pageStatements.set(text, statement);
  }
  const arrays = await arrayRows(db, statement, params);
  if (!arrays) return undefined;
  const w = reader.width;
  const rows = arrays.map((values) => ({ row: reader.read(values) as R & { id: string }, cursorAt: values[w] as string }));
  // Counted in the same statement; an empty page has no row to carry it, so it is counted when asked.
  const total = q.withTotal && arrays.length ? Number(arrays[0]![w + 1]) : undefined;
  return { rows, ...(total !== undefined ? { total } : {}) };
}

/**
 * Whether the field being resolved selects the field at `path` below it (`["totalCount"]`,
 * `["edges", "node", "history"]`), directly, in inline fragments or in named fragments. A field under a directive
 * (`@include`, `@skip`) counts as selected: what this decides is only what to read ahead.
 */
export function selectsField(info: GraphQLResolveInfo, ...path: string[]): boolean {
  const seen = new Set<string>();
  const within = (set: SelectionSetNode | undefined, depth: number): boolean =>
    !!set?.selections.some((s) => {
      if (s.kind === Kind.FIELD) return s.name.value === path[depth] && (depth === path.length - 1 || within(s.selectionSet, depth + 1));
      if (s.kind === Kind.INLINE_FRAGMENT) return within(s.selectionSet, depth);
      const key = `${s.name.value}:${depth}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return within(info.fragments[s.name.value]?.selectionSet, depth);
    });
  return info.fieldNodes.some((f) => within(f.selectionSet, 0));
}

/**
 * The page from rows read with one more than `size` in the walking order (backwards when reading from the end):
 * the extra row says whether more lie beyond; `after` / `before` whether the request started from a cursor.
 * Every keyset connection ends here, whatever its key.
 */
export function pageOf<Row, T>(
  rows: Row[],
  opts: { size: number; fromEnd: boolean; after: boolean; before: boolean; edge: (row: Row) => { cursor: string; node: T }; totalCount: () => Promise<number> },
): Page<T> {
  const more = rows.length > opts.size;
  const page = rows.slice(0, opts.size);
  if (opts.fromEnd) page.reverse();
  const edges = page.map(opts.edge);
  return {
    edges,
    pageInfo: {
      hasNextPage: opts.fromEnd ? opts.before : more,
      hasPreviousPage: opts.fromEnd ? more : opts.after,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: opts.totalCount,
  };
}

/** The connection type's own fields: how many items the filters match. */
export function connectionFields<P extends object>(t: PothosSchemaTypes.ObjectFieldBuilder<Types, P>) {
  return {
    totalCount: t.int({
      description: "Items matching the filters, on every page.",
      // Every connection of this API is made by `paginate`.
      resolve: (page) => (page as unknown as Page<unknown>).totalCount(),
    }),
  };
}

/**
 * A holder filter in any letter case, as the EIP-55 form addresses are stored in (so an index serves the
 * comparison); anything but an address, or a mixed-case one with a wrong checksum, is refused.
 */
export function holderAddress(value: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw badInput("holder must be an Ethereum address (0x and 40 hex digits)", "holder");
  try {
    return getAddress(value);
  } catch {
    throw badInput("holder has a wrong EIP-55 checksum (give it checksummed, or in one letter case)", "holder");
  }
}
