import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChainProvider } from "../../core/chain/provider.ts";
import { TxSender } from "../../core/chain/tx-sender.ts";
import { openDatabase } from "../../core/db/index.ts";
import type { Config } from "../../core/config.ts";
import type { FundedKey } from "../../core/health/readiness.ts";
import { OPERATION_KINDS, OPERATION_KIND_NAMES } from "../../core/operations/kinds.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { freePort, startEmbeddedRedis } from "../../scripts/dev/redis.ts";
import { startOps, type RunningOps } from "../../server/ops/start-ops.ts";
import { graphqlClient } from "../support/graphql-http.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { startTestStack, waitFor } from "../support/stack.ts";
import { within } from "../support/stage-fixture.ts";

type Series = { name: string; labels: Record<string, string>; value: number };

/** Prometheus text format, the sample lines only (enough for what these tests read). */
function parseMetrics(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!.replace(/\\(.)/g, "$1");
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function find(series: Series[], name: string, labels: Record<string, string> = {}): Series[] {
  return series.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.json() };
}

const ISSUE = `mutation Issue($input: IssueCertificateInput!) {
  issueCertificate(input: $input) {
    ... on IssueCertificatePayload { issuance { id status } }
    ... on Error { __typename code message field }
  }
}`;
const ISSUANCE = `query Issuance($id: ID!) { issuance(id: $id) { id status certificate { id } } }`;

describe("the ops listener: health, readiness and metrics off the public port", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let ops: string;
  let publicBase: string;
  let certificateId: string;

  beforeAll(async () => {
    stack = await startTestStack({ OPS_PORT: "0" });
    ops = stack.ops.url!;
    publicBase = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  /** A second ops listener over the stack's database and IPFS, with what the test changes. */
  async function opsWith(over: { redisUrl?: string; rpcUrl?: string; chainHeadMaxAgeSeconds?: number; role?: "api" | "worker" | "all"; keys?: FundedKey[]; fundsRecheckMs?: number }): Promise<RunningOps> {
    const config: Config = { ...stack.config, ops: { ...stack.config.ops, port: 0, chainHeadMaxAgeSeconds: over.chainHeadMaxAgeSeconds ?? 0 } };
    const provider = over.rpcUrl ? createChainProvider(over.rpcUrl, stack.config.chain.chainId) : stack.provider;
    const running = await startOps({
      config,
      role: over.role ?? "worker",
      db: stack.db.db,
      redisUrl: over.redisUrl ?? stack.redisUrl,
      provider,
      ipfs: stack.ipfs,
      logger: stack.logger,
      signers: over.keys?.map((k) => k.address),
      keys: over.keys,
      fundsRecheckMs: over.fundsRecheckMs,
    });
    return {
      ...running,
      async close() {
        await running.close();
        if (provider !== stack.provider) provider.destroy();
      },
    };
  }

  it("listens on loopback, on a port of its own", () => {
    expect(ops).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(ops).port).not.toBe(new URL(publicBase).port);
  });

  it("/healthz answers that the process is alive", async () => {
    expect(await getJson(`${ops}/healthz`)).toEqual({ status: 200, body: { status: "ok" } });
  });

  it("/readyz answers 200 with every dependency checked by name", async () => {
    const { status, body } = await getJson(`${ops}/readyz`);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe("ready");
    expect(body.failing).toEqual([]);
    // The embedded chain makes blocks only on demand, so its head's age is not checked by default.
    expect(Object.keys(body.checks).sort()).toEqual(["chain", "database", "ipfs", "redis"]);
    for (const check of Object.values(body.checks) as { ok: boolean; ms: number }[]) expect(check).toMatchObject({ ok: true, ms: expect.any(Number) });
  });

  it("after a certificate is issued, /metrics counts it under its kind and state and times the routes by pattern", async () => {
    const api = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.apiKey);
    const issued = await api.ok<{ issueCertificate: { issuance: { id: string } } }>(ISSUE, {
      input: {
        collectionId: stack.devInfo.collectionId,
        recipient: new Wallet(DEV_KEYS.deployer).address.toLowerCase(),
        title: "Certificate of Operations",
        recipientName: "Grace Hopper",
        idempotencyKey: "ops-metrics-1",
      },
    });
    const confirmed = await waitFor(
      () => api.ok<{ issuance: { status: string; certificate: { id: string } | null } }>(ISSUANCE, { id: issued.issueCertificate.issuance.id }),
      (r) => r.issuance.status === "CONFIRMED" || r.issuance.status === "FAILED",
    );
    expect(confirmed.issuance.status).toBe("CONFIRMED");
    certificateId = confirmed.issuance.certificate!.id;
    // A public page with an id in its URL: its latency is recorded under the pattern, never the id.
    expect((await fetch(`${publicBase}/verify/${certificateId}`, { headers: { accept: "application/json" } })).status).toBe(200);

    // The indexer confirms from the chain's events while the transaction monitor records the receipt on its own
    // round: the scrape is taken once the monitor has too (the signing key has nothing left in flight).
    const minterAddress = new Wallet(DEV_KEYS.minter).address.toLowerCase();
    let res!: Response;
    let text = "";
    let series: ReturnType<typeof parseMetrics> = [];
    for (const deadline = Date.now() + 15_000; ; ) {
      res = await fetch(`${ops}/metrics`);
      text = await res.text();
      series = parseMetrics(text);
      if (find(series, "hallmark_chain_txs_in_flight", { signer: minterAddress })[0]?.value === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).not.toContain(certificateId);

    // Operations: every kind of the registry and each of its states, this issuance among the confirmed.
    expect(find(series, "hallmark_operations", { kind: "issuance", state: "CONFIRMED" })[0]?.value).toBeGreaterThanOrEqual(1);
    for (const kind of OPERATION_KIND_NAMES) {
      const states = find(series, "hallmark_operations", { kind }).map((s) => s.labels.state).sort();
      expect(states, kind).toEqual([...OPERATION_KINDS[kind].statuses].sort());
    }

    // Latency by route pattern and status.
    const graphql = find(series, "hallmark_http_request_duration_seconds_count", { route: "/graphql", method: "POST", status: "200" });
    expect(graphql[0]?.value).toBeGreaterThanOrEqual(2);
    expect(find(series, "hallmark_http_request_duration_seconds_count", { route: "/verify/:id", method: "GET", status: "200" })[0]?.value).toBe(1);
    expect(find(series, "hallmark_http_request_duration_seconds_bucket", { route: "/verify/:id", le: "+Inf" })[0]?.value).toBe(1);
    for (const s of find(series, "hallmark_http_request_duration_seconds_count")) expect(s.labels.route).toMatch(/^(\/[a-z0-9:/|*.-]*|unmatched)$/i);

    // The queue, the outbox and the webhooks: present, and settled once the certificate is confirmed.
    for (const state of ["waiting", "active", "delayed", "prioritized", "failed"]) {
      expect(find(series, "hallmark_queue_jobs", { state })[0]?.value, state).toBeGreaterThanOrEqual(0);
    }
    expect(find(series, "hallmark_queue_oldest_waiting_seconds")[0]?.value).toBeGreaterThanOrEqual(0);
    expect(find(series, "hallmark_outbox_pending")[0]?.value).toBe(0);
    expect(find(series, "hallmark_outbox_oldest_pending_seconds")[0]?.value).toBe(0);
    expect(find(series, "hallmark_webhook_deliveries", { status: "PENDING" })[0]?.value).toBeGreaterThanOrEqual(0);
    expect(find(series, "hallmark_webhook_deliveries", { status: "FAILED" })[0]?.value).toBe(0);

    // The chain: the head, the signing key's transactions in flight (none left), the indexer close behind.
    const head = find(series, "hallmark_chain_head_block")[0]?.value ?? 0;
    expect(head).toBeGreaterThan(0);
    expect(find(series, "hallmark_chain_head_age_seconds")[0]?.value).toBeGreaterThanOrEqual(0);
    const minter = new Wallet(DEV_KEYS.minter).address.toLowerCase();
    expect(find(series, "hallmark_chain_txs_in_flight", { signer: minter })[0]?.value).toBe(0);
    const lag = find(series, "hallmark_indexer_lag_blocks", { cursor: `registries:${stack.config.chain.chainId}` })[0];
    expect(lag?.value).toBeGreaterThanOrEqual(0);
    expect(lag?.value).toBeLessThanOrEqual(head);

    // Every source answered, and the process's own metrics are there.
    for (const source of ["database", "queue", "chain"]) expect(find(series, "hallmark_metrics_source_up", { source })[0]?.value, source).toBe(1);
    expect(find(series, "process_cpu_seconds_total").length).toBe(1);
    expect(find(series, "nodejs_eventloop_lag_seconds").length).toBe(1);
  });

  it("the public port serves neither /metrics nor /readyz", async () => {
    for (const path of ["/metrics", "/readyz"]) {
      const res = await fetch(`${publicBase}${path}`, { headers: { accept: "application/json" } });
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).not.toContain("hallmark_");
    }
  });

  it("/readyz turns 503 naming Redis once Redis stops, the other checks still passing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hallmark-ops-redis-"));
    const redis = await startEmbeddedRedis(dir);
    let running: RunningOps | undefined;
    try {
      running = await opsWith({ redisUrl: redis.url });
      await waitFor(() => getJson(`${running!.url}/readyz`), (r) => r.status === 200, 10_000);
      await redis.stop();
      const { status, body } = await waitFor(() => getJson(`${running!.url}/readyz`), (r) => r.status !== 200, 10_000);
      expect(status).toBe(503);
      expect(body).toMatchObject({ status: "unavailable", failing: ["redis"] });
      expect(body.checks.redis).toMatchObject({ ok: false, error: expect.any(String) });
      for (const name of ["database", "chain", "ipfs"]) expect(body.checks[name], name).toMatchObject({ ok: true });
      expect(await getJson(`${running.url}/healthz`)).toMatchObject({ status: 200 });
    } finally {
      await running?.close();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("/readyz turns 503 naming the chain when its node cannot be reached, and /metrics still answers", async () => {
    const closedPort = await freePort();
    let running: RunningOps | undefined;
    try {
      running = await opsWith({ rpcUrl: `http://127.0.0.1:${closedPort}`, role: "all" });
      const { status, body } = await getJson(`${running.url}/readyz`);
      expect(status).toBe(503);
      expect(body.failing).toEqual(["chain"]);
      expect(body.checks.chain.error).toMatch(/fetch failed|ECONNREFUSED|refused/i);
      const res = await fetch(`${running.url}/metrics`);
      expect(res.status).toBe(200);
      const series = parseMetrics(await res.text());
      expect(find(series, "hallmark_metrics_source_up", { source: "chain" })[0]?.value).toBe(0);
      // Unknown rather than a plausible number; labelled series are left out.
      expect(find(series, "hallmark_chain_head_block")[0]?.value).toBeNaN();
      expect(find(series, "hallmark_indexer_lag_blocks")).toEqual([]);
      expect(find(series, "hallmark_metrics_source_up", { source: "database" })[0]?.value).toBe(1);
      expect(find(series, "hallmark_operations", { kind: "issuance", state: "CONFIRMED" })[0]?.value).toBeGreaterThanOrEqual(1);
    } finally {
      await running?.close();
    }
  });

  it("a worker's /readyz turns 503 naming the chain head when the newest block is older than the threshold, and 200 once a block is made", async () => {
    let running: RunningOps | undefined;
    try {
      running = await opsWith({ chainHeadMaxAgeSeconds: 1, role: "worker" });
      const stale = await waitFor(() => getJson(`${running!.url}/readyz`), (r) => r.status === 503, 10_000);
      expect(stale.body.failing).toEqual(["chainHead"]);
      expect(stale.body.checks.chainHead.error).toMatch(/s old \(more than 1 s\)/);
      // Development tooling only: the embedded chain makes a block when asked.
      await stack.provider.send("evm_mine", []);
      const fresh = await getJson(`${running.url}/readyz`);
      expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
      expect(Object.keys(fresh.body.checks).sort()).toEqual(["chain", "chainHead", "database", "ipfs", "redis"]);
    } finally {
      await running?.close();
    }
  });

  it("a worker's /metrics reports its chain, keys and indexer, not the database-wide gauges", async () => {
    let running: RunningOps | undefined;
    try {
      running = await opsWith({ role: "worker" });
      expect(running.httpMetrics).toBeUndefined();
      const series = parseMetrics(await (await fetch(`${running.url}/metrics`)).text());
      expect(find(series, "hallmark_chain_head_block").length).toBe(1);
      expect(find(series, "hallmark_indexer_lag_blocks").length).toBeGreaterThanOrEqual(1);
      expect(find(series, "hallmark_operations")).toEqual([]);
      expect(find(series, "hallmark_queue_jobs")).toEqual([]);
      expect(series.every((s) => s.labels.process === "worker")).toBe(true);
    } finally {
      await running?.close();
    }
  });

  it("npm run worker serves its own ops listener when OPS_PORT is set, and closes it on SIGTERM", async () => {
    // Its own database and Redis: a worker on the stack's queue would take the stack's jobs.
    const dir = mkdtempSync(join(tmpdir(), "hallmark-ops-worker-"));
    let pg: TestPostgres | undefined;
    let redis: Awaited<ReturnType<typeof startEmbeddedRedis>> | undefined;
    let child: ReturnType<typeof spawn> | undefined;
    try {
      pg = await startPostgres();
      // A production worker refuses a database behind its migrations: they are applied first, as `npm run migrate` does.
      await (await openDatabase({ url: pg.url, dir: join(dir, "unused-pglite") })).close();
      redis = await startEmbeddedRedis(join(dir, "redis"));
      const opsPort = await freePort();
      // Hardhat's development key #2: a key of the worker's own.
      const key = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
      child = spawn(process.execPath, ["scripts/worker.ts"], {
        cwd: new URL("../../", import.meta.url).pathname,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: "test",
          HALLMARK_DATA_DIR: join(dir, "data"),
          DATABASE_URL: pg.url,
          REDIS_URL: redis.url,
          CHAIN_RPC_URL: stack.devInfo.rpcUrl,
          CHAIN_ID: String(stack.config.chain.chainId),
          SIGNER_PRIVATE_KEY: key,
          LOG_LEVEL: "warn",
          OPS_PORT: String(opsPort),
          // The embedded chain makes blocks only when sent transactions: the head is as old as the last one.
          CHAIN_HEAD_MAX_AGE_SECONDS: "3600",
        },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr!.on("data", (d) => (stderr += d));
      const exited = new Promise<number | null>((ok) => child!.once("exit", (code) => ok(code)));
      await waitFor(async () => stderr, (e) => e.includes("worker ready") || child!.exitCode !== null, 60_000);
      expect(stderr, stderr).toContain("worker ready");
      const base = `http://127.0.0.1:${opsPort}`;
      const ready = await getJson(`${base}/readyz`);
      expect(ready.status, JSON.stringify(ready.body)).toBe(200);
      expect(Object.keys(ready.body.checks).sort()).toEqual(["chain", "chainHead", "database", "ipfs", "redis", "signingKeys"]);
      expect(ready.body.checks.signingKeys.detail).toEqual([{ address: new Wallet(key).address, canPay: true, checkedAt: expect.any(String) }]);
      const series = parseMetrics(await (await fetch(`${base}/metrics`)).text());
      expect(find(series, "hallmark_chain_txs_in_flight", { signer: new Wallet(key).address.toLowerCase(), process: "worker" })[0]?.value).toBe(0);
      expect(find(series, "hallmark_signing_key_can_pay", { signer: new Wallet(key).address.toLowerCase(), process: "worker" })[0]?.value).toBe(1);
      expect(find(series, "hallmark_operations")).toEqual([]);
      child.kill("SIGTERM");
      expect(await within(exited, 30_000, "the worker to exit after SIGTERM")).toBe(0);
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    } finally {
      if (child && child.exitCode === null) child.kill("SIGKILL");
      await redis?.stop();
      await pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);

  it("a signing key that cannot pay is reported by the worker's /readyz, /metrics and the operator's signingKeys query, and reads as able to pay once funded", async () => {
    // The embedded chain is priced (EDR's base fee), so a key with no ether cannot pay for a transaction.
    const funder = new Wallet("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba", stack.provider);
    const keyOf = (wallet: Wallet) =>
      new TxSender({ db: stack.db.db, provider: stack.provider, wallet: wallet.connect(stack.provider), chainId: stack.config.chain.chainId, logger: stack.logger });
    const richWallet = new Wallet(Wallet.createRandom().privateKey);
    const poorWallet = new Wallet(Wallet.createRandom().privateKey);
    await (await funder.sendTransaction({ to: richWallet.address, value: 10n ** 18n })).wait();
    const [rich, poor] = [keyOf(richWallet), keyOf(poorWallet)];
    // As a worker starts: each key's nonce row, and its funds checked and recorded.
    await rich.init();
    await poor.init();
    const operator = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.operatorKey);
    const SIGNING_KEYS = `{ signingKeys { address canPay reason checkedAt inFlight nextNonce } }`;
    const keyIn = async (address: string) => (await operator.ok<{ signingKeys: any[] }>(SIGNING_KEYS)).signingKeys.find((k) => k.address === address);

    let running: RunningOps | undefined;
    let alone: RunningOps | undefined;
    try {
      running = await opsWith({ role: "worker", keys: [rich, poor], fundsRecheckMs: 0 });
      // Some keys out: the worker says which and why, and stays ready (the other key takes their work).
      const some = await getJson(`${running.url}/readyz`);
      expect(some.status, JSON.stringify(some.body)).toBe(200);
      expect(some.body.checks.signingKeys).toMatchObject({ ok: true });
      expect(some.body.checks.signingKeys.detail).toEqual([
        { address: rich.address, canPay: true, checkedAt: expect.any(String) },
        { address: poor.address, canPay: false, reason: expect.stringMatching(/^balance 0 wei is below \d+ wei/), checkedAt: expect.any(String) },
      ]);
      let series = parseMetrics(await (await fetch(`${running.url}/metrics`)).text());
      expect(find(series, "hallmark_signing_key_can_pay", { signer: poor.address.toLowerCase() })[0]?.value).toBe(0);
      expect(find(series, "hallmark_signing_key_can_pay", { signer: rich.address.toLowerCase() })[0]?.value).toBe(1);
      expect(await keyIn(poor.address)).toEqual({
        address: poor.address,
        canPay: false,
        reason: expect.stringMatching(/^balance 0 wei is below/),
        checkedAt: expect.any(String),
        inFlight: 0,
        nextNonce: 0,
      });
      expect(await keyIn(rich.address)).toMatchObject({ canPay: true, reason: null, inFlight: 0 });
      // The operator's query is the operator's: an institution's key is refused.
      const institution = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.apiKey);
      expect((await institution.raw(SIGNING_KEYS)).body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");

      // No key able to pay: nothing the worker signs could be mined, so it is not ready.
      alone = await opsWith({ role: "worker", keys: [poor], fundsRecheckMs: 0 });
      const none = await getJson(`${alone.url}/readyz`);
      expect(none.status).toBe(503);
      expect(none.body.failing).toEqual(["signingKeys"]);
      expect(none.body.checks.signingKeys).toMatchObject({ ok: false, error: expect.stringMatching(new RegExp(`^no signing key can pay: ${poor.address}: balance 0 wei`)) });
      expect(none.body.checks.signingKeys.detail).toEqual([expect.objectContaining({ address: poor.address, canPay: false })]);

      // Funded: the next probe re-checks it, and every report reads it as able to pay again.
      await (await funder.sendTransaction({ to: poor.address, value: 10n ** 18n })).wait();
      const funded = await getJson(`${alone.url}/readyz`);
      expect(funded.status, JSON.stringify(funded.body)).toBe(200);
      expect(funded.body.checks.signingKeys.detail).toEqual([{ address: poor.address, canPay: true, checkedAt: expect.any(String) }]);
      series = parseMetrics(await (await fetch(`${running.url}/metrics`)).text());
      expect(find(series, "hallmark_signing_key_can_pay", { signer: poor.address.toLowerCase() })[0]?.value).toBe(1);
      const after = await keyIn(poor.address);
      expect(after).toMatchObject({ canPay: true, reason: null });
      expect(new Date(after.checkedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    } finally {
      await alone?.close();
      await running?.close();
    }
  });
});
