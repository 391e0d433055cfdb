import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgArray } from "../../../core/db/arrays.ts";
import { openDatabase, type DatabaseHandle } from "../../../core/db/index.ts";

describe("pgArray", () => {
  let dir: string;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hallmark-arrays-"));
    handle = await openDatabase({ dir });
  });

  afterAll(async () => {
    await handle?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("reaches PostgreSQL as the same values, whatever characters they hold", async () => {
    const values = ["plain", "", "with space", 'double "quote"', "back\\slash", "trailing\\", "{braces},commas", "NULL", "ünïcødé 證書 🎓", "new\nline", null, "'single'"];
    const result = (await handle.db.execute(sql`select unnest(${pgArray(values)}::text[]) as v`)) as unknown as { rows: { v: string | null }[] };
    expect(result.rows.map((r) => r.v)).toEqual(values);
  });

  it("gives an empty array for no values, and casts to other types", async () => {
    const empty = (await handle.db.execute(sql`select cardinality(${pgArray([])}::text[]) as n`)) as unknown as { rows: { n: number }[] };
    expect(empty.rows[0]!.n).toBe(0);
    const ids = [crypto.randomUUID(), crypto.randomUUID()];
    const typed = (await handle.db.execute(sql`select unnest(${pgArray(ids)}::uuid[])::text as id, unnest(${pgArray(["1", null])}::bigint[]) as n`)) as unknown as {
      rows: { id: string; n: string | number | null }[];
    };
    expect(typed.rows.map((r) => r.id)).toEqual(ids);
    expect(typed.rows.map((r) => (r.n === null ? null : Number(r.n)))).toEqual([1, null]);
  });
});
