import type { Queue } from "bullmq";
import type { JsonRpcProvider } from "ethers";
import type { Database } from "../db/index.ts";
import type { Logger } from "../logger.ts";
import type { SourceHealth } from "./collected-gauge.ts";

/** What the pipeline's gauges read, handed in by the process that serves them. */
export interface MetricSources {
  db: Database;
  provider: JsonRpcProvider;
  /** The `hallmark-operations` queue, for its counts (needed where the queue gauges are reported). */
  queue?: Queue;
  /** Signing keys reported with 0 in flight when they have none, so an idle key is seen rather than missing. */
  signers: string[];
  logger: Logger;
  /** Bound on each read, so a slow source cannot hold a scrape. */
  timeoutMs: number;
  /** Where each read tells whether its source answered (made by `createMetricsRegistry`). */
  health: SourceHealth;
}
