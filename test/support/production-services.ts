import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedChain, type EmbeddedChain } from "../../scripts/dev/chain.ts";
import { startEmbeddedRedis, type EmbeddedRedis } from "../../scripts/dev/redis.ts";
import { startPostgres, type TestPostgres } from "./postgres.ts";

/** What the production processes (`npm start`, `npm run worker`, …) are pointed at, and a folder for the test's files. */
export interface ProductionServices {
  dir: string;
  pg: TestPostgres;
  redis: EmbeddedRedis;
  chain: EmbeddedChain;
  /** Stops all three and removes the folder. */
  stop(): Promise<void>;
}

/**
 * A PostgreSQL server, Redis and a JSON-RPC chain (chain id 31337) on loopback, started together under a new folder
 * named from `prefix`. Should one fail to start, those that did are stopped before the error is thrown, so a failed
 * `beforeAll` leaves no process behind.
 */
export async function startProductionServices(prefix: string): Promise<ProductionServices> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const started = await Promise.allSettled([startPostgres(), startEmbeddedRedis(join(dir, "redis")), startEmbeddedChain({ port: 0, chainId: 31337 })] as const);
  const [pg, redis, chain] = started.map((s) => (s.status === "fulfilled" ? s.value : undefined)) as [TestPostgres?, EmbeddedRedis?, EmbeddedChain?];
  const stop = async () => {
    await chain?.close();
    await redis?.stop();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { dir, pg: pg!, redis: redis!, chain: chain!, stop };
}
