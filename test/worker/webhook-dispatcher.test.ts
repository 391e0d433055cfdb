import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCustody, type Custody } from "../../core/custody/custody-secret.ts";
import { sealSecret } from "../../core/custody/sealed.ts";
import type { DatabaseHandle } from "../../core/db/index.ts";
import { openMigratedDatabase } from "../support/stage-fixture.ts";
import { institutions, webhookDeliveries, webhookEndpoints } from "../../core/db/schema.ts";
import { createLogger } from "../../core/logger.ts";
import { healthOf } from "../../core/webhooks/health.ts";
import { targetPolicy } from "../../core/webhooks/target.ts";
import { WebhookDispatcher } from "../../worker/webhook-dispatcher.ts";
import { waitFor } from "../support/stack.ts";

/** The dispatcher's scheduling, driven tick by tick against a real database and a receiver on loopback. */
describe("webhook dispatcher: one in flight per endpoint, circuit open, half-open probe, closed on success", () => {
  let dir: string;
  let handle: DatabaseHandle;
  let server: Server;
  const sockets = new Set<Socket>();
  let answer = 500;
  let hold: Promise<void> | undefined;
  const hits: string[] = [];
  let url: string;
  let custody: Custody;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hallmark-webhooks-"));
    // Secrets are stored sealed, as registerWebhook stores them; the dispatcher opens them with the keys it is handed.
    custody = openCustody({ custodySecret: "dispatcher-test-custody-secret-0123456789", dataDir: dir });
    handle = await openMigratedDatabase(dir);
    server = createServer((req, res) => {
      req.resume();
      req.on("end", async () => {
        hits.push(String(req.headers["hallmark-event-id"]));
        await hold;
        res.writeHead(answer).end();
      });
    });
    server.on("connection", (s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server?.close(r));
    await handle?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("sends one delivery per endpoint at a time, in order; opens the circuit after repeated failures; a probe's success closes it", async () => {
    const db = handle.db;
    const [inst] = await db.insert(institutions).values({ name: "Hooks College", slug: "hooks-college" }).returning();
    const [endpoint] = await db.insert(webhookEndpoints).values({ institutionId: inst!.id, url, secret: sealSecret("whsec_test", custody.keyring()) }).returning();
    const created = Date.now();
    await db.insert(webhookDeliveries).values(
      [1, 2, 3].map((n) => ({ endpointId: endpoint!.id, eventId: `evt_${n}`, eventType: "test", payload: { n }, createdAt: new Date(created + n), nextAttemptAt: new Date(created - 1000 + n) })),
    );
    const dispatcher = new WebhookDispatcher({
      db,
      logger: createLogger("silent"),
      settings: { policy: targetPolicy("public", "127.0.0.1"), maxEndpoints: 10, concurrency: 8, timeoutMs: 2_000, circuitFailures: 2 },
      keyring: custody.keyring(),
    });
    const row = async () => (await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint!.id)))[0]!;
    const statuses = async () => (await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint!.id))).map((d) => `${d.eventId}:${d.status}:${d.attempts}`).sort();
    try {
      // Three due, eight slots: only the oldest is started, and a second tick starts nothing while it is in flight.
      let release!: () => void;
      hold = new Promise((r) => (release = r));
      expect(await dispatcher.tick()).toBe(1);
      expect(await dispatcher.tick()).toBe(0);
      await waitFor(async () => hits.length, (n) => n === 1, 5_000);
      expect(hits).toEqual(["evt_1"]);
      hold = undefined;
      release();
      // It failed (500): failure 1. Its end starts the next due at once, evt_2 (evt_1 backs off): failure 2 opens the circuit.
      const open = await waitFor(row, (e) => e.consecutiveFailures === 2, 5_000);
      expect(hits).toEqual(["evt_1", "evt_2"]);
      expect(healthOf(open)).toMatchObject({ state: "CIRCUIT_OPEN", consecutiveFailures: 2, lastError: "HTTP 500" });
      expect(open.circuitOpenUntil!.getTime()).toBeGreaterThan(Date.now() + 25_000);
      // Open: evt_3 is due, yet nothing is sent.
      expect(await dispatcher.tick()).toBe(0);
      expect(hits).toHaveLength(2);

      // The circuit's time is up (moved back rather than waited for): one probe goes, succeeds, and closes it.
      answer = 204;
      await db.update(webhookEndpoints).set({ circuitOpenUntil: new Date(Date.now() - 1) }).where(eq(webhookEndpoints.id, endpoint!.id));
      await db.update(webhookDeliveries).set({ nextAttemptAt: new Date(Date.now() - 1) }).where(eq(webhookDeliveries.endpointId, endpoint!.id));
      expect(await dispatcher.tick()).toBe(1);
      const closed = await waitFor(row, (e) => e.consecutiveFailures === 0, 5_000);
      expect(healthOf(closed)).toMatchObject({ state: "HEALTHY", lastSuccessAt: expect.any(Date), nextAttemptAt: null });
      // The rest follow one after another, oldest first, without waiting for a poll.
      await waitFor(statuses, (s) => s.every((x) => x.includes("DELIVERED")), 5_000);
      expect(hits).toEqual(["evt_1", "evt_2", "evt_1", "evt_2", "evt_3"]);
    } finally {
      await dispatcher.stop();
    }
  });
});
