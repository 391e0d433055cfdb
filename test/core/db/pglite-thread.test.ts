import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../../core/db/index.ts";
import { poolOf } from "../../../core/db/raw-rows.ts";

describe("PGlite in a thread of its own: what it costs, asked over its message port", () => {
  let handle: DatabaseHandle;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "hallmark-pglite-thread-"));
    handle = await openDatabase({ dir, thread: true });
  }, 60_000);
  afterAll(async () => {
    await handle?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers its memory (its own V8 heap and PostgreSQL's WebAssembly memory) and its CPU time, each to its own question", async () => {
    await handle.db.execute(sql`select 1`);
    // Both questions at once: each answer must reach the question that asked for it.
    const [memory, cpu] = await Promise.all([handle.threadMemory!(), handle.threadCpuUsage!()]);
    // PostgreSQL's shared buffers alone (128 MB by default) live in the WebAssembly memory.
    expect(memory.wasm).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(memory.heapUsed).toBeGreaterThan(0);
    expect(memory.heapTotal).toBeGreaterThanOrEqual(memory.heapUsed);
    expect(cpu.user + cpu.system).toBeGreaterThan(0);
  });

  it("keeps its connection through failed statements, a prepared one whose table went away included", async () => {
    const pool = poolOf(handle.db)!;
    let connections = 0;
    pool.on("connect", () => connections++);
    await pool.query("create table renamed (id int)");
    await pool.query("insert into renamed values (7)");
    const prepared = () => pool.query({ name: "renamed_by_id", text: "select id from renamed where id = $1", values: [7], rowMode: "array" });
    expect((await prepared()).rows).toEqual([[7]]);
    await pool.query("alter table renamed rename to renamed_hidden");
    try {
      await expect(prepared()).rejects.toThrow(/relation "renamed" does not exist/);
      for (let i = 0; i < 20; i++) await expect(pool.query("insert into no_such_table values (1)")).rejects.toThrow(/does not exist/);
    } finally {
      await pool.query("alter table renamed_hidden rename to renamed");
    }
    expect((await prepared()).rows).toEqual([[7]]);
    expect(connections).toBe(0);
  });

  it("answers on a new connection at once when the pool has thrown its connection away", async () => {
    const pool = poolOf(handle.db)!;
    for (let i = 0; i < 10; i++) {
      const client = await pool.connect();
      client.release(new Error("thrown away"));
      expect((await pool.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
    }
  });

  it("refuses to answer once closed rather than waiting for ever", async () => {
    const closed = await openDatabase({ dir: join(dir, "second"), thread: true });
    await closed.close();
    await expect(closed.threadMemory!()).rejects.toThrow(/exited/);
  }, 60_000);
});
