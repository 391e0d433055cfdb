import { Queue } from "bullmq";
import type { JsonRpcProvider } from "ethers";
import { Redis } from "ioredis";
import type { Config } from "../../core/config.ts";
import type { Database } from "../../core/db/index.ts";
import { chainCheck, chainHeadCheck, databaseCheck, ipfsCheck, redisCheck, signingKeysCheck, type FundedKey, type ReadinessCheck } from "../../core/health/readiness.ts";
import type { IpfsStore } from "../../core/ipfs/index.ts";
import { OPERATIONS_QUEUE } from "../../core/jobs.ts";
import type { Logger } from "../../core/logger.ts";
import { createMetricsRegistry, type MetricsRole } from "../../core/metrics/index.ts";
import { createHttpMetrics, type HttpMetrics } from "./http-metrics.ts";
import { startOpsServer } from "./ops-server.ts";

export interface RunningOps {
  /** The ops listener's base URL; absent when OPS_PORT is not set. */
  url?: string;
  /** Hand to `createApp` (`metrics`) so the public port's requests are timed; absent when there is no ops listener or no API here. */
  httpMetrics?: HttpMetrics;
  close(): Promise<void>;
}

/**
 * Starts the ops listener of a process when OPS_PORT is set: an API process (`api`) reports request latency and
 * the pipeline's database-wide gauges, a worker (`worker`) its chain, keys and indexer and, in its readiness, a
 * chain head that is not stale and signing keys at least one of which can pay; the dev stack (`all`) both. Its connections to Redis are its own, so probing and
 * counting never queue behind the pipeline's work.
 */
export async function startOps(deps: {
  config: Config;
  role: MetricsRole;
  db: Database;
  redisUrl: string;
  provider: JsonRpcProvider;
  ipfs: IpfsStore;
  logger: Logger;
  /** The process's signing keys' addresses, reported at 0 in flight when idle. */
  signers?: string[];
  /** A worker's signing keys: its readiness reports whether each can pay (re-checked when older than `fundsRecheckMs`). */
  keys?: readonly FundedKey[];
  /** Default 10 s: a probe every few seconds does not ask the node for balances each time. */
  fundsRecheckMs?: number;
}): Promise<RunningOps> {
  const settings = deps.config.ops;
  if (settings.port === undefined) return { close: async () => {} };
  const timeoutMs = settings.checkTimeoutMs;
  const redis = new Redis(deps.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: timeoutMs });
  redis.on("error", (err) => deps.logger.debug({ err: String(err) }, "ops redis connection"));
  // Not waited for: an unreachable Redis is what readiness reports, not a reason not to start.
  redis.connect().catch(() => {});
  const queue =
    deps.role === "worker" ? undefined : new Queue(OPERATIONS_QUEUE, { connection: { url: deps.redisUrl, enableOfflineQueue: false, maxRetriesPerRequest: 1 } });
  queue?.on("error", (err) => deps.logger.debug({ err: String(err) }, "ops queue connection"));
  const registry = createMetricsRegistry(deps.role, {
    db: deps.db,
    provider: deps.provider,
    queue,
    signers: deps.signers ?? [],
    logger: deps.logger,
    timeoutMs,
  });
  const httpMetrics = deps.role === "worker" ? undefined : createHttpMetrics(registry);
  const checks: ReadinessCheck[] = [databaseCheck(deps.db), redisCheck(redis), chainCheck(deps.provider), ipfsCheck(deps.ipfs)];
  if (deps.role !== "api" && settings.chainHeadMaxAgeSeconds > 0) checks.push(chainHeadCheck(deps.provider, settings.chainHeadMaxAgeSeconds));
  if (deps.role !== "api" && deps.keys?.length) checks.push(signingKeysCheck(deps.keys, deps.fundsRecheckMs ?? 10_000));
  try {
    const server = await startOpsServer({ host: settings.host, port: settings.port, checks, checkTimeoutMs: timeoutMs, metrics: registry, logger: deps.logger });
    deps.logger.info({ url: server.url, role: deps.role }, "ops listener: /healthz /readyz /metrics");
    return {
      url: server.url,
      httpMetrics,
      async close() {
        await server.close();
        await queue?.close();
        redis.disconnect();
      },
    };
  } catch (err) {
    await queue?.close();
    redis.disconnect();
    throw err;
  }
}
