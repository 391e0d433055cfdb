import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Wallet } from "ethers";
import { GraphQLClient, gql } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failureOf } from "../support/graphql-http.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

const TARPITS = 25;
const REGISTER = gql`mutation ($url: String!, $key: String!) {
  registerWebhook(url: $url, idempotencyKey: $key) { ... on RegisterWebhookPayload { webhook { id } } ... on Error { __typename code message field } ... on QuotaExceededError { quota limit used } }
}`;

/**
 * The production rule for targets (WEBHOOK_TARGETS=public) with loopback allowlisted, as an operator would allow
 * an internal receiver: 127.0.0.1 delivers, every other internal address is refused at registration.
 */
describe("webhook isolation and targets (production rule, 127.0.0.1 allowlisted)", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let client: GraphQLClient;
  const servers: Server[] = [];
  const sockets = new Set<Socket>();

  async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
    const server = createServer(handler);
    server.on("connection", (s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  beforeAll(async () => {
    stack = await startTestStack({
      WEBHOOK_TARGETS: "public",
      WEBHOOK_ALLOWED_HOSTS: "127.0.0.1",
      WEBHOOK_MAX_ENDPOINTS: String(TARPITS + 1),
      WEBHOOK_TIMEOUT_MS: "2000",
      WEBHOOK_CIRCUIT_FAILURES: "2",
    });
    client = new GraphQLClient(stack.devInfo.graphqlUrl, { headers: { authorization: `Bearer ${stack.devInfo.apiKey}` } });
  });
  afterAll(async () => {
    // The tarpits never answer: their sockets are destroyed, whatever happened, so the servers can close.
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await stack?.cleanup();
  });

  it.each([
    "http://127.0.0.2/",
    "http://[::1]:6379/",
    "http://0.0.0.0/",
    "http://10.0.0.1/admin?x=1",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://0xa9fea9fe/",
  ])("refuses %s at registration with a typed error (no connection is made: the address is checked alone)", async (url) => {
    expect(await failureOf(client.request(REGISTER, { url, key: `refuse-${url}` }))).toMatchObject({ typed: true, typename: "InvalidInputError", code: "BAD_USER_INPUT", field: "url" });
  });

  it(`delivers promptly to a fast endpoint while ${TARPITS} others never answer; their circuits open and say so in Webhook.health; the endpoint cap holds`, async () => {
    for (let i = 0; i < TARPITS; i++) {
      const url = await listen((req) => req.resume()); // accepts, reads, never answers
      const { registerWebhook } = await client.request<any>(REGISTER, { url: `${url}/tarpit`, key: `tarpit-${i}` });
      expect(registerWebhook.webhook.id).toEqual(expect.any(String));
    }
    const arrivals: { type: string; lagMs: number }[] = [];
    const fastUrl = await listen((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        arrivals.push({ type: String(req.headers["hallmark-event-type"]), lagMs: Date.now() - Date.parse(JSON.parse(body).createdAt) });
        res.writeHead(204).end();
      });
    });
    const fast = (await client.request<any>(REGISTER, { url: `${fastUrl}/fast`, key: "fast" })).registerWebhook.webhook.id as string;

    expect(await failureOf(client.request(REGISTER, { url: `${fastUrl}/one-too-many`, key: "one-too-many" }))).toMatchObject({
      typename: "QuotaExceededError",
      code: "QUOTA_EXCEEDED",
      extensions: { quota: "webhookEndpoints", limit: TARPITS + 1, used: TARPITS + 1 },
    });

    for (let i = 0; i < 3; i++) {
      await client.request(
        gql`mutation ($input: IssueCertificateInput!) { issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id } } ... on Error { code message } } }`,
        { input: { collectionId: stack.devInfo.collectionId, recipient: Wallet.createRandom().address, idempotencyKey: `isolation-${i}` } },
      );
    }
    const wanted = ["issuance.pinned", "issuance.submitted", "issuance.confirmed"];
    await waitFor(async () => arrivals.map((a) => a.type), (types) => wanted.every((t) => types.filter((x) => x === t).length === 3), 20_000);
    // Each event reached the fast endpoint within 2 s of happening: the dispatcher looks every 250 ms and sends at
    // once. Before, a batch of 20 waited on its slowest member (10 s per tarpit), so events lagged 10 s and more.
    expect(Math.max(...arrivals.map((a) => a.lagMs)), JSON.stringify(arrivals)).toBeLessThan(2_000);

    // Two failures in a row (2 s timeouts, 1 s apart) open each tarpit's circuit; the fast endpoint stays healthy.
    const HEALTH = gql`{ webhooks { id health { state consecutiveFailures lastFailureAt lastError lastSuccessAt nextAttemptAt pendingDeliveries } } }`;
    const { webhooks } = await waitFor(
      () => client.request<any>(HEALTH),
      (r) => r.webhooks.filter((w: any) => w.health.state === "CIRCUIT_OPEN").length === TARPITS,
      20_000,
    );
    const tarpit = webhooks.find((w: any) => w.id !== fast);
    expect(tarpit.health).toMatchObject({
      consecutiveFailures: 2,
      lastFailureAt: expect.any(String),
      lastError: "no answer within 2000 ms",
      lastSuccessAt: null,
      nextAttemptAt: expect.any(String),
    });
    expect(tarpit.health.pendingDeliveries).toBeGreaterThan(0);
    expect(Date.parse(tarpit.health.nextAttemptAt)).toBeGreaterThan(Date.now());
    expect(webhooks.find((w: any) => w.id === fast).health).toMatchObject({ state: "HEALTHY", consecutiveFailures: 0, lastSuccessAt: expect.any(String), nextAttemptAt: null, pendingDeliveries: 0 });
  });
});
