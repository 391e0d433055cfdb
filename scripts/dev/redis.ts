import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { Redis } from "ioredis";

export interface EmbeddedRedis {
  url: string;
  /** The redis-server process. */
  pid?: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

/**
 * Starts `redis-server` from PATH on a free loopback port, its append-only file under `dir`, and stops it
 * with the process. Keys are never evicted: a lost job is a lost certificate.
 */
export async function startEmbeddedRedis(dir: string, opts: { port?: number } = {}): Promise<EmbeddedRedis> {
  mkdirSync(dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const child: ChildProcess = spawn(
    "redis-server",
    [
      "--port", String(port),
      "--bind", "127.0.0.1",
      "--dir", resolve(dir),
      "--appendonly", "yes",
      "--appendfsync", "everysec",
      "--save", "",
      "--maxmemory-policy", "noeviction",
      "--protected-mode", "yes",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  // Last resort for an exit that skips stop(): never leave a redis-server behind.
  const killOnExit = () => child.kill("SIGTERM");
  process.once("exit", killOnExit);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const spawnError = new Promise<never>((_, reject) =>
    child.once("error", (err) =>
      reject(
        (err as NodeJS.ErrnoException).code === "ENOENT"
          ? new Error("redis-server is not on PATH: install it (apt-get install redis-server) or set REDIS_URL")
          : err,
      ),
    ),
  );
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    probe.on("error", () => {});
    try {
      await Promise.race([probe.connect().then(() => probe.ping()), spawnError]);
      probe.disconnect();
      break;
    } catch (err) {
      probe.disconnect();
      if (child.exitCode !== null || (err as Error).message.includes("redis-server is not on PATH")) throw err;
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`redis-server did not answer on port ${port}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
