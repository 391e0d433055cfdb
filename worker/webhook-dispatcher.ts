import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";
import type { Database } from "../core/db/index.ts";
import { webhookDeliveries, webhookEndpoints } from "../core/db/schema.ts";
import type { Logger } from "../core/logger.ts";
import { PollLoop } from "../core/poll-loop.ts";
import { signWebhook } from "../core/webhooks/signature.ts";

const BATCH = 20;
const LEASE_MS = 60_000;
const MAX_ATTEMPTS = 12;
const TIMEOUT_MS = 10_000;

/** Seconds until the next try: 1, 2, 4 … capped at an hour. */
export function backoffSeconds(attempts: number): number {
  return Math.min(3600, 2 ** Math.max(0, attempts - 1));
}

/**
 * POSTs recorded webhook events, signed, and retries failures with exponential backoff. Deliveries are leased
 * before the HTTP call, so several workers never send one twice at once; a receiver still deduplicates by the
 * `Hallmark-Event-Id` header, since a delivery whose answer was lost is sent again.
 */
export class WebhookDispatcher {
  private readonly db: Database;
  private readonly log: Logger;
  private readonly loop: PollLoop;

  constructor(opts: { db: Database; logger: Logger }) {
    this.db = opts.db;
    this.log = opts.logger;
    this.loop = new PollLoop("webhook dispatcher", async () => (await this.tick()) === BATCH, { idleMs: 250, logger: opts.logger });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  async tick(): Promise<number> {
    const now = new Date();
    const due = await this.db.transaction(async (tx) => {
      const rows = await tx
        .select({ id: webhookDeliveries.id })
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.status, "PENDING"), lte(webhookDeliveries.nextAttemptAt, now)))
        .orderBy(asc(webhookDeliveries.nextAttemptAt))
        .limit(BATCH)
        .for("update", { skipLocked: true });
      if (!rows.length) return [];
      return tx
        .update(webhookDeliveries)
        .set({ nextAttemptAt: new Date(now.getTime() + LEASE_MS), attempts: sql`${webhookDeliveries.attempts} + 1` })
        .where(inArray(webhookDeliveries.id, rows.map((r) => r.id)))
        .returning();
    });
    if (!due.length) return 0;
    const endpoints = await this.db
      .select()
      .from(webhookEndpoints)
      .where(inArray(webhookEndpoints.id, [...new Set(due.map((d) => d.endpointId))]));
    const byId = new Map(endpoints.map((e) => [e.id, e]));
    await Promise.all(
      due.map(async (delivery) => {
        const endpoint = byId.get(delivery.endpointId)!;
        const body = JSON.stringify(delivery.payload);
        let error: string | undefined;
        try {
          const res = await fetch(endpoint.url, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "user-agent": "Hallmark-Webhooks/1",
              "hallmark-event-id": delivery.eventId,
              "hallmark-event-type": delivery.eventType,
              "hallmark-signature": signWebhook(endpoint.secret, body),
            },
            body,
            redirect: "manual",
            signal: AbortSignal.timeout(TIMEOUT_MS),
          });
          if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
          await res.body?.cancel();
        } catch (err) {
          error = (err as Error).message;
        }
        if (!error) {
          await this.db.update(webhookDeliveries).set({ status: "DELIVERED", deliveredAt: new Date(), lastError: null }).where(eq(webhookDeliveries.id, delivery.id));
          return;
        }
        const failed = delivery.attempts >= MAX_ATTEMPTS;
        this.log.warn({ eventId: delivery.eventId, url: endpoint.url, attempts: delivery.attempts, error }, failed ? "webhook gave up" : "webhook failed; will retry");
        await this.db
          .update(webhookDeliveries)
          .set({
            status: failed ? "FAILED" : "PENDING",
            lastError: error,
            nextAttemptAt: new Date(Date.now() + backoffSeconds(delivery.attempts) * 1000),
          })
          .where(eq(webhookDeliveries.id, delivery.id));
      }),
    );
    return due.length;
  }
}
