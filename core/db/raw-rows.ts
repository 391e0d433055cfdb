import { getTableColumns, getTableName } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import pg from "pg";
import type { Database } from "./index.ts";

/**
 * The hottest reads (a page of certificates and the loaders behind its nested fields) skip Drizzle's per-query
 * machinery: its row mapping walks every column of every row through generic checks (`is(field, Column)`, a path per
 * column), and with the query building it was about a tenth of a page read's CPU time. Here a statement's text is
 * made once, pg runs it by name (prepared once per pooled connection), rows come back as arrays, and each column is
 * decoded by the same Drizzle column decoder (`mapFromDriverValue`) Drizzle would have used, so a row is the very
 * object `db.select().from(table)` answers.
 */

/**
 * pg's own parsers, except for the types Drizzle's node-postgres driver receives as text and leaves to its columns
 * to decode (timestamps, dates, intervals and their arrays): the same text reaches the same decoders.
 */
const TEXT_TYPES = new Set([
  pg.types.builtins.TIMESTAMPTZ,
  pg.types.builtins.TIMESTAMP,
  pg.types.builtins.DATE,
  pg.types.builtins.INTERVAL,
  1231, // numeric[]
  1115, // timestamp[]
  1185, // timestamptz[]
  1187, // interval[]
  1182, // date[]
]);
const asText = (value: string) => value;
const types = {
  getTypeParser: (oid: number, format?: "text" | "binary") => (TEXT_TYPES.has(oid) ? asText : pg.types.getTypeParser(oid, format as "text")),
};

/** A table's columns as a select list and a decoder of one row of them. */
export interface TableRows<R> {
  /** `"table"."column", …`, every column of the table in Drizzle's order. */
  readonly list: string;
  /** How many values a row of this table takes in an array row. */
  readonly width: number;
  /** The row whose columns start at `from` in `values`. */
  read(values: readonly unknown[], from?: number): R;
}

const tableRowsOf = new WeakMap<PgTable, TableRows<unknown>>();

export function tableRows<T extends PgTable>(table: T): TableRows<T["$inferSelect"]> {
  let found = tableRowsOf.get(table);
  if (!found) {
    const name = getTableName(table);
    const columns = Object.entries(getTableColumns(table));
    const keys = columns.map(([key]) => key);
    const decoders = columns.map(([, column]) => column);
    found = {
      list: columns.map(([, column]) => `"${name}"."${column.name}"`).join(", "),
      width: columns.length,
      read(values, from = 0) {
        const row: Record<string, unknown> = {};
        for (let i = 0; i < keys.length; i++) {
          const value = values[from + i];
          row[keys[i]!] = value === null ? null : decoders[i]!.mapFromDriverValue(value);
        }
        return row;
      },
    };
    tableRowsOf.set(table, found);
  }
  return found as TableRows<T["$inferSelect"]>;
}

/** A statement run by name: each pooled connection parses and plans it once. */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

/**
 * The rows of a named statement as arrays, or undefined when the database is not a `pg` pool (PGlite in this
 * thread, as some tests open it): the caller then reads through Drizzle as before.
 */
export async function arrayRows(db: Database, statement: NamedStatement, values: unknown[]): Promise<unknown[][] | undefined> {
  const pool = poolOf(db);
  if (!pool) return undefined;
  const result = await pool.query<unknown[]>({ name: statement.name, text: statement.text, values, rowMode: "array", types });
  return result.rows;
}

/** The `pg` pool behind a Drizzle handle (a PostgreSQL server, or the embedded PGlite's thread), when it is one. */
export function poolOf(db: Database): pg.Pool | undefined {
  const client = (db as unknown as { $client?: unknown }).$client;
  return client instanceof pg.Pool ? client : undefined;
}
