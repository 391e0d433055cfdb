import { and, asc, eq, inArray, isNull, lte, notInArray, or, sql } from "drizzle-orm";
import { openSecret, type SealingKeyring } from "../core/custody/sealed.ts";
import type { Database } from "../core/db/index.ts";
import { webhookDeliveries, webhookEndpoints } from "../core/db/schema.ts";
import type { Logger } from "../core/logger.ts";
import { PollLoop } from "../core/poll-loop.ts";
import { deliverWebhook } from "../core/webhooks/deliver.ts";
import { circuitOpenSeconds } from "../core/webhooks/health.ts";
import type { WebhookSettings } from "../core/webhooks/settings.ts";
import { signWebhook } from "../core/webhooks/signature.ts";
import { systemResolver, type HostResolver } from "../core/webhooks/target.ts";

const LEASE_MS = 60_000;
const MAX_ATTEMPTS = 12;

/** Seconds until the next try: 1, 2, 4 … capped at an hour. */
export function backoffSeconds(attempts: number): number {
  return Math.min(3600, 2 ** Math.max(0, attempts - 1));
}

type Delivery = typeof webhookDeliveries.$inferSelect;
type Endpoint = typeof webhookEndpoints.$inferSelect;

/**
 * POSTs recorded webhook events, signed, and retries failures with exponential backoff. Deliveries are leased
 * before the HTTP call, so several workers never send one twice at once; a receiver still deduplicates by the
 * `Hallmark-Event-Id` header, since a delivery whose answer was lost is sent again.
 *
 * Receivers are kept from holding each other up: at most one delivery per endpoint is in flight in this worker
 * (so one endpoint's events go out in order), at most `concurrency` in all, and a new one starts as soon as a slot
 * frees rather than when a whole batch is done. An endpoint that keeps failing has its circuit opened: nothing is
 * sent to it until a later probe succeeds.
 */
export class WebhookDispatcher {
  private readonly db: Database;
  private readonly log: Logger;
  private readonly loop: PollLoop;
  private readonly settings: WebhookSettings;
  /** The keys the endpoints' secrets are sealed under. */
  private readonly keyring: SealingKeyring;
  private readonly resolve: HostResolver;
  /** Endpoint id → the delivery under way to it. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  /** Ticks run one at a time, so two never lease for the same endpoint. */
  private serial: Promise<unknown> = Promise.resolve();
  private wakeQueued = false;

  constructor(opts: { db: Database; logger: Logger; settings: WebhookSettings; keyring: SealingKeyring; resolve?: HostResolver; idleMs?: number }) {
    this.db = opts.db;
    this.log = opts.logger;
    this.settings = opts.settings;
    this.keyring = opts.keyring;
    this.resolve = opts.resolve ?? systemResolver;
    this.loop = new PollLoop("webhook dispatcher", async () => (await this.tick()) > 0 && this.free() > 0, {
      idleMs: opts.idleMs ?? 250,
      logger: opts.logger,
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Stops leasing, aborts the deliveries under way (handing them back, to be sent again) and waits for them. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop.stop();
    await this.serial;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private free(): number {
    return this.settings.concurrency - this.inFlight.size;
  }

  /** Leases due deliveries for endpoints with nothing in flight and starts them; answers how many it started. */
  tick(): Promise<number> {
    const run = this.serial.then(() => this.leaseAndStart());
    this.serial = run.catch(() => {});
    return run;
  }

  /**
   * Looks for more work as soon as a delivery ends, rather than at the next poll: an endpoint with a backlog
   * sends its next event at once, not one per poll interval.
   */
  private wake(): void {
    if (this.wakeQueued || this.stopping.signal.aborted) return;
    this.wakeQueued = true;
    void this.serial.then(() => {
      this.wakeQueued = false;
      return this.tick().catch((err) => this.log.warn({ err: String(err).slice(0, 500) }, "webhook dispatcher failed; retrying"));
    });
  }

  private async leaseAndStart(): Promise<number> {
    const free = this.free();
    if (free <= 0 || this.stopping.signal.aborted) return 0;
    const now = new Date();
    const busy = [...this.inFlight.keys()];
    const leased = await this.db.transaction(async (tx) => {
      const candidates = await tx
        .select({ id: webhookDeliveries.id, endpointId: webhookDeliveries.endpointId })
        .from(webhookDeliveries)
        .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
        .where(
          and(
            eq(webhookDeliveries.status, "PENDING"),
            lte(webhookDeliveries.nextAttemptAt, now),
            or(isNull(webhookEndpoints.circuitOpenUntil), lte(webhookEndpoints.circuitOpenUntil, now)),
            busy.length ? notInArray(webhookDeliveries.endpointId, busy) : undefined,
          ),
        )
        .orderBy(asc(webhookDeliveries.nextAttemptAt), asc(webhookDeliveries.createdAt))
        // Several per endpoint may be due; enough rows to find `free` distinct endpoints in the usual case.
        .limit(free * 4)
        .for("update", { of: webhookDeliveries, skipLocked: true });
      // The oldest due delivery of each endpoint, so one endpoint's events leave in the order they happened.
      const picked = new Map<string, string>();
      for (const c of candidates) if (!picked.has(c.endpointId) && picked.size < free) picked.set(c.endpointId, c.id);
      if (!picked.size) return [];
      return tx
        .update(webhookDeliveries)
        .set({ nextAttemptAt: new Date(now.getTime() + LEASE_MS), attempts: sql`${webhookDeliveries.attempts} + 1` })
        .where(inArray(webhookDeliveries.id, [...picked.values()]))
        .returning();
    });
    if (!leased.length) return 0;
    const endpoints = await this.db
      .select()
      .from(webhookEndpoints)
      .where(inArray(webhookEndpoints.id, leased.map((d) => d.endpointId)));
    const byId = new Map(endpoints.map((e) => [e.id, e]));
    for (const delivery of leased) {
      const endpoint = byId.get(delivery.endpointId)!;
      const run = this.send(delivery, endpoint)
        .catch((err) => this.log.warn({ eventId: delivery.eventId, err: String(err).slice(0, 300) }, "webhook bookkeeping failed; the lease lapses and it is sent again"))
        .finally(() => {
          this.inFlight.delete(endpoint.id);
          this.wake();
        });
      this.inFlight.set(endpoint.id, run);
    }
    return leased.length;
  }

  private async send(delivery: Delivery, endpoint: Endpoint): Promise<void> {
    if (endpoint.disabledAt) {
      // Recorded from a cache that had not yet heard of the disabling: settled, never sent.
      await this.cancel(delivery.id);
      return;
    }
    const body = JSON.stringify(delivery.payload);
    const error = await deliverWebhook({
      url: endpoint.url,
      headers: {
        "content-type": "application/json",
        "user-agent": "Hallmark-Webhooks/1",
        "hallmark-event-id": delivery.eventId,
        "hallmark-event-type": delivery.eventType,
        "hallmark-signature": signWebhook(openSecret(endpoint.secret, this.keyring), body),
      },
      body,
      policy: this.settings.policy,
      resolve: this.resolve,
      timeoutMs: this.settings.timeoutMs,
      signal: this.stopping.signal,
    });
    if (this.stopping.signal.aborted && error) {
      // Stopping: the attempt is not held against the receiver, and the delivery is due again at once for the next worker.
      await this.db
        .update(webhookDeliveries)
        .set({ nextAttemptAt: new Date(), attempts: sql`${webhookDeliveries.attempts} - 1` })
        .where(and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.status, "PENDING")));
      return;
    }
    const now = new Date();
    if (!error) {
      await this.db.update(webhookDeliveries).set({ status: "DELIVERED", deliveredAt: now, lastError: null }).where(eq(webhookDeliveries.id, delivery.id));
      await this.db
        .update(webhookEndpoints)
        .set({ consecutiveFailures: 0, lastSuccessAt: now, circuitOpenUntil: null })
        .where(eq(webhookEndpoints.id, endpoint.id));
      return;
    }
    const failed = delivery.attempts >= MAX_ATTEMPTS;
    this.log.warn({ eventId: delivery.eventId, url: endpoint.url, attempts: delivery.attempts, error }, failed ? "webhook gave up" : "webhook failed; will retry");
    // Only a delivery still pending is rescheduled: one cancelled meanwhile (its webhook disabled) stays so.
    await this.db
      .update(webhookDeliveries)
      .set({ status: failed ? "FAILED" : "PENDING", lastError: error, nextAttemptAt: new Date(now.getTime() + backoffSeconds(delivery.attempts) * 1000) })
      .where(and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.status, "PENDING")));
    const threshold = this.settings.circuitFailures;
    const [counted] = await this.db
      .update(webhookEndpoints)
      .set({ consecutiveFailures: sql`${webhookEndpoints.consecutiveFailures} + 1`, lastFailureAt: now, lastError: error.slice(0, 500) })
      .where(eq(webhookEndpoints.id, endpoint.id))
      .returning({ failures: webhookEndpoints.consecutiveFailures });
    if (counted && counted.failures >= threshold) {
      // Open (or, after a failed probe, reopen for longer): this endpoint's deliveries wait, other endpoints' do not.
      const until = new Date(now.getTime() + circuitOpenSeconds(counted.failures, threshold) * 1000);
      await this.db.update(webhookEndpoints).set({ circuitOpenUntil: until }).where(eq(webhookEndpoints.id, endpoint.id));
      this.log.warn({ url: endpoint.url, failures: counted.failures, until }, "webhook circuit open");
    }
  }

  private async cancel(id: string): Promise<void> {
    await this.db
      .update(webhookDeliveries)
      .set({ status: "CANCELLED", lastError: "webhook disabled" })
      .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, "PENDING")));
  }
}
