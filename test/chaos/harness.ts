import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { and, count, inArray, like, notInArray } from "drizzle-orm";
import { Wallet } from "ethers";
import { createChainProvider } from "../../core/chain/provider.ts";
import { openDatabase, type DatabaseHandle } from "../../core/db/index.ts";
import { chainTxs, issuances } from "../../core/db/schema.ts";
import { DEV_KEYS, startEmbeddedChain, type EmbeddedChain } from "../../scripts/dev/chain.ts";
import { ensureDemo, type DevInfo } from "../../scripts/dev/demo.ts";
import { startEmbeddedRedis, type EmbeddedRedis } from "../../scripts/dev/redis.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** `promise`, or an error naming what was awaited once `ms` have passed: every wait has its own deadline. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting ${ms / 1000} s for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  stderr: string;
  /** The tail of the worker's log. */
  log: string;
  /** Resolves once the worker has connected to everything and started consuming. */
  ready: Promise<void>;
  exited: Promise<number | null>;
}

/**
 * Every service as its own process or endpoint, so each can fail on its own: PostgreSQL and Redis servers, the
 * chain behind a TCP proxy that can be cut, and worker processes that can be killed. The test process plays the
 * API, writing issuances as the server does.
 */
export async function startChaosHarness() {
  const dir = mkdtempSync(join(tmpdir(), "hallmark-chaos-"));
  const pg: TestPostgres = await startPostgres();
  let redis: EmbeddedRedis = await startEmbeddedRedis(join(dir, "redis"));
  const redisPort = Number(new URL(redis.url).port);
  const chain: EmbeddedChain = await startEmbeddedChain({ port: 0, chainId: 31337 });
  const proxy = await startTcpProxy(chain.rpcUrl);
  const db: DatabaseHandle = await openDatabase({ url: pg.url, dir: "" });
  const provider = createChainProvider(chain.rpcUrl, 31337);
  const minter = new Wallet(DEV_KEYS.minter);
  const demo = await ensureDemo({
    db: db.db,
    deployer: new Wallet(DEV_KEYS.deployer, provider),
    issuers: [minter.address],
    chainId: 31337,
    devInfoPath: join(dir, "dev.json"),
  });
  const workers = new Set<WorkerProcess>();
  /** Workers that ended on their own, neither killed nor at a fault point: their logs explain a hang. */
  const exitedEarly: WorkerProcess[] = [];

  const harness = {
    db: db.db,
    provider,
    demo: demo as Omit<DevInfo, "graphqlUrl" | "rpcUrl">,
    proxy,
    redisUrl: redis.url,
    pgUrl: pg.url,

    /** A worker process as `npm run worker` starts it, optionally armed to kill itself at a fault point. */
    startWorker(env: Record<string, string> = {}): WorkerProcess {
      const child = spawn(process.execPath, ["scripts/worker.ts"], {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: "test",
          HALLMARK_DATA_DIR: join(dir, "worker"),
          DATABASE_URL: pg.url,
          REDIS_URL: redis.url,
          CHAIN_RPC_URL: proxy.url,
          CHAIN_ID: "31337",
          SIGNER_PRIVATE_KEY: DEV_KEYS.minter,
          LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? "warn",
          BATCH_SIZE: "100",
          BATCH_WINDOW_MS: "100",
          ...env,
        },
        // Both streams are drained here: a full pipe would block the worker's log writes, and with them the worker.
        stdio: ["ignore", "pipe", "pipe"],
      });
      let markReady = () => {};
      const w: WorkerProcess = {
        child,
        stderr: "",
        log: "",
        ready: new Promise<void>((r) => (markReady = r)),
        exited: new Promise((r) => child.once("exit", (code) => r(code))),
      };
      child.stderr!.on("data", (d) => {
        w.stderr += d;
        if (w.stderr.includes("worker ready")) markReady();
      });
      child.stdout!.on("data", (d) => (w.log = (w.log + d).slice(-20_000)));
      workers.add(w);
      void w.exited.then(() => {
        workers.delete(w);
        if (!w.stderr.includes("fault injected") && w.child.signalCode !== "SIGKILL") exitedEarly.push(w);
      });
      return w;
    },

    async killWorker(w: WorkerProcess): Promise<void> {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
      await within(w.exited, 10_000, `worker ${w.child.pid} to exit after SIGKILL`);
    },

    /** Kills Redis outright (SIGKILL: whatever AOF had not synced is lost) and brings it back on the same port. */
    async crashRedis(downMs: number): Promise<void> {
      const pid = Number((await import("node:child_process")).execFileSync("pgrep", ["-f", `redis-server 127.0.0.1:${redisPort}`], { encoding: "utf8" }).trim().split("\n")[0]);
      process.kill(pid, "SIGKILL");
      await redis.stop().catch(() => {});
      await new Promise((r) => setTimeout(r, downMs));
      redis = await startEmbeddedRedis(join(dir, "redis"), { port: redisPort });
    },

    /**
     * Waits until every issuance whose idempotency key starts with `prefix` is CONFIRMED or FAILED. It fails when
     * nothing moves for `stallMs` (no issuance of the prefix changed state), not at a fixed wall-clock deadline: a
     * busy machine makes the pipeline slow, not stuck.
     */
    async settle(prefix: string, stallMs = Number(process.env.CHAOS_STALL_MS ?? 60_000)): Promise<void> {
      let lastMove = Date.now();
      let last = "";
      for (;;) {
        const rows = await db.db
          .select({ status: issuances.status, n: count() })
          .from(issuances)
          .where(like(issuances.idempotencyKey, `${prefix}%`))
          .groupBy(issuances.status);
        const open = rows.filter((r) => r.status !== "CONFIRMED" && r.status !== "FAILED").reduce((sum, r) => sum + r.n, 0);
        if (open === 0) return;
        const shape = rows.map((r) => `${r.status}:${r.n}`).sort().join(",");
        if (shape !== last) {
          last = shape;
          lastMove = Date.now();
        } else if (Date.now() - lastMove > stallMs) {
          const logs = [...workers, ...exitedEarly].map((w) => `worker ${w.child.pid} (exit ${w.child.exitCode}):\n${w.stderr.slice(-2000)}\n${w.log.slice(-3000)}`);
          throw new Error(`${open} issuances of ${prefix} still not settled, and none moved for ${stallMs / 1000} s (${shape})\n${logs.join("\n")}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },

    /** Kills every worker this harness started that is still running: a failed test must not leave one behind. */
    async killAll(): Promise<void> {
      await Promise.all([...workers].map((w) => harness.killWorker(w)));
    },

    /** Lets a worker carry every stored transaction to its receipt, so a later fault hits only new work. */
    async drainTransactions(): Promise<void> {
      const w = harness.startWorker();
      const deadline = Date.now() + 90_000;
      try {
        for (;;) {
          const [row] = await db.db.select({ n: count() }).from(chainTxs).where(inArray(chainTxs.status, ["SIGNED", "SENT"]));
          if (row!.n === 0) return;
          if (Date.now() > deadline) throw new Error(`${row!.n} stored transactions still not mined after 90 s of draining`);
          await new Promise((r) => setTimeout(r, 200));
        }
      } finally {
        await harness.killWorker(w);
      }
    },

    async statuses(prefix: string) {
      return db.db
        .select({ id: issuances.id, status: issuances.status, txHash: issuances.txHash, error: issuances.error, key: issuances.idempotencyKey })
        .from(issuances)
        .where(and(like(issuances.idempotencyKey, `${prefix}%`), inArray(issuances.status, ["QUEUED", "PINNED", "SUBMITTED", "CONFIRMED", "FAILED"])));
    },

    async stop(): Promise<void> {
      await harness.killAll();
      provider.destroy();
      await db.close();
      await proxy.close();
      await chain.close();
      await redis.stop();
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
export type ChaosHarness = Awaited<ReturnType<typeof startChaosHarness>>;
