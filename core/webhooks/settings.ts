import type { Config } from "../config.ts";
import { targetPolicy, type WebhookTargetPolicy } from "./target.ts";

export interface WebhookSettings {
  policy: WebhookTargetPolicy;
  maxEndpoints: number;
  concurrency: number;
  timeoutMs: number;
  circuitFailures: number;
}

/** Read once from config by each process that registers or delivers webhooks, and passed to what needs it. */
export function webhookSettingsOf(config: Pick<Config, "webhooks">): WebhookSettings {
  const w = config.webhooks;
  return {
    policy: targetPolicy(w.targets, w.allowedHosts),
    maxEndpoints: w.maxEndpoints,
    concurrency: w.concurrency,
    timeoutMs: w.timeoutMs,
    circuitFailures: w.circuitFailures,
  };
}
