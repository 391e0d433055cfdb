import { writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, like } from "drizzle-orm";
import { Wallet, ZeroAddress } from "ethers";
import { GraphQLClient, gql } from "graphql-request";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chainTxs, certificates, issuances } from "../../core/db/schema.ts";
import type { FaultPoint } from "../../core/chain/faults.ts";
import { openEmbeddedIpfs } from "../../core/ipfs/index.ts";
import { createLogger } from "../../core/logger.ts";
import { loadConfig } from "../../core/config.ts";
import { openCustody } from "../../core/custody/custody-secret.ts";
import { requestIssuanceBatch } from "../../core/operations/issue.ts";
import { reconcile } from "../../core/reconcile.ts";
import { createApp } from "../../server/app.ts";
import { startChaosHarness, within, type ChaosHarness } from "./harness.ts";

const holders = Array.from({ length: 40 }, () => Wallet.createRandom().address);
/** Issuances that must end on chain (all but the deliberately poisoned ones). */
let expected = 0;
let poisoned = 0;
/** Tests that failed, named in the summary: its counts alone read as success when a test never got as far as issuing. */
const failed: string[] = [];
let passed = 0;
/** A worker armed with a fault must reach it well within this; a worker must be consuming within READY_MS. */
const FAULT_MS = 120_000;
const READY_MS = 60_000;
/** These issuances name addresses, never holder references: nothing reads the custody secret. */
const custody = openCustody({ dataDir: mkdtempSync(join(tmpdir(), "hallmark-chaos-custody-")) });
const { quotas } = loadConfig({ NODE_ENV: "test" });

async function issue(h: ChaosHarness, prefix: string, n: number, recipient?: (i: number) => string) {
  for (let offset = 0; offset < n; offset += 500) {
    const items = Array.from({ length: Math.min(500, n - offset) }, (_, j) => ({
      recipient: recipient?.(offset + j) ?? holders[(offset + j) % holders.length]!,
      title: `Chaos ${prefix} ${offset + j}`,
      idempotencyKey: `${prefix}${offset + j}`,
    }));
    const results = await requestIssuanceBatch({ db: h.db, custody, quotas }, h.demo.institutionId, h.demo.collectionId, items);
    for (const r of results) if (r.error) throw r.error;
  }
}

async function expectReconciled(h: ChaosHarness) {
  const report = await reconcile(h.db, h.provider, 31337);
  expect(report.mismatches).toEqual([]);
  expect(report.duplicates).toBe(0);
  expect(report.stuck).toBe(0);
  return report;
}

describe("issuance pipeline under faults", () => {
  let h: ChaosHarness;
  beforeAll(async () => {
    h = await startChaosHarness();
  });
  afterEach(async (ctx) => {
    // Whatever a test left running would take the next test's issuances before its armed worker reaches the fault.
    await h?.killAll();
    if (ctx.task.result?.state === "fail") failed.push(ctx.task.name);
    else passed += 1;
  });
  afterAll(async () => {
    if (!h) return;
    try {
      const report = await reconcile(h.db, h.provider, 31337);
      // The summary line counts the requests that must reach the chain; poisoned ones are asserted apart.
      const line = `chaos: requested ${report.requested - poisoned}, on-chain ${report.onChain}, duplicates ${report.duplicates}, stuck ${report.stuck}, mismatches ${report.mismatches.length}`;
      const tests = `chaos: tests ${passed} passed, ${failed.length} failed${failed.length ? `: ${failed.join("; ")}` : ""}`;
      writeFileSync(join(process.cwd(), "test-results", "chaos-summary.txt"), `${line}\n${tests}\n`);
      expect(report.requested - poisoned).toBe(expected);
    } finally {
      await h.stop();
    }
  });

  it("1,000 issuances while the worker is SIGKILLed every few seconds: exactly 1,000 on chain, none twice, none stuck", async () => {
    await issue(h, "kill-", 1000);
    expected += 1000;
    // Each worker is killed 2.5 s after it said it is ready, not on a fixed clock: on a busy machine a worker may take
    // longer than that to start, and killing it before it could do anything would only test the machine's speed.
    let worker = h.startWorker();
    let killing = true;
    const killer = (async () => {
      while (killing) {
        await within(worker.ready, READY_MS, "a worker of the kill test to say it is ready");
        await new Promise((r) => setTimeout(r, 2_500));
        if (!killing) return;
        const victim = worker;
        worker = h.startWorker();
        await h.killWorker(victim);
      }
    })();
    try {
      await Promise.race([h.settle("kill-"), killer.then(() => new Promise(() => {}))]);
    } finally {
      killing = false;
      await h.killAll();
      await killer.catch(() => {});
    }
    const rows = await h.statuses("kill-");
    expect(rows.filter((r) => r.status === "CONFIRMED")).toHaveLength(1000);
    await expectReconciled(h);
  });

  const seams: FaultPoint[] = ["after-nonce", "after-sign", "after-commit", "after-broadcast", "after-receipt"];
  for (const seam of seams) {
    it(`a crash ${seam.replace("-", " ")}: each certificate on chain once, the stored transaction reused`, async () => {
      const prefix = `seam-${seam}-`;
      await h.drainTransactions();
      await issue(h, prefix, 5);
      expected += 5;
      const doomed = h.startWorker({ HALLMARK_FAULT: seam });
      await within(doomed.exited, FAULT_MS, `the worker armed with HALLMARK_FAULT=${seam} to reach its fault and exit`);
      expect(doomed.stderr).toContain(`fault injected: ${seam}`);
      const stored = await h.db.select().from(issuances).where(like(issuances.idempotencyKey, `${prefix}%`));
      const worker = h.startWorker();
      await h.settle(prefix);
      await h.killWorker(worker);
      const rows = await h.db
        .select({ issuance: issuances, certificate: certificates })
        .from(issuances)
        .innerJoin(certificates, eq(certificates.issuanceId, issuances.id))
        .where(like(issuances.idempotencyKey, `${prefix}%`));
      expect(rows).toHaveLength(5);
      for (const { issuance, certificate } of rows) {
        expect(issuance.status).toBe("CONFIRMED");
        // A transaction stored before the crash is the one that was mined: never re-signed.
        const before = stored.find((s) => s.id === issuance.id)!;
        if (before.txHash) expect(certificate.txHash).toBe(before.txHash);
      }
      if (seam !== "after-nonce" && seam !== "after-sign") {
        expect(stored.some((s) => s.txHash)).toBe(true);
      }
      await expectReconciled(h);
    });
  }

  it("Redis killed and restarted mid-run: every issuance still ends on chain once", async () => {
    const worker = h.startWorker();
    await within(worker.ready, READY_MS, "the worker to say it is ready");
    await issue(h, "redis-", 300);
    expected += 300;
    await new Promise((r) => setTimeout(r, 700));
    await h.crashRedis(2_000);
    await h.settle("redis-");
    await h.killWorker(worker);
    expect((await h.statuses("redis-")).every((r) => r.status === "CONFIRMED")).toBe(true);
    await expectReconciled(h);
  });

  it("the JSON-RPC endpoint unreachable for 10 s mid-run: every issuance still ends on chain once", async () => {
    const worker = h.startWorker();
    await within(worker.ready, READY_MS, "the worker to say it is ready");
    await issue(h, "rpc-", 300);
    expected += 300;
    await new Promise((r) => setTimeout(r, 500));
    h.proxy.cut();
    await new Promise((r) => setTimeout(r, 10_000));
    h.proxy.restore();
    await h.settle("rpc-");
    await h.killWorker(worker);
    expect((await h.statuses("rpc-")).every((r) => r.status === "CONFIRMED")).toBe(true);
    await expectReconciled(h);
  });

  it("the same request sent 10 times at once: one certificate, every response naming the same issuance", async () => {
    const config = loadConfig({ NODE_ENV: "test", DATABASE_URL: h.pgUrl, REDIS_URL: h.redisUrl });
    const ipfs = await openEmbeddedIpfs(mkdtempSync(join(tmpdir(), "hallmark-chaos-api-ipfs-")));
    const server = createApp({ config, db: h.db, ipfs, logger: createLogger("silent") }).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const worker = h.startWorker();
    try {
      const client = new GraphQLClient(url, { headers: { authorization: `Bearer ${h.demo.apiKey}` } });
      const input = { collectionId: h.demo.collectionId, recipient: holders[0], title: "Once only", idempotencyKey: "concurrent-1" };
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          client.request<{ issueCertificate: { issuance: { id: string } } }>(
            gql`mutation ($input: IssueCertificateInput!) { issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id } } ... on Error { __typename code message field } } }`,
            { input },
          ),
        ),
      );
      expected += 1;
      expect(new Set(responses.map((r) => r.issueCertificate.issuance.id)).size).toBe(1);
      await h.settle("concurrent-");
      const certs = await h.db
        .select()
        .from(certificates)
        .where(eq(certificates.issuanceId, responses[0]!.issueCertificate.issuance.id));
      expect(certs).toHaveLength(1);
    } finally {
      await h.killWorker(worker);
      server.closeAllConnections();
      server.close();
      await ipfs.close();
    }
    await expectReconciled(h);
  });

  it("a poison issuance (a holder the contract rejects) fails once, takes no nonce and blocks nothing behind it", async () => {
    const txsBefore = await h.db.select().from(chainTxs);
    // The zero address: the API refuses it, so the row is altered by hand, as a bad migration or an operator might.
    await issue(h, "poison-", 30);
    await h.db.update(issuances).set({ recipient: ZeroAddress }).where(eq(issuances.idempotencyKey, "poison-7"));
    expected += 29;
    poisoned += 1;
    const worker = h.startWorker();
    await h.settle("poison-");
    // An issuance can read CONFIRMED from the chain's logs before the sender has stored its transaction's receipt:
    // let the worker finish recording every transaction before it is stopped.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const open = (await h.db.select().from(chainTxs)).filter((t) => !txsBefore.some((b) => b.id === t.id) && (t.status === "SIGNED" || t.status === "SENT"));
      if (open.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await h.killWorker(worker);
    const rows = await h.statuses("poison-");
    const failed = rows.filter((r) => r.status === "FAILED");
    expect(failed.map((r) => r.key)).toEqual(["poison-7"]);
    expect(failed[0]!.error).toMatch(/HolderInvalid/);
    expect(rows.filter((r) => r.status === "CONFIRMED")).toHaveLength(29);
    const txsAfter = await h.db.select().from(chainTxs);
    const newTxs = txsAfter.filter((t) => !txsBefore.some((b) => b.id === t.id));
    // Every transaction signed since is mined: the poison never reached a signed transaction.
    expect(newTxs.filter((t) => t.status !== "MINED").map((t) => `${t.purpose} ${t.nonce} ${t.status}`)).toEqual([]);
    const nonces = txsAfter.map((t) => t.nonce).sort((a, b) => a - b);
    expect(nonces).toEqual(nonces.map((_, i) => nonces[0]! + i));
    await expectReconciled(h);
  });
});

