import { once } from "node:events";
import type { JsonRpcProvider } from "ethers";
import { sql } from "drizzle-orm";
import type { Redis } from "ioredis";
import type { SenderHealth } from "../chain/tx-sender.ts";
import type { Database } from "../db/index.ts";
import type { IpfsStore } from "../ipfs/index.ts";
import { withDeadline } from "../deadline.ts";

/** One dependency a process needs to do its work; `run` throws when it cannot be reached or is unfit. */
export interface ReadinessCheck {
  name: string;
  /** `signal` aborts when the check's deadline passes. What it resolves with (if anything) is reported as its `detail`. */
  run(signal: AbortSignal): Promise<unknown>;
}

export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
  /** What the check found besides passing or failing (e.g. each signing key's state). */
  detail?: unknown;
}

/** A failed check that still reports what it found. */
export class CheckFailed extends Error {
  readonly detail: unknown;
  constructor(message: string, detail: unknown) {
    super(message);
    this.detail = detail;
  }
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
        const detail = await withDeadline(c.run(AbortSignal.timeout(timeoutMs)), timeoutMs, c.name);
        return [c.name, { ok: true, ms: Math.round(performance.now() - started), ...(detail === undefined ? {} : { detail }) }];
      } catch (err) {
        const detail = err instanceof CheckFailed ? { detail: err.detail } : {};
        return [c.name, { ok: false, ms: Math.round(performance.now() - started), error: (err as Error).message ?? String(err), ...detail }];
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

/** A signing key as readiness sees it: `TxSender` is one. */
export interface FundedKey {
  readonly address: string;
  health(): SenderHealth;
  checkFunds(): Promise<SenderHealth>;
}

/**
 * Whether the worker's signing keys can pay for their transactions, each reported with its reason when it cannot.
 * A key's funds are looked at again when last checked more than `recheckMs` ago (so a probe finds a key drained
 * since, or funded again), else its last finding is reported. The worker is ready while one key can pay (the
 * others' work goes to it, and the detail names the keys that are out); with no key able to pay nothing it signs
 * can be mined, so it is not ready.
 */
export function signingKeysCheck(keys: readonly FundedKey[], recheckMs: number): ReadinessCheck {
  return {
    name: "signingKeys",
    run: async () => {
      const found = await Promise.all(
        keys.map(async (key) => {
          const last = key.health();
          if (Date.now() - last.checkedAt.getTime() < recheckMs) return last;
          // A node that does not answer is the chain check's to report; the key keeps its last finding.
          return key.checkFunds().catch(() => last);
        }),
      );
      const detail = found.map((h) => ({ address: h.address, canPay: h.canPay, ...(h.reason ? { reason: h.reason } : {}), checkedAt: h.checkedAt.toISOString() }));
      const out = found.filter((h) => !h.canPay);
      if (keys.length && out.length === keys.length) throw new CheckFailed(`no signing key can pay: ${out.map((h) => `${h.address}: ${h.reason}`).join("; ")}`, detail);
      return detail;
    },
  };
}
