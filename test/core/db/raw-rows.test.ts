import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asc, getTableColumns, sql } from "drizzle-orm";
import { bigint, boolean, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../../core/db/index.ts";
import { arrayRows, poolOf, tableRows } from "../../../core/db/raw-rows.ts";
import * as schema from "../../../core/db/schema.ts";

/** Every kind of column the paginated and loaded tables have, each nullable too. */
const kinds = pgTable("raw_rows_kinds", {
  id: uuid("id").primaryKey(),
  name: text("name").notNull(),
  status: text("status", { enum: ["A", "B"] }),
  document: jsonb("document").$type<Record<string, unknown>>(),
  at: timestamp("at", { withTimezone: true, mode: "date" }).notNull(),
  maybeAt: timestamp("maybe_at", { withTimezone: true, mode: "date" }),
  block: bigint("block", { mode: "number" }),
  count: integer("count"),
  flag: boolean("flag"),
  roles: text("roles").array(),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull(),
});

describe("raw rows", () => {
  let dir: string;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hallmark-raw-rows-"));
    // PGlite on a thread of its own is reached through a pg pool, as a PostgreSQL server is.
    handle = await openDatabase({ dir, thread: true });
    await handle.db.execute(sql`create table raw_rows_kinds (
      id uuid primary key, name text not null, status text, document jsonb, at timestamptz not null, maybe_at timestamptz,
      block bigint, count integer, flag boolean, roles text[], created_at timestamptz not null)`);
  }, 60_000);

  afterAll(async () => {
    await handle?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("decodes a row as Drizzle's select does, for every kind of column, null or not", async () => {
    expect(poolOf(handle.db)).toBeDefined();
    await handle.db.insert(kinds).values([
      {
        id: randomUUID(),
        name: 'with "quotes", commas and ünïcødé',
        status: "A",
        document: { title: "MSc", nested: { list: [1, "two", null] } },
        at: new Date("2026-12-07T04:28:32.469Z"),
        maybeAt: new Date("2030-06-30T00:00:00Z"),
        block: 2 ** 40,
        count: -7,
        flag: false,
        roles: ["OWNER", "with space", ""],
        createdAt: new Date("2026-01-01T00:00:00Z"),
      },
      { id: randomUUID(), name: "nulls", at: new Date(0), createdAt: new Date("2026-01-02T00:00:00Z") },
    ]);
    // Microseconds too, which a Date drops the same way under both.
    await handle.db.execute(sql`update raw_rows_kinds set at = at + interval '123 microseconds'`);
    const drizzle = await handle.db.select().from(kinds).orderBy(asc(kinds.createdAt));
    const reader = tableRows(kinds);
    const arrays = await arrayRows(handle.db, { name: "raw_rows_kinds_all", text: `select ${reader.list} from raw_rows_kinds order by created_at` }, []);
    expect(arrays).toHaveLength(2);
    const raw = arrays!.map((values) => reader.read(values));
    expect(raw).toEqual(drizzle);
    // The same keys in the same order, so an answer built from either serializes the same.
    expect(raw.map((r) => Object.keys(r))).toEqual(drizzle.map((r) => Object.keys(r)));
    expect(reader.width).toBe(Object.keys(getTableColumns(kinds)).length);
  });

  it("reads a row from an offset, as the read-ahead's union rows hold several tables side by side", async () => {
    const reader = tableRows(kinds);
    const arrays = await arrayRows(
      handle.db,
      { name: "raw_rows_kinds_offset", text: `select 1, null::text, ${reader.list} from raw_rows_kinds order by created_at` },
      [],
    );
    const drizzle = await handle.db.select().from(kinds).orderBy(asc(kinds.createdAt));
    expect(arrays!.map((values) => reader.read(values, 2))).toEqual(drizzle);
  });

  it("leaves a database that is not a pg pool to Drizzle", async () => {
    const inThread = await openDatabase({ dir: join(dir, "in-thread") });
    try {
      expect(poolOf(inThread.db)).toBeUndefined();
      expect(await arrayRows(inThread.db, { name: "x", text: "select 1" }, [])).toBeUndefined();
      // The schema's own tables read through it as before.
      expect(tableRows(schema.certificates).width).toBe(Object.keys(getTableColumns(schema.certificates)).length);
    } finally {
      await inThread.close();
    }
  }, 60_000);
});
