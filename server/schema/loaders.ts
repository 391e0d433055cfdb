import { createContextCache } from "@pothos/core";
import DataLoader from "dataloader";
import { and, asc, eq, getTableColumns, getTableName, Placeholder, sql, type SQL } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Database } from "../../core/db/index.ts";
import { isId } from "../../core/db/ids.ts";
import { arrayRows, tableRows, type NamedStatement } from "../../core/db/raw-rows.ts";
import {
  certificateOperations,
  chainTxs,
  certificates,
  collections,
  editionContracts,
  editionMintBatches,
  editions,
  institutions,
  issuances,
  members,
  revocations,
} from "../../core/db/schema.ts";
import type { Context } from "../context.ts";

/**
 * `column` is one of `keys`, as one array parameter: `inArray` would make a parameter per key, and a page of 100
 * rows asks three loaders for 100 keys each, so building, sending and planning a hundred parameters per query
 * showed in the profile of a page read; a single `= any($1)` statement is the same text whatever the page size.
 */
function anyOf(column: PgColumn, keys: readonly string[] | Placeholder): SQL {
  return sql`${column} = any(${keys instanceof Placeholder ? keys : sql.param(keys)})`;
}

interface KeyedStatement {
  execute(values: { keys: string[] }): Promise<unknown>;
}

/**
 * A loader's statement, built once per database handle (not per request) and prepared by name, so each pooled
 * PostgreSQL connection parses and plans it once: every page read runs the same few loader statements.
 */
const statements = new WeakMap<Database, Map<string, KeyedStatement>>();

function statement(db: Database, name: string, build: () => { prepare(name: string): KeyedStatement }): KeyedStatement {
  let byName = statements.get(db);
  if (!byName) statements.set(db, (byName = new Map()));
  let found = byName.get(name);
  if (!found) byName.set(name, (found = build().prepare(name)));
  return found;
}

const KEYS = sql.placeholder("keys");

/**
 * The rows of `table` whose `column` is one of `keys`, `order`ed: one named statement (raw rows, decoded as Drizzle
 * decodes them; see core/db/raw-rows.ts), or through Drizzle's prepared statement when the database is not a `pg` pool.
 */
async function rowsByKeys<R>(db: Database, table: PgTable, column: PgColumn, keys: string[], order?: { createdAt: PgColumn; id: PgColumn }): Promise<R[]> {
  const name = `${order ? "all" : "one"}_${getTableName(table)}_${column.name}`;
  const reader = tableRows(table);
  const raw = rawStatements.get(name) ?? rawStatement(name, table, column, order);
  const arrays = await arrayRows(db, raw, [keys]);
  if (arrays) return arrays.map((values) => reader.read(values) as R);
  const query = statement(db, `loader_${name}`, () => {
    const select = db
      .select()
      .from(table)
      .where(anyOf(column, KEYS));
    return order ? select.orderBy(asc(order.createdAt), asc(order.id)) : select;
  });
  return (await query.execute({ keys })) as R[];
}

const rawStatements = new Map<string, NamedStatement>();

function rawStatement(name: string, table: PgTable, column: PgColumn, order?: { createdAt: PgColumn; id: PgColumn }): NamedStatement {
  const t = getTableName(table);
  const text =
    `select ${tableRows(table).list} from "${t}" where "${t}"."${column.name}" = any($1)` +
    (order ? ` order by "${t}"."${order.createdAt.name}" asc, "${t}"."${order.id.name}" asc` : "");
  const made = { name: `rows_${name}`, text };
  rawStatements.set(name, made);
  return made;
}

/** One row by a unique column, for many keys in one query. */
function byKey<T extends PgTable, R>(db: Database, table: T, column: PgColumn, key: (row: R) => string): DataLoader<string, R | null> {
  return new DataLoader(async (keys) => {
    const wanted = keys.filter(isId);
    const rows = wanted.length ? await rowsByKeys<R>(db, table, column, wanted) : [];
    const found = new Map(rows.map((r) => [key(r), r]));
    return keys.map((k) => found.get(k) ?? null);
  });
}

/** Every row with a key, for many keys in one query, oldest first (then by id). */
function allByKey<R extends { createdAt: Date; id: string }>(
  db: Database,
  table: PgTable & { createdAt: PgColumn; id: PgColumn },
  column: PgColumn,
  key: (row: R) => string,
): DataLoader<string, R[]> {
  return new DataLoader(async (keys) => {
    const wanted = keys.filter(isId);
    const rows = wanted.length ? await rowsByKeys<R>(db, table, column, wanted, table) : [];
    const grouped = new Map<string, R[]>();
    for (const r of rows) {
      const list = grouped.get(key(r));
      if (list) list.push(r);
      else grouped.set(key(r), [r]);
    }
    return keys.map((k) => grouped.get(k) ?? []);
  });
}

type Row<T extends PgTable> = T["$inferSelect"];

/**
 * Per-request loaders for nested fields: each follows a foreign key of a row the caller could already read,
 * so a page of any size costs one query per kind of nested field.
 */
export const loaders = createContextCache((ctx: Context) => ({
  institution: byKey<typeof institutions, Row<typeof institutions>>(ctx.db, institutions, institutions.id, (r) => r.id),
  collection: byKey<typeof collections, Row<typeof collections>>(ctx.db, collections, collections.id, (r) => r.id),
  issuance: byKey<typeof issuances, Row<typeof issuances>>(ctx.db, issuances, issuances.id, (r) => r.id),
  certificate: byKey<typeof certificates, Row<typeof certificates>>(ctx.db, certificates, certificates.id, (r) => r.id),
  certificateOfIssuance: byKey<typeof certificates, Row<typeof certificates>>(ctx.db, certificates, certificates.issuanceId, (r) => r.issuanceId),
  chainTx: byKey<typeof chainTxs, Row<typeof chainTxs>>(ctx.db, chainTxs, chainTxs.id, (r) => r.id),
  revocationsOfCertificate: allByKey<Row<typeof revocations>>(ctx.db, revocations, revocations.certificateId, (r) => r.certificateId),
  operationsOfCertificate: allByKey<Row<typeof certificateOperations>>(ctx.db, certificateOperations, certificateOperations.certificateId, (r) => r.certificateId),
  collectionsOfInstitution: allByKey<Row<typeof collections>>(ctx.db, collections, collections.institutionId, (r) => r.institutionId),
  member: byKey<typeof members, Row<typeof members>>(ctx.db, members, members.id, (r) => r.id),
  edition: byKey<typeof editions, Row<typeof editions>>(ctx.db, editions, editions.id, (r) => r.id),
  editionContract: byKey<typeof editionContracts, Row<typeof editionContracts>>(ctx.db, editionContracts, editionContracts.id, (r) => r.id),
  mintBatchesOfOperation: new DataLoader<string, Row<typeof editionMintBatches>[]>(async (keys) => {
    const wanted = keys.filter(isId);
    const rows = wanted.length
      ? await ctx.db.select().from(editionMintBatches).where(anyOf(editionMintBatches.operationId, wanted)).orderBy(asc(editionMintBatches.start))
      : [];
    return keys.map((k) => rows.filter((r) => r.operationId === k));
  }),
}));

/**
 * Drops what the loaders remember. A subscription keeps one context for its whole life, and each event must be
 * read afresh: an issuance's certificate, null while it was QUEUED, exists once it is CONFIRMED.
 */
export function forgetLoaded(ctx: Context): void {
  for (const loader of Object.values(loaders(ctx))) loader.clearAll();
}

/**
 * `loadMany` of a Node type: the caller's institution's rows with these ids, in order, null for the others.
 * Another institution's row is answered exactly as a missing one.
 */
export async function ownedRows<T extends PgTable & { id: PgColumn; institutionId: PgColumn }>(
  ctx: Context,
  table: T,
  ids: readonly string[],
  opts: { admin?: boolean } = {},
): Promise<(Row<T> | null)[]> {
  // What only ADMIN may list (keys, members) is not found by anyone else, by id or otherwise.
  if (opts.admin && !ctx.caller?.scopes.includes("admin")) return ids.map(() => null);
  const wanted = ids.filter(isId);
  if (!ctx.caller || ctx.caller.operator || !wanted.length) return ids.map(() => null);
  const rows = (await ctx.db
    .select()
    .from(table as PgTable)
    .where(and(anyOf(table.id, wanted), eq(table.institutionId, ctx.caller.institutionId)))) as (Row<T> & { id: string })[];
  const found = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => found.get(id) ?? null);
}

/** What a page's nested fields will ask the loaders for, so it can be read ahead in one statement. */
export interface PageReadAhead {
  /** The certificates' `collection`. */
  collection: boolean;
  /** The certificates' `history`: their revocations and certificate operations. */
  history: boolean;
}

/**
 * Reads, in one statement, what the loaders would read in one query each for a page of certificates (their
 * collections, revocations and certificate operations) and primes the loaders with it: the same rows, in the same
 * order, followed from the same foreign keys, but one round trip to the database instead of three. Each statement
 * on a loaded machine cost a socket write, a wake-up of the database and pool bookkeeping, a good part of a page
 * read's CPU time. Only when the database is a `pg` pool; otherwise the loaders read as usual.
 */
export async function readAheadOfCertificates(ctx: Context, rows: readonly Row<typeof certificates>[], wanted: PageReadAhead): Promise<void> {
  if (!rows.length || !(wanted.collection || wanted.history)) return;
  const parts: UnionPart[] = [];
  if (wanted.history) parts.push({ table: revocations, column: revocations.certificateId, param: 1 }, { table: certificateOperations, column: certificateOperations.certificateId, param: 1 });
  if (wanted.collection) parts.push({ table: collections, column: collections.id, param: wanted.history ? 2 : 1 });
  const name = `read_ahead_certificates_${wanted.history ? "h" : ""}${wanted.collection ? "c" : ""}`;
  const statement = unionStatements.get(name) ?? unionStatement(name, parts);
  const ids = rows.map((c) => c.id);
  const keys = [...(wanted.history ? [ids] : []), ...(wanted.collection ? [[...new Set(rows.map((c) => c.collectionId))]] : [])];
  const arrays = await arrayRows(ctx.db, statement, keys);
  if (!arrays) return;
  const found: unknown[][] = parts.map(() => []);
  for (const values of arrays) {
    const part = values[0] as number;
    found[part]!.push(tableRows(parts[part]!.table).read(values, statement.offsets[part]));
  }
  const load = loaders(ctx);
  const primeLists = <R extends { certificateId: string }>(loader: DataLoader<string, R[]>, list: R[]) => {
    const grouped = new Map<string, R[]>(ids.map((id) => [id, []]));
    for (const r of list) grouped.get(r.certificateId)?.push(r);
    for (const [id, of] of grouped) loader.prime(id, of);
  };
  let at = 0;
  if (wanted.history) {
    primeLists(load.revocationsOfCertificate, found[at++] as Row<typeof revocations>[]);
    primeLists(load.operationsOfCertificate, found[at++] as Row<typeof certificateOperations>[]);
  }
  if (wanted.collection) for (const c of found[at++] as Row<typeof collections>[]) load.collection.prime(c.id, c);
}

interface UnionPart {
  table: PgTable & { createdAt: PgColumn; id: PgColumn };
  column: PgColumn;
  /** Which parameter ($1, $2) holds its keys. */
  param: number;
}

/** A statement of several tables' rows, each row `[part, created_at, id, …every part's columns, null but its own]`. */
interface UnionStatement extends NamedStatement {
  /** Where each part's columns start in a row. */
  offsets: number[];
}

const unionStatements = new Map<string, UnionStatement>();

function unionStatement(name: string, parts: UnionPart[]): UnionStatement {
  const offsets: number[] = [];
  let width = 3;
  for (const p of parts) {
    offsets.push(width);
    width += tableRows(p.table).width;
  }
  const nulls = (table: PgTable) =>
    Object.values(getTableColumns(table))
      .map((c) => `null::${c.getSQLType()}`)
      .join(", ");
  const selects = parts.map((p, i) => {
    const t = getTableName(p.table);
    const columns = parts.map((other, j) => (i === j ? tableRows(p.table).list : nulls(other.table))).join(", ");
    return `select ${i}, "${t}"."${p.table.createdAt.name}", "${t}"."${p.table.id.name}", ${columns} from "${t}" where "${t}"."${p.column.name}" = any($${p.param}::uuid[])`;
  });
  // Each part's rows oldest first, then by id, as the loaders order theirs.
  const made = { name, text: `${selects.join(" union all ")} order by 1, 2, 3`, offsets };
  unionStatements.set(name, made);
  return made;
}
