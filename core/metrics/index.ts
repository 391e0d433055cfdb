import { collectDefaultMetrics, Registry } from "prom-client";
import { registerChainMetrics } from "./chain.ts";
import { SourceHealth } from "./collected-gauge.ts";
import { registerOperationMetrics } from "./operations.ts";
import { registerQueueMetrics } from "./queue.ts";
import type { MetricSources } from "./sources.ts";
import { registerWebhookMetrics } from "./webhooks.ts";

export type { MetricSources } from "./sources.ts";

/**
 * Which process serves the metrics. The database-wide gauges (operations, queue, webhooks) are the same from any
 * process, so only API processes report them; a worker reports what is its own to watch (the chain, its keys'
 * transactions, the indexer). The dev stack runs both in one process.
 */
export type MetricsRole = "api" | "worker" | "all";

/** A registry with the process's default metrics and the pipeline's gauges for its role, read on every scrape. */
export function createMetricsRegistry(role: MetricsRole, given: Omit<MetricSources, "health">): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ process: role });
  collectDefaultMetrics({ register: registry });
  const health = new SourceHealth();
  const sources: MetricSources = { ...given, health };
  if (role !== "worker") {
    if (!sources.queue) throw new Error(`the ${role} metrics report the queue: pass it`);
    registerOperationMetrics(registry, sources);
    registerQueueMetrics(registry, { ...sources, queue: sources.queue });
    registerWebhookMetrics(registry, sources);
  }
  registerChainMetrics(registry, sources);
  health.register(registry);
  return registry;
}
