/**
 * A worker thread that holds an embedded PGlite and serves it over the PostgreSQL wire protocol on a Unix socket,
 * so the database's work (the WebAssembly engine and its result encoding) runs on a core of its own while the
 * process's main thread only speaks the protocol through `pg`, as it does to a PostgreSQL server.
 *
 * workerData: `{ dir, socketPath }`. Posts `{ ready: true }` once listening (or `{ error }`), answers
 * `{ cpu: true }` with `{ cpu: { user, system } }` (this thread's CPU time, microseconds) and `{ close: true }`
 * with `{ closed: true }` after the socket server and the database are closed.
 *
 * Erasable TypeScript only: Node runs this file itself (type stripping), outside any bundler a test runner uses.
 */
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const { dir, socketPath } = workerData as { dir: string; socketPath: string };
const port = parentPort!;

try {
  const db = await PGlite.create(dir);
  // One connection: PGlite is a single session, and the socket server's sharing of it between connections does
  // not keep one connection's transaction (and its row locks) apart from another's statements.
  const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 1 });
  await server.start();
  port.on("message", async (message: { cpu?: boolean; close?: boolean }) => {
    if (message.cpu) port.postMessage({ cpu: process.threadCpuUsage() });
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
