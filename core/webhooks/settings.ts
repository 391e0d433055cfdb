import type { Config } from "../config.ts";
import { targetPolicy, type WebhookTargetPolicy } from "./target.ts";

export interface WebhookSettings {
  policy: WebhookTargetPolicy;
  maxEndpoints: number;
  concurrency: number;
  timeoutMs: number;
  circuitFailures: number;
}

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

// Until the serving process configures them, registration refuses internal targets: the safe side.
let current: WebhookSettings = {
  policy: targetPolicy("public", undefined),
  maxEndpoints: 10,
  concurrency: 32,
  timeoutMs: 5_000,
  circuitFailures: 5,
};

/** The settings the API checks registrations with; set once by the process that serves the API, as quotas are. */
export function configureWebhooks(config: Pick<Config, "webhooks">): void {
  current = webhookSettingsOf(config);
}

export function webhookSettings(): WebhookSettings {
  return current;
}
