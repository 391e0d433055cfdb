import { once } from "node:events";
import type { JsonRpcProvider } from "ethers";
import { sql } from "drizzle-orm";
import type { Redis } from "ioredis";
import type { Database } from "../db/index.ts";
import type { IpfsStore } from "../ipfs/index.ts";
import { withDeadline } from "../deadline.ts";

/** One dependency a process needs to do its work; `run` throws when it cannot be reached or is unfit. */
export interface ReadinessCheck {
  name: string;
  /** `signal` aborts when the check's deadline passes. */
  run(signal: AbortSignal): Promise<void>;
}

export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  /** The names of the checks that failed, in the order given. */
  failing: string[];
  checks: Record<string, CheckResult>;
}

/** Runs every check at once, each bounded by its own deadline, so one hung dependency cannot hide the others. */
export async function runReadiness(checks: readonly ReadinessCheck[], timeoutMs: number): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async (c): Promise<[string, CheckResult]> => {
      const started = performance.now();
      try {
        await withDeadline(c.run(AbortSignal.timeout(timeoutMs)), timeoutMs, c.name);
        return [c.name, { ok: true, ms: Math.round(performance.now() - started) }];
      } catch (err) {
        return [c.name, { ok: false, ms: Math.round(performance.now() - started), error: (err as Error).message ?? String(err) }];
      }
    }),
  );
  const failing = results.filter(([, r]) => !r.ok).map(([name]) => name);
  return { ready: failing.length === 0, failing, checks: Object.fromEntries(results) };
}

export function databaseCheck(db: Database): ReadinessCheck {
  return { name: "database", run: async () => void (await db.execute(sql`select 1`)) };
}

/** `redis` is a connection of the checker's own, made with `lazyConnect` and no offline queue. */
export function redisCheck(redis: Redis): ReadinessCheck {
  return {
    name: "redis",
    run: async (signal) => {
      // A connection still being made (at start, or after Redis came back) is waited for within the deadline.
      if (redis.status === "wait") await redis.connect();
      else if (redis.status !== "ready") {
        await once(redis, "ready", { signal }).catch(() => {
          throw new Error(`no connection to Redis (${redis.status})`);
        });
      }
      const answer = await redis.ping();
      if (answer !== "PONG") throw new Error(`Redis answered ${answer} to PING`);
    },
  };
}

export function chainCheck(provider: JsonRpcProvider): ReadinessCheck {
  return { name: "chain", run: async () => void (await provider.getBlockNumber()) };
}

/** The CID of zero bytes as `IpfsStore.add` makes it: asking whether it is held reaches the store without fetching anything. */
const PROBE_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

export function ipfsCheck(ipfs: IpfsStore): ReadinessCheck {
  return { name: "ipfs", run: async () => void (await ipfs.has(PROBE_CID)) };
}

/**
 * The newest block is recent. A permissioned chain makes a block every few seconds, so a head older than
 * `maxAgeSeconds` means the validators stopped or the node is stuck, and nothing the worker sends will confirm.
 */
export function chainHeadCheck(provider: JsonRpcProvider, maxAgeSeconds: number): ReadinessCheck {
  return {
    name: "chainHead",
    run: async () => {
      const head = await provider.getBlock("latest");
      if (!head) throw new Error("the node reports no latest block");
      const age = Math.round(Date.now() / 1000 - head.timestamp);
      if (age > maxAgeSeconds) throw new Error(`block ${head.number} is ${age} s old (more than ${maxAgeSeconds} s)`);
    },
  };
}
