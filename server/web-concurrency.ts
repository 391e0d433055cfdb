import cluster, { type Worker } from "node:cluster";
import type { Logger } from "../core/logger.ts";

/**
 * `WEB_CONCURRENCY`: how many API server processes `npm start` runs on one port (node:cluster; the primary hands
 * each connection to one of them). 1, the default, is one process as before; a machine with more cores than one
 * server process can use is served by more, with room left for PostgreSQL when it runs on the same machine.
 * Undefined: the value is not a whole number from 1 to 64.
 */
export function parseWebConcurrency(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return 1;
  if (!/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value);
  return n >= 1 && n <= 64 ? n : undefined;
}

/** What a server process tells the primary once it listens. */
export interface ReadyMessage {
  hallmark: "server-ready";
  port: number;
}

export function isReadyMessage(message: unknown): message is ReadyMessage {
  return typeof message === "object" && message !== null && (message as ReadyMessage).hallmark === "server-ready";
}

/**
 * The ops listener's port for server process `index` (0-based): OPS_PORT, OPS_PORT + 1, …, so that each process's
 * `/readyz` and `/metrics` are its own (a scraper reads every one; counters summed across ports are the server's).
 * One shared port would hand each scrape to whichever process the primary picked.
 */
export function opsPortOf(base: number | undefined, index: number): number | undefined {
  return base === undefined ? undefined : base + index;
}

/**
 * Runs `count` server processes (this script again, as cluster workers) and supervises them: `onReady` once every
 * one listens; on SIGTERM or SIGINT each is sent SIGTERM and runs its own graceful shutdown, and the primary exits 0
 * when all exited 0, 1 otherwise (or past `shutdownTimeoutMs` and a grace second, after killing the rest). A process
 * that exits while the others run (a crash, a refusal at start) stops them all with exit 1, as a single process
 * would: the process manager restarts the server whole.
 */
export function superviseServers(opts: {
  count: number;
  logger: Logger;
  shutdownTimeoutMs: number;
  /** Extra environment for process `index` (its ops port). */
  envOf: (index: number) => Record<string, string>;
  onReady: (port: number) => void;
  exit?: (code: number) => void;
}): void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const workers = new Set<Worker>();
  const ready = new Map<Worker, number>();
  let stopping = false;
  let failed = false;
  let announced = false;

  const stopAll = (signal: NodeJS.Signals, reason: string) => {
    if (stopping) return;
    stopping = true;
    opts.logger.info({ reason, processes: workers.size }, "stopping the server processes");
    for (const w of workers) w.process.kill(signal);
    const timer = setTimeout(() => {
      opts.logger.error({ stillRunning: workers.size }, "server processes still running past the shutdown bound: killed");
      for (const w of workers) w.process.kill("SIGKILL");
      exit(1);
    }, opts.shutdownTimeoutMs + 1_000);
    timer.unref();
    if (!workers.size) exit(failed ? 1 : 0);
  };

  for (let i = 0; i < opts.count; i++) {
    const worker = cluster.fork(opts.envOf(i));
    workers.add(worker);
    worker.on("message", (message: unknown) => {
      if (!isReadyMessage(message)) return;
      ready.set(worker, message.port);
      if (!announced && ready.size === opts.count) {
        announced = true;
        opts.onReady(message.port);
      }
    });
    worker.on("exit", (code, signal) => {
      workers.delete(worker);
      if (code !== 0) failed = true;
      if (!stopping) {
        opts.logger.error({ pid: worker.process.pid, code, signal }, "a server process exited: stopping the others");
        failed = true;
        stopAll("SIGTERM", "a server process exited");
      }
      if (stopping && !workers.size) exit(failed ? 1 : 0);
    });
  }
  process.on("SIGTERM", () => stopAll("SIGTERM", "SIGTERM"));
  process.on("SIGINT", () => stopAll("SIGTERM", "SIGINT"));
}
