import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../../core/db/index.ts";

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

  it("refuses to answer once closed rather than waiting for ever", async () => {
    const closed = await openDatabase({ dir: join(dir, "second"), thread: true });
    await closed.close();
    await expect(closed.threadMemory!()).rejects.toThrow(/exited/);
  }, 60_000);
});
