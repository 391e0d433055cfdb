import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { MigrationsBehindError, openDatabase, pendingMigrations } from "../../../core/db/index.ts";

const journal = JSON.parse(readFileSync(new URL("../../../core/db/migrations/meta/_journal.json", import.meta.url), "utf8")) as { entries: { tag: string }[] };
const allTags = journal.entries.map((e) => e.tag);

describe("migration policy of openDatabase", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), "hallmark-migrations-"));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("`require` refuses an empty database, naming every migration and npm run migrate", async () => {
    const dir = tempDir();
    const err = await openDatabase({ dir, migrations: "require" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationsBehindError);
    expect((err as MigrationsBehindError).pending).toEqual(allTags);
    expect((err as Error).message).toMatch(/npm run migrate/);
  });

  it("`apply` migrates; then `require` opens, and refuses a database missing the newest migration, naming it", async () => {
    const dir = tempDir();
    await (await openDatabase({ dir })).close();
    const current = await openDatabase({ dir, migrations: "require" });
    expect(await pendingMigrations(current.db)).toEqual([]);
    // As if the code were one release ahead of the database: forget the newest migration's record.
    await current.db.execute(sql`delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations)`);
    await current.close();
    const err = await openDatabase({ dir, migrations: "require" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationsBehindError);
    expect((err as MigrationsBehindError).pending).toEqual([allTags.at(-1)]);
  });
});
