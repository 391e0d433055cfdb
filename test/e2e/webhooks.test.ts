import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Wallet } from "ethers";
import { GraphQLClient, gql } from "graphql-request";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookDeliveries, webhookEndpoints } from "../../core/db/schema.ts";
import { verifyWebhookSignature } from "../../core/webhooks/signature.ts";
import { failureOf } from "../support/graphql-http.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

interface Received {
  eventId: string;
  type: string;
  signature: string;
  body: string;
  answered: number;
}

const REGISTER = gql`mutation ($url: String!, $key: String!) {
  registerWebhook(url: $url, idempotencyKey: $key) { ... on RegisterWebhookPayload { created secret webhook { id url } } ... on Error { __typename code message field } }
}`;

describe("webhooks", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let client: GraphQLClient;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];

  beforeAll(async () => {
    stack = await startTestStack();
    client = new GraphQLClient(stack.devInfo.graphqlUrl, { headers: { authorization: `Bearer ${stack.devInfo.apiKey}` } });
    // A receiver that fails the first delivery of every event, to prove retries.
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        const eventId = String(req.headers["hallmark-event-id"]);
        const answered = received.some((r) => r.eventId === eventId) ? 204 : 500;
        received.push({ eventId, type: String(req.headers["hallmark-event-type"]), signature: String(req.headers["hallmark-signature"]), body, answered });
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  });
  afterAll(async () => {
    await stack?.cleanup();
    receiver?.close();
  });

  it("registers once per idempotency key: a retry answers the same webhook without its secret; the key for another URL is refused; disabling twice is one change", async () => {
    const url = "http://127.0.0.1:9/hooks/retry";
    const first = (await client.request<any>(REGISTER, { url, key: "webhook-retry" })).registerWebhook;
    expect(first).toMatchObject({ created: true, secret: expect.stringMatching(/^whsec_/), webhook: { url } });
    // Ten retries at once, as a client whose answer was lost would send them.
    const again = await Promise.all(Array.from({ length: 10 }, () => client.request<any>(REGISTER, { url, key: "webhook-retry" })));
    for (const { registerWebhook } of again) expect(registerWebhook).toEqual({ ...first, secret: null, created: false });
    const listed = (await client.request<any>(gql`{ webhooks { id url } }`)).webhooks.filter((w: { url: string }) => w.url === url);
    expect(listed).toEqual([{ id: first.webhook.id, url }]);
    expect(await failureOf(client.request(REGISTER, { url: "http://127.0.0.1:9/hooks/other", key: "webhook-retry" }))).toMatchObject({
      typed: true,
      typename: "IdempotencyConflictError",
      field: "idempotencyKey",
    });

    const DISABLE = gql`mutation ($id: ID!, $key: String) { disableWebhook(id: $id, idempotencyKey: $key) { ... on Webhook { id disabledAt } ... on Error { __typename code message field } } }`;
    const off = (await client.request<any>(DISABLE, { id: first.webhook.id, key: "webhook-off" })).disableWebhook;
    expect(off.disabledAt).toEqual(expect.any(String));
    expect((await client.request<any>(DISABLE, { id: first.webhook.id, key: "webhook-off" })).disableWebhook).toEqual(off);
    expect((await client.request<any>(DISABLE, { id: first.webhook.id })).disableWebhook).toEqual(off);
    expect(await failureOf(client.request(DISABLE, { id: first.webhook.id, key: "webhook-retry" }))).toMatchObject({ typename: "IdempotencyConflictError" });
  });

  it("refuses a URL that is not http(s) with a typed error", async () => {
    const err = await failureOf(client.request(gql`mutation { registerWebhook(url: "ftp://example.org/x", idempotencyKey: "webhook-ftp") { ... on RegisterWebhookPayload { secret } ... on Error { __typename code message field } } }`));
    expect(err).toMatchObject({ typed: true, typename: "InvalidInputError", code: "BAD_USER_INPUT", field: "url" });
  });

  it("delivers every state change, signed with the secret, retrying a failed delivery under the same event id", async () => {
    const { registerWebhook } = await client.request<{ registerWebhook: { secret: string; webhook: { id: string } } }>(
      REGISTER,
      { url: receiverUrl, key: "webhook-receiver" },
    );
    expect(registerWebhook.secret).toMatch(/^whsec_/);
    // Kept sealed: the row alone does not hold the secret the deliveries are signed with.
    const [row] = await stack.db.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, registerWebhook.webhook.id));
    expect(row!.secret).not.toContain(registerWebhook.secret);
    expect(row!.secret).not.toContain(registerWebhook.secret.slice("whsec_".length));
    expect(row!.secret).toMatch(/^sealed:/);
    const { issueCertificate } = await client.request<{ issueCertificate: { issuance: { id: string } } }>(
      gql`mutation ($input: IssueCertificateInput!) { issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id } } ... on Error { __typename code message field } } }`,
      { input: { collectionId: stack.devInfo.collectionId, recipient: Wallet.createRandom().address, idempotencyKey: "webhook-1" } },
    );
    const id = issueCertificate.issuance.id;
    const wanted = ["issuance.pinned", "issuance.submitted", "issuance.confirmed"];
    await waitFor(
      async () => received.filter((r) => r.answered === 204).map((r) => r.type),
      (types) => wanted.every((t) => types.includes(t)),
      30_000,
    );
    for (const type of wanted) {
      const attempts = received.filter((r) => r.type === type);
      // The first attempt was answered 500; the retry carried the same event id and body.
      expect(attempts.map((a) => a.answered).slice(0, 2)).toEqual([500, 204]);
      expect(new Set(attempts.map((a) => a.eventId)).size).toBe(1);
      expect(attempts[1]!.body).toBe(attempts[0]!.body);
      const ok = attempts.find((a) => a.answered === 204)!;
      expect(verifyWebhookSignature(registerWebhook.secret, ok.body, ok.signature)).toBe(true);
      expect(verifyWebhookSignature(registerWebhook.secret, ok.body.replace(id, id.replace(/.$/, (c) => (c === "0" ? "1" : "0"))), ok.signature)).toBe(false);
      expect(verifyWebhookSignature("whsec_wrong", ok.body, ok.signature)).toBe(false);
      const event = JSON.parse(ok.body);
      expect(event).toMatchObject({ id: ok.eventId, type, data: { issuance: { id } } });
    }
  });

  it("disabling a webhook cancels its queued deliveries and the one being sent is not retried", async () => {
    // Answers 500 at once, except the second request, which it holds until the webhook has been disabled.
    const hits: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let heldArrived!: () => void;
    const arrived = new Promise<void>((r) => (heldArrived = r));
    const failing = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        hits.push(String(req.headers["hallmark-event-type"]));
        if (hits.length !== 2) return void res.writeHead(500).end();
        heldArrived();
        void held.then(() => res.writeHead(500).end());
      });
    });
    await new Promise<void>((r) => failing.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/failing`;
      const { registerWebhook } = await client.request<any>(REGISTER, { url, key: "webhook-disable-stops" });
      const webhookId = registerWebhook.webhook.id as string;
      await client.request(
        gql`mutation ($input: IssueCertificateInput!) { issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id } } ... on Error { code message } } }`,
        { input: { collectionId: stack.devInfo.collectionId, recipient: Wallet.createRandom().address, idempotencyKey: "webhook-disable-stops-1" } },
      );
      // The first attempt failed; the second is in flight, held by the receiver.
      await Promise.race([arrived, new Promise((_, reject) => setTimeout(() => reject(new Error("no second attempt arrived within 15 s")), 15_000))]);
      const deliveries = () => stack.db.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, webhookId));
      await waitFor(deliveries, (rows) => rows.length >= 3, 15_000);
      const off = await client.request<any>(gql`mutation ($id: ID!) { disableWebhook(id: $id) { ... on Webhook { disabledAt health { state pendingDeliveries } } } }`, { id: webhookId });
      expect(off.disableWebhook).toMatchObject({ disabledAt: expect.any(String), health: { state: "DISABLED", pendingDeliveries: 0 } });
      release();
      const seen = hits.length;
      // Retries come after 1, 2 and 4 s: four seconds of silence would have seen at least one.
      await new Promise((r) => setTimeout(r, 4_000));
      expect(hits.length).toBe(seen);
      expect((await deliveries()).map((d) => d.status)).toEqual(expect.arrayContaining(["CANCELLED"]));
      expect((await deliveries()).filter((d) => d.status === "PENDING")).toEqual([]);
    } finally {
      release();
      failing.closeAllConnections();
      await new Promise((r) => failing.close(r));
    }
  });
});
