import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Wallet } from "ethers";
import { GraphQLClient, gql } from "graphql-request";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { institutions } from "../../core/db/schema.ts";
import { createLiveFeed, createLivePublisher, type LiveFeed } from "../../core/live/index.ts";
import { createApiKey } from "../../server/auth/api-keys.ts";
import { createApp } from "../../server/app.ts";
import { encodePng } from "../../scripts/dev/demo-edition.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

type GqlResult = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
type SseEvent = { event: string; data: GqlResult | null };

/**
 * A GraphQL-over-SSE client for "distinct connections" mode, as Yoga serves it: one POST per subscription with
 * `Accept: text/event-stream`; `next` events carry results, `complete` ends the stream, lines starting with ':'
 * are keep-alive comments.
 */
async function subscribe(url: string, apiKey: string | undefined, query: string, variables: Record<string, unknown> = {}) {
  const abort = new AbortController();
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const events: SseEvent[] = [];
  async function next(timeoutMs = 30_000): Promise<SseEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const [field, ...rest] = line.split(":");
          const value = rest.join(":").replace(/^ /, "");
          if (field === "event") event = value;
          else if (field === "data") data.push(value);
        }
        if (!data.length && event === "message") continue; // a keep-alive
        const parsed = { event, data: data.join("\n") ? (JSON.parse(data.join("\n")) as GqlResult) : null };
        events.push(parsed);
        return parsed;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no SSE event within ${timeoutMs} ms; got ${JSON.stringify(events)}`);
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        reader.read(),
        new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), left))),
      ]).finally(() => clearTimeout(timer));
      if (chunk === "timeout") continue;
      if (chunk.done) return undefined;
      buffer += chunk.value;
    }
  }
  /** Every `next` payload until `complete` (or the end of the stream). */
  async function untilComplete(timeoutMs = 60_000): Promise<GqlResult[]> {
    const out: GqlResult[] = [];
    for (;;) {
      const e = await next(timeoutMs);
      if (!e || e.event === "complete") return out;
      out.push(e.data!);
    }
  }
  return { res, next, untilComplete, events, close: () => abort.abort() };
}

const ISSUE = gql`
  mutation Issue($input: IssueCertificateInput!) {
    issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id status } } ... on Error { __typename code message field } }
  }
`;
const ISSUANCE_UPDATED = `subscription Follow($id: ID!) {
  issuanceUpdated(id: $id) { id status txHash metadataCid certificate { id tokenId txHash } }
}`;
const OPERATIONS_UPDATED = `subscription { operationsUpdated { kind id status txHash certificateId bulkIssuanceId } }`;
type IssuanceEvent = { id: string; status: string; txHash: string | null; metadataCid: string | null; certificate: null | { id: string; tokenId: string; txHash: string } };

describe("live status: GraphQL subscriptions over Server-Sent Events", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let client: GraphQLClient;
  let url: string;
  let apiKey: string;

  beforeAll(async () => {
    // A low gas cap: an airdrop of a hundred items goes out in several transactions, each told as progress.
    stack = await startTestStack({ TX_GAS_CAP: "2000000" });
    url = stack.devInfo.graphqlUrl;
    apiKey = stack.devInfo.apiKey;
    client = new GraphQLClient(url, { headers: { authorization: `Bearer ${apiKey}` } });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const issue = async (key = `live-${Math.random()}`) =>
    (
      await client.request<{ issueCertificate: { issuance: { id: string; status: string } } }>(ISSUE, {
        input: { collectionId: stack.devInfo.collectionId, recipient: Wallet.createRandom().address, idempotencyKey: key, recipientName: "Grace Hopper" },
      })
    ).issueCertificate.issuance;

  let confirmedId: string;

  it("follows an issuance QUEUED → PINNED → SUBMITTED → CONFIRMED, ending with its certificate", async () => {
    // The queue is paused so that the subscriber is surely there while the issuance is still QUEUED.
    await stack.worker.queue.pause();
    const issuance = await issue();
    const sub = await subscribe(url, apiKey, ISSUANCE_UPDATED, { id: issuance.id });
    expect(sub.res.status).toBe(200);
    expect(sub.res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const first = await sub.next();
    expect(first?.event).toBe("next");
    expect((first!.data!.data!.issuanceUpdated as IssuanceEvent).status).toBe("QUEUED");
    await stack.worker.queue.resume();

    const rest = (await sub.untilComplete()).map((r) => {
      expect(r.errors).toBeUndefined();
      return r.data!.issuanceUpdated as IssuanceEvent;
    });
    expect(rest.map((e) => e.status)).toEqual(["PINNED", "SUBMITTED", "CONFIRMED"]);
    expect(rest[0]!.metadataCid).toMatch(/^b/);
    expect(rest[1]!.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    const last = rest.at(-1)!;
    expect(last.certificate).not.toBeNull();
    expect(last.certificate!.txHash).toBe(last.txHash);
    expect(sub.events.at(-1)!.event).toBe("complete");
    confirmedId = issuance.id;
  });

  it("answers a late subscriber with the final state at once, and ends", async () => {
    const sub = await subscribe(url, apiKey, ISSUANCE_UPDATED, { id: confirmedId });
    const all = await sub.untilComplete(10_000);
    expect(all).toHaveLength(1);
    expect((all[0]!.data!.issuanceUpdated as IssuanceEvent).status).toBe("CONFIRMED");
    expect((all[0]!.data!.issuanceUpdated as IssuanceEvent).certificate).not.toBeNull();
  });

  it("reports bulk progress until done equals total, and every item's changes on operationsUpdated", async () => {
    const ops = await subscribe(url, apiKey, OPERATIONS_UPDATED);
    const items = Array.from({ length: 6 }, (_, i) => ({
      recipient: i === 2 ? "0x1234" : Wallet.createRandom().address,
      idempotencyKey: `bulk-live-item-${i}`,
      recipientName: `Student ${i}`,
    }));
    const { issueCertificates } = await client.request<{ issueCertificates: { bulkIssuance: { id: string; total: number; rejected: number } } }>(
      gql`mutation Bulk($input: IssueCertificatesInput!) { issueCertificates(input: $input) { ... on IssueCertificatesPayload { bulkIssuance { id total rejected } } ... on Error { __typename code message field } } }`,
      { input: { collectionId: stack.devInfo.collectionId, idempotencyKey: "bulk-live", items } },
    );
    expect(issueCertificates.bulkIssuance).toMatchObject({ total: 6, rejected: 1 });
    const bulkId = issueCertificates.bulkIssuance.id;

    const sub = await subscribe(
      url,
      apiKey,
      `subscription P($id: ID!) { bulkIssuanceProgress(id: $id) { bulkIssuanceId total done confirmed failed rejected inProgress finished } }`,
      { id: bulkId },
    );
    const progress = (await sub.untilComplete()).map((r) => {
      expect(r.errors).toBeUndefined();
      return r.data!.bulkIssuanceProgress as { bulkIssuanceId: string; total: number; done: number; confirmed: number; finished: boolean; inProgress: number };
    });
    expect(progress.length).toBeGreaterThanOrEqual(1);
    for (const p of progress) expect(p.bulkIssuanceId).toBe(bulkId);
    const dones = progress.map((p) => p.done);
    expect([...dones].sort((a, b) => a - b)).toEqual(dones);
    expect(progress.slice(0, -1).every((p) => !p.finished)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ total: 6, done: 6, confirmed: 5, rejected: 1, inProgress: 0, finished: true });

    // operationsUpdated saw each of the five accepted items reach CONFIRMED, with its certificate and bulk.
    const confirmed = new Map<string, { certificateId: string; bulkIssuanceId: string }>();
    while (confirmed.size < 5) {
      const e = await ops.next();
      const u = e!.data!.data!.operationsUpdated as { kind: string; id: string; status: string; certificateId: string; bulkIssuanceId: string };
      expect(u.kind).toBe("ISSUANCE");
      if (u.status === "CONFIRMED") confirmed.set(u.id, u);
    }
    for (const u of confirmed.values()) {
      expect(u.bulkIssuanceId).toBe(bulkId);
      expect(u.certificateId).toBeTruthy();
    }
    ops.close();
  });

  it("reports a certificate operation, an edition's creation and an airdrop on operationsUpdated, and the airdrop's minted progress on editionOperationUpdated", async () => {
    const ops = await subscribe(url, apiKey, `subscription { operationsUpdated { kind id status minted total certificateOperation { kind } edition { name } editionOperation { total } } }`);
    type Update = { kind: string; id: string; status: string; minted: number | null; total: number | null; certificateOperation: { kind: string } | null; edition: { name: string } | null; editionOperation: { total: number } | null };
    const heard: Update[] = [];
    const hear = async (until: (u: Update) => boolean) => {
      for (;;) {
        const u = (await ops.next())!.data!.data!.operationsUpdated as Update;
        heard.push(u);
        if (until(u)) return u;
      }
    };

    // A suspension of a confirmed certificate.
    const issued = await issue("live-ops-cert");
    await waitFor(async () => (await client.request<any>(gql`query($id: ID!) { issuance(id: $id) { status } }`, { id: issued.id })).issuance.status, (s) => s === "CONFIRMED");
    const { issuance } = await client.request<any>(gql`query($id: ID!) { issuance(id: $id) { certificate { id } } }`, { id: issued.id });
    const { suspendCertificate } = await client.request<any>(
      gql`mutation($input: CertificateSuspensionInput!) { suspendCertificate(input: $input) { ... on CertificateOperationPayload { operation { id } } ... on Error { code message } } }`,
      { input: { certificateId: issuance.certificate.id, reason: "Live test", idempotencyKey: "live-suspend" } },
    );
    const suspended = await hear((u) => u.kind === "CERTIFICATE_OPERATION" && u.id === suspendCertificate.operation.id && u.status === "CONFIRMED");
    expect(suspended.certificateOperation).toEqual({ kind: "SUSPEND" });

    // An edition, then an airdrop in several batches (this stack's gas cap allows a few dozen items a transaction).
    const form = new FormData();
    form.set("file", new Blob([new Uint8Array(encodePng(4, 4, () => [10, 90, 160]))]), "live.png");
    const uploaded = await fetch(url.replace(/\/graphql$/, "/media"), { method: "POST", headers: { authorization: `Bearer ${apiKey}`, "x-graphql-csrf": "1" }, body: form });
    const { cid } = (await uploaded.json()) as { cid: string };
    const { createEdition } = await client.request<any>(
      gql`mutation($cid: String!) { createEdition(input: { name: "Live lamps", images: [{ cid: $cid, label: "Lamp" }], maxSupply: 500, transferPolicy: LOCKED, idempotencyKey: "live-edition" }) { ... on CreateEditionPayload { edition { id } } ... on Error { code message } } }`,
      { cid },
    );
    const editionId = createEdition.edition.id;
    await hear((u) => u.kind === "EDITION" && u.id === editionId && u.status === "CONFIRMED");
    expect(heard.filter((u) => u.kind === "EDITION" && u.id === editionId).map((u) => u.status)).toEqual(["PINNED", "SUBMITTED", "CONFIRMED"]);
    expect(heard.at(-1)!.edition).toEqual({ name: "Live lamps" });

    const holders = Array.from({ length: 120 }, () => Wallet.createRandom().address);
    const { airdrop } = await client.request<any>(
      gql`mutation($input: AirdropInput!) { airdrop(input: $input) { ... on EditionOperationPayload { operation { id } } ... on Error { code message } } }`,
      { input: { editionId, holders, idempotencyKey: "live-airdrop" } },
    );
    const opId = airdrop.operation.id;
    const follow = await subscribe(url, apiKey, `subscription($id: ID!) { editionOperationUpdated(id: $id) { id status minted total } }`, { id: opId });
    const states = (await follow.untilComplete()).map((r) => {
      expect(r.errors).toBeUndefined();
      return r.data!.editionOperationUpdated as { id: string; status: string; minted: number; total: number };
    });
    expect(states.at(-1)).toEqual({ id: opId, status: "CONFIRMED", minted: 120, total: 120 });
    // Minted never goes back, and batches showed as progress before the end.
    const minted = states.map((st) => st.minted);
    expect([...minted].sort((x, y) => x - y)).toEqual(minted);
    expect(states.some((st) => st.status === "SUBMITTED" && st.minted > 0 && st.minted < 120)).toBe(true);

    const airdropped = await hear((u) => u.kind === "EDITION_OPERATION" && u.id === opId && u.status === "CONFIRMED");
    expect(airdropped).toMatchObject({ minted: 120, total: 120, editionOperation: { total: 120 } });
    const progress = heard.filter((u) => u.kind === "EDITION_OPERATION" && u.id === opId && u.status === "SUBMITTED").map((u) => u.minted);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    ops.close();
  }, 120_000);

  it("serves GET subscriptions with the CSRF header, and refuses them without it", async () => {
    const q = new URLSearchParams({ query: ISSUANCE_UPDATED, variables: JSON.stringify({ id: confirmedId }) });
    const base = { accept: "text/event-stream", authorization: `Bearer ${apiKey}` };
    const refused = await fetch(`${url}?${q}`, { headers: base });
    expect(refused.status).toBe(400);
    const ok = await fetch(`${url}?${q}`, { headers: { ...base, "x-graphql-csrf": "1" } });
    expect(ok.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await ok.text();
    expect(text).toContain('"status":"CONFIRMED"');
    expect(text).toContain("event: complete");
  });

  it("keeps other institutions out: NOT_FOUND for their ids, none of their events, and a key is required", async () => {
    const [other] = await stack.db.db.insert(institutions).values({ name: "Other College", slug: "other-college-live" }).returning();
    const otherKey = (await createApiKey(stack.db.db, { institutionId: other!.id, name: "other", scopes: ["read"] })).key;

    const foreign = await subscribe(url, otherKey, ISSUANCE_UPDATED, { id: confirmedId });
    const answer = await foreign.untilComplete(10_000);
    expect(answer).toHaveLength(1);
    expect(answer[0]!.data ?? null).toBeNull();
    expect(answer[0]!.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");

    const bulk = await subscribe(url, otherKey, `subscription { bulkIssuanceProgress(id: "${confirmedId}") { done } }`);
    expect((await bulk.untilComplete(10_000))[0]!.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");

    // The other institution's operationsUpdated hears nothing of ours.
    const theirs = await subscribe(url, otherKey, OPERATIONS_UPDATED);
    const ours = await subscribe(url, apiKey, OPERATIONS_UPDATED);
    const issuance = await issue();
    let e;
    do e = await ours.next();
    while ((e!.data!.data!.operationsUpdated as { id: string; status: string }).status !== "CONFIRMED");
    expect((e!.data!.data!.operationsUpdated as { id: string }).id).toBe(issuance.id);
    await expect(theirs.next(1_000)).rejects.toThrow(/no SSE event/);
    theirs.close();
    ours.close();

    const anonymous = await subscribe(url, undefined, ISSUANCE_UPDATED, { id: confirmedId });
    expect((await anonymous.untilComplete(10_000))[0]!.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  describe("two server processes on one Redis", () => {
    const servers: Server[] = [];
    const feeds: LiveFeed[] = [];
    const urls: string[] = [];
    let publishRedis: Redis;

    beforeAll(async () => {
      for (let i = 0; i < 2; i++) {
        const sub = new Redis(stack.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
        await sub.connect();
        const live = createLiveFeed(sub, stack.logger);
        feeds.push(live);
        const app = createApp({ config: stack.config, db: stack.db.db, ipfs: stack.ipfs, logger: stack.logger, provider: stack.provider, live });
        const server = app.listen(0, "127.0.0.1");
        await new Promise((ok) => server.once("listening", ok));
        servers.push(server);
        urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
      }
      publishRedis = new Redis(stack.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
      await publishRedis.connect();
    });
    afterAll(async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((ok) => s.close(ok));
      }
      for (const f of feeds) await f.close();
      publishRedis?.disconnect();
    });

    it("both hear one message published once", async () => {
      const subs = await Promise.all(urls.map((u) => subscribe(u, apiKey, OPERATIONS_UPDATED)));
      const channel = `hallmark:live:${stack.devInfo.institutionId}`;
      // One Redis subscription per server process, however many clients it serves.
      expect(Number(((await publishRedis.pubsub("NUMSUB", channel)) as [string, number])[1])).toBe(2);
      const publisher = createLivePublisher({ redis: publishRedis, db: stack.db.db, logger: stack.logger });
      const id = "00000000-0000-4000-8000-000000000001";
      await publisher.publish({
        type: "operations",
        institutionId: stack.devInfo.institutionId,
        kind: "revocation",
        status: "CONFIRMED",
        at: new Date().toISOString(),
        operations: [{ id, txHash: `0x${"ab".repeat(32)}` }],
      });
      for (const sub of subs) {
        const e = await sub.next(10_000);
        expect(e!.data!.data!.operationsUpdated).toEqual({
          kind: "REVOCATION",
          id,
          status: "CONFIRMED",
          txHash: `0x${"ab".repeat(32)}`,
          certificateId: null,
          bulkIssuanceId: null,
        });
        sub.close();
      }
      // Clients gone, every server process lets go of the channel (no subscription of this file is open now).
      await waitFor(
        async () => (await publishRedis.pubsub("NUMSUB", channel)) as [string, number],
        ([, n]) => Number(n) === 0,
        10_000,
      );
    });

    it("both follow one issuance the worker moves, each to CONFIRMED", async () => {
      await stack.worker.queue.pause();
      const issuance = await issue();
      const subs = await Promise.all(urls.map((u) => subscribe(u, apiKey, ISSUANCE_UPDATED, { id: issuance.id })));
      await stack.worker.queue.resume();
      for (const sub of subs) {
        const statuses = (await sub.untilComplete()).map((r) => (r.data!.issuanceUpdated as IssuanceEvent).status);
        expect(statuses).toEqual(["QUEUED", "PINNED", "SUBMITTED", "CONFIRMED"]);
      }
    });
  });
});
