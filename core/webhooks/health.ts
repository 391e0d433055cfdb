import type { webhookEndpoints } from "../db/schema.ts";

type Endpoint = typeof webhookEndpoints.$inferSelect;

export type WebhookHealthState = "HEALTHY" | "FAILING" | "CIRCUIT_OPEN" | "DISABLED";

/** How a webhook's receiver is doing, for the institution's operators. */
export function healthOf(e: Endpoint, now = new Date()) {
  const state: WebhookHealthState = e.disabledAt
    ? "DISABLED"
    : e.circuitOpenUntil && e.circuitOpenUntil > now
      ? "CIRCUIT_OPEN"
      : e.consecutiveFailures > 0
        ? "FAILING"
        : "HEALTHY";
  return {
    state,
    consecutiveFailures: e.consecutiveFailures,
    lastFailureAt: e.lastFailureAt,
    lastError: e.lastError,
    lastSuccessAt: e.lastSuccessAt,
    /** While the circuit is open: when the next delivery probes the receiver. */
    nextAttemptAt: state === "CIRCUIT_OPEN" ? e.circuitOpenUntil : null,
  };
}

/** How long an endpoint's circuit stays open after `failures` in a row (the threshold and beyond): 30 s, doubling, at most an hour. */
export function circuitOpenSeconds(failures: number, threshold: number): number {
  return Math.min(3600, 30 * 2 ** Math.max(0, failures - threshold));
}
