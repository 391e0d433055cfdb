import type { Queue } from "bullmq";
import { count, isNull, min } from "drizzle-orm";
import type { Registry } from "prom-client";
import { outbox } from "../db/schema.ts";
import { collectedGauge } from "./collected-gauge.ts";
import type { MetricSources } from "./sources.ts";

const JOB_STATES = ["waiting", "active", "delayed", "prioritized", "failed"] as const;

/**
 * Work not yet picked up: the BullMQ queue's jobs by state and the age of its oldest waiting job, and the outbox
 * rows the relay has not yet moved into the queue (an outbox that grows means the relay or Redis is stuck).
 */
export function registerQueueMetrics(registry: Registry, src: Pick<MetricSources, "db" | "logger" | "timeoutMs" | "health"> & { queue: Queue }): void {
  const base = { timeoutMs: src.timeoutMs, logger: src.logger, health: src.health };
  collectedGauge(registry, {
    ...base,
    name: "hallmark_queue_jobs",
    help: "Jobs in the hallmark-operations queue by state",
    labelNames: ["state"],
    source: "queue",
    read: async () => {
      await src.queue.waitUntilReady();
      const counts = await src.queue.getJobCounts(...JOB_STATES);
      return JOB_STATES.map((state) => ({ labels: { state }, value: counts[state] ?? 0 }));
    },
  });
  collectedGauge(registry, {
    ...base,
    name: "hallmark_queue_oldest_waiting_seconds",
    help: "Age of the oldest job waiting in the hallmark-operations queue (0 when none waits)",
    labelNames: [],
    source: "queue",
    read: async () => {
      await src.queue.waitUntilReady();
      const [oldest] = await src.queue.getWaiting(0, 0);
      return [{ labels: {}, value: oldest ? ageSeconds(oldest.timestamp) : 0 }];
    },
  });
  collectedGauge(registry, {
    ...base,
    name: "hallmark_outbox_pending",
    help: "Outbox rows not yet moved into the queue by the relay",
    labelNames: [],
    source: "database",
    read: async () => {
      const [row] = await src.db.select({ n: count() }).from(outbox).where(isNull(outbox.dispatchedAt));
      return [{ labels: {}, value: Number(row?.n ?? 0) }];
    },
  });
  collectedGauge(registry, {
    ...base,
    name: "hallmark_outbox_oldest_pending_seconds",
    help: "Age of the oldest outbox row not yet moved into the queue (0 when none)",
    labelNames: [],
    source: "database",
    read: async () => {
      const [row] = await src.db.select({ oldest: min(outbox.createdAt) }).from(outbox).where(isNull(outbox.dispatchedAt));
      return [{ labels: {}, value: row?.oldest ? ageSeconds(new Date(row.oldest).getTime()) : 0 }];
    },
  });
}

function ageSeconds(sinceMs: number): number {
  return Math.max(0, (Date.now() - sinceMs) / 1000);
}
