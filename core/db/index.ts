import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema.ts";

export { schema };
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
/** The handle inside `db.transaction(async (tx) => …)`: what a step that must share its caller's transaction takes. */
export type DbTransaction = Parameters<Parameters<Database["transaction"]>[0]>[0];

export interface ThreadMemory {
  heapUsed: number;
  /** The heap V8 holds for this thread, used or not. */
  heapTotal: number;
  external: number;
  /** PGlite's WebAssembly memory: PostgreSQL's shared buffers, caches and work memory; it grows and never shrinks. */
  wasm: number;
}

export interface DatabaseHandle {
  db: Database;
  /** "pglite" keeps its files under the data folder; "postgres" is a server named by DATABASE_URL. */
  kind: "pglite" | "postgres";
  /** The CPU time (microseconds) of the thread PGlite runs on, when it has a thread of its own. */
  threadCpuUsage?(): Promise<NodeJS.CpuUsage>;
  /** What the PGlite thread holds (bytes), when it has a thread of its own: its V8 heap and its WebAssembly memory. */
  threadMemory?(): Promise<ThreadMemory>;
  close(): Promise<void>;
}

/**
 * What opening does about the schema. `apply`: run pending migrations (the dev stack, the tests, `npm run migrate`).
 * `require`: refuse a database whose migrations are behind, because two production processes migrating at once
 * on start would race, and a schema change should be a deliberate step an operator runs once.
 */
export type MigrationPolicy = "apply" | "require";

/** The database is behind the code: `pending` names the migrations `npm run migrate` would apply. */
export class MigrationsBehindError extends Error {
  readonly pending: string[];
  constructor(pending: string[]) {
    super(
      `the database schema is behind this version: ${pending.length} migration(s) not applied (${pending.join(", ")}). ` +
        "Run `npm run migrate` with the same DATABASE_URL (or data folder), then start again.",
    );
    this.name = "MigrationsBehindError";
    this.pending = pending;
  }
}

const migrationsFolder = fileURLToPath(new URL("./migrations", import.meta.url));

/** Opens PostgreSQL (a server when `url` is set, PGlite under `dir` otherwise), migrating or checking per `migrations` (default `apply`). */
export async function openDatabase(opts: {
  url?: string;
  dir: string;
  migrations?: MigrationPolicy;
  /**
   * PGlite only: run it in a worker thread of its own, reached over the wire protocol by `pg` (the dev stack, where
   * the database is otherwise a third of the main thread's work). Default: in this thread.
   */
  thread?: boolean;
}): Promise<DatabaseHandle> {
  const handle = opts.url ? await openServer(opts.url) : opts.thread ? await openPgliteThread(opts.dir) : await openPglite(opts.dir);
  try {
    if ((opts.migrations ?? "apply") === "apply") {
      await handle.migrate();
    } else {
      const pending = await pendingMigrations(handle.db);
      if (pending.length) throw new MigrationsBehindError(pending);
    }
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
  return { db: handle.db, kind: handle.kind, close: handle.close, ...(handle.threadCpuUsage ? { threadCpuUsage: handle.threadCpuUsage } : {}), ...(handle.threadMemory ? { threadMemory: handle.threadMemory } : {}) };
}

/** The journal's migrations the database has not applied, oldest first (drizzle applies those newer than its last record). */
export async function pendingMigrations(db: Database): Promise<string[]> {
  const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, "utf8")) as { entries: { tag: string; when: number }[] };
  const exists = await db.execute(sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`);
  let last = -Infinity;
  if (rowsOf(exists)[0]?.present) {
    const result = await db.execute(sql`select max(created_at) as last from drizzle.__drizzle_migrations`);
    const value = rowsOf(result)[0]?.last;
    if (value !== null && value !== undefined) last = Number(value);
  }
  return journal.entries.filter((e) => e.when > last).map((e) => e.tag);
}

function rowsOf(result: unknown): Record<string, unknown>[] {
  return ((result as { rows?: Record<string, unknown>[] }).rows ?? (result as Record<string, unknown>[])) as Record<string, unknown>[];
}

interface OpenedDatabase extends DatabaseHandle {
  migrate(): Promise<void>;
}

async function openServer(url: string): Promise<OpenedDatabase> {
  const { default: pg } = await import("pg");
  const { drizzle } = await import("drizzle-orm/node-postgres");
  const { migrate } = await import("drizzle-orm/node-postgres/migrator");
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const db = drizzle({ client: pool, schema });
  return { db: db as unknown as Database, kind: "postgres", close: () => pool.end(), migrate: () => migrate(db, { migrationsFolder }) };
}

async function openPglite(dir: string): Promise<OpenedDatabase> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const db = drizzle({ client, schema });
  return { db: db as unknown as Database, kind: "pglite", close: () => client.close(), migrate: () => migrate(db, { migrationsFolder }) };
}

/**
 * The PGlite thread's young generation: 48 MiB is V8's 16 MiB semi-space. Left to itself, V8 doubled it under a long
 * burst (the protocol's messages in flight survive a scavenge, which V8 reads as a reason to grow), taking the
 * thread's heap from 34 to 146 MiB with 15–40 MiB alive. Its old generation follows the process's --max-old-space-size.
 */
const PGLITE_THREAD_LIMITS = { maxYoungGenerationSizeMb: 48 };

/**
 * pg-pool's `query` throws its connection away after any failed statement (a unique violation, a missing table), and
 * the next statement opens a new one. To the thread that is a reconnection per error, and one that can arrive
 * before the thread has let go of the connection it replaces. A statement error leaves a `pg` connection usable (it
 * has read the server's ReadyForQuery before the error reaches us), so here the connection goes back to the pool;
 * one that is really broken is not queryable any more, and the pool drops that one itself.
 */
function keepConnectionOnStatementErrors(pool: import("pg").Pool): void {
  const poolQuery = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as { query: unknown }).query = (...args: unknown[]) => {
    if (typeof args.at(-1) === "function") return poolQuery(...args); // the callback form: as pg-pool answers it
    return (async () => {
      const client = await pool.connect();
      try {
        return await (client.query as (...a: unknown[]) => Promise<unknown>)(...args);
      } finally {
        client.release();
      }
    })();
  };
}

/** How long the PGlite thread may take to close (flushing its files) before it is terminated. */
const THREAD_CLOSE_MS = 30_000;

/**
 * PGlite in a worker thread (core/db/pglite-thread.ts) on a Unix socket, and one `pg` connection to it: PGlite is
 * one session, so the pool holds exactly one connection, which a transaction keeps to itself until it ends, as the
 * in-thread PGlite's own lock does.
 */
async function openPgliteThread(dir: string): Promise<OpenedDatabase> {
  const { default: pg } = await import("pg");
  const { drizzle } = await import("drizzle-orm/node-postgres");
  const { migrate } = await import("drizzle-orm/node-postgres/migrator");
  mkdirSync(dir, { recursive: true });
  // `pg` finds a server's socket as <folder>/.s.PGSQL.<port>; a short folder of its own keeps under the path limit.
  const socketDir = mkdtempSync(join(tmpdir(), "hallmark-pglite-"));
  const socketPath = join(socketDir, ".s.PGSQL.5432");
  const thread = new Worker(new URL("./pglite-thread.ts", import.meta.url), { workerData: { dir, socketPath }, resourceLimits: PGLITE_THREAD_LIMITS });
  const exited = new Promise<void>((resolve) => thread.once("exit", () => resolve()));
  let threadError: unknown;
  thread.on("error", (err) => (threadError = err));
  const stopThread = async () => {
    const timer = setTimeout(() => void thread.terminate(), THREAD_CLOSE_MS);
    thread.postMessage({ close: true });
    await exited;
    clearTimeout(timer);
    rmSync(socketDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: { ready?: boolean; error?: string }) => {
        if (m.ready) resolve();
        else if (m.error) reject(new Error(`PGlite could not open ${dir}: ${m.error}`));
        else return;
        thread.off("message", onMessage);
      };
      thread.on("message", onMessage);
      void exited.then(() => reject(threadError ?? new Error("the PGlite thread exited before it was ready")));
    });
  } catch (err) {
    await thread.terminate();
    rmSync(socketDir, { recursive: true, force: true });
    throw err;
  }
  // idleTimeoutMillis 0: the one connection is never closed while idle (the thread serves one at a time).
  const pool = new pg.Pool({ host: socketDir, port: 5432, user: "postgres", database: "postgres", max: 1, idleTimeoutMillis: 0 });
  // A connection lost while idle (the thread ended) fails the next query; it must not end the process here.
  pool.on("error", () => {});
  keepConnectionOnStatementErrors(pool);
  const db = drizzle({ client: pool, schema });
  let closing: Promise<void> | undefined;
  /** One question to the thread (`{ cpu: true }`, `{ memory: true }`) and the answer it posts under the same key. */
  const ask = <T>(key: "cpu" | "memory") =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (!(key in m)) return;
        thread.off("message", onMessage);
        resolve(m[key] as T);
      };
      thread.on("message", onMessage);
      thread.postMessage({ [key]: true });
      void exited.then(() => reject(new Error("the PGlite thread has exited")));
    });
  return {
    db: db as unknown as Database,
    kind: "pglite",
    migrate: () => migrate(db, { migrationsFolder }),
    threadCpuUsage: () => ask<NodeJS.CpuUsage>("cpu"),
    threadMemory: () => ask<ThreadMemory>("memory"),
    close: () =>
      (closing ??= (async () => {
        await pool.end().catch(() => {});
        await stopThread();
      })()),
  };
}
