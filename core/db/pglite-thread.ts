/**
 * A worker thread that holds an embedded PGlite and serves it over the PostgreSQL wire protocol on a Unix socket,
 * so the database's work (the WebAssembly engine and its result encoding) runs on a core of its own while the
 * process's main thread only speaks the protocol through `pg`, as it does to a PostgreSQL server.
 *
 * workerData: `{ dir, socketPath }`. Posts `{ ready: true }` once listening (or `{ error }`), answers
 * `{ cpu: true }` with `{ cpu: { user, system } }` (this thread's CPU time, microseconds), `{ memory: true }` with
 * `{ memory: ThreadMemory }` (bytes) and `{ close: true }` with `{ closed: true }` after the socket server and the
 * database are closed.
 *
 * Erasable TypeScript only: Node runs this file itself (type stripping), outside any bundler a test runner uses.
 */
import { getHeapStatistics } from "node:v8";
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const { dir, socketPath } = workerData as { dir: string; socketPath: string };
const port = parentPort!;

try {
  const db = await PGlite.create(dir);
  // The pool in front holds one connection: PGlite is a single session, and the socket server's sharing of it
  // between connections does not keep one connection's transaction (and its row locks) apart from another's
  // statements. The second place is for a replacement: the server lets go of a closed connection a tick after its
  // socket closes, and a new one arriving in between must not be turned away.
  const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 2 });
  await server.start();
  port.on("message", async (message: { cpu?: boolean; memory?: boolean; close?: boolean }) => {
    if (message.cpu) port.postMessage({ cpu: process.threadCpuUsage() });
    if (message.memory) port.postMessage({ memory: threadMemory(db) });
    if (message.close) {
      await server.stop().catch(() => {});
      await db.close().catch(() => {});
      port.postMessage({ closed: true });
      port.close();
    }
  });
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  port.close();
}

/**
 * This thread's share of the process's memory: its own V8 heap (getHeapStatistics is per isolate) and PGlite's
 * WebAssembly memory, which grows as PostgreSQL touches pages and never shrinks. `mod` is PGlite's Emscripten module,
 * not part of its typed interface; 0 when a version names it otherwise.
 */
function threadMemory(db: PGlite) {
  const heap = getHeapStatistics();
  const wasm = (db as unknown as { mod?: { HEAPU8?: Uint8Array } }).mod?.HEAPU8?.byteLength ?? 0;
  return { heapUsed: heap.used_heap_size, heapTotal: heap.total_heap_size, external: heap.external_memory, wasm };
}
