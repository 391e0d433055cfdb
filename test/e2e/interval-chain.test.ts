import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { JsonRpcProvider, Wallet } from "ethers";
import { GraphQLClient, gql } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registryEvents } from "../../core/chain/certificate-registry-events.ts";
import { DEV_KEYS, startEmbeddedChain, type EmbeddedChain } from "../../scripts/dev/chain.ts";
import { freePort, startEmbeddedRedis, type EmbeddedRedis } from "../../scripts/dev/redis.ts";
import { PlatformProcesses, type PlatformProcess } from "../support/platform-processes.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { startRpcRecorder, type RpcRecorder } from "../support/rpc-recorder.ts";
import { waitFor } from "../support/stack.ts";
import { within } from "../support/stage-fixture.ts";

/**
 * The standard Ethereum JSON-RPC methods: every `eth_*` and `net_*` method of the Ethereum execution-apis
 * specification (github.com/ethereum/execution-apis, `src/eth/*.yaml`, as of August 2026). Its `debug_*`,
 * `txpool_*` and `testing_*` namespaces are left out: nodes need not serve them, and Besu serves `debug_` only when
 * asked to.
 */
const STANDARD_JSON_RPC = new Set([
  "eth_accounts", "eth_baseFee", "eth_blobBaseFee", "eth_blockNumber", "eth_call", "eth_capabilities", "eth_chainId",
  "eth_coinbase", "eth_config", "eth_createAccessList", "eth_estimateGas", "eth_feeHistory", "eth_fillTransaction",
  "eth_gasPrice", "eth_getBalance", "eth_getBlockAccessList", "eth_getBlockByHash", "eth_getBlockByNumber",
  "eth_getBlockReceipts", "eth_getBlockTransactionCountByHash", "eth_getBlockTransactionCountByNumber", "eth_getCode",
  "eth_getFilterChanges", "eth_getFilterLogs", "eth_getLogs", "eth_getProof", "eth_getStorageAt", "eth_getStorageValues",
  "eth_getTransactionByBlockHashAndIndex", "eth_getTransactionByBlockNumberAndIndex", "eth_getTransactionByHash",
  "eth_getTransactionCount", "eth_getTransactionReceipt", "eth_maxPriorityFeePerGas", "eth_newBlockFilter",
  "eth_newFilter", "eth_newPendingTransactionFilter", "eth_sendRawTransaction", "eth_sendTransaction", "eth_sign",
  "eth_signTransaction", "eth_simulateV1", "eth_syncing", "eth_uninstallFilter", "net_version",
]);

/** A QBFT network's block period here: a block every 2 s, with or without transactions. */
const BLOCK_MS = 2_000;
/** The worker is not ready while the newest block is older: five block periods, so one late block is no alarm. */
const HEAD_MAX_AGE_SECONDS = 10;

const root = fileURLToPath(new URL("../../", import.meta.url));

const ISSUE = gql`
  mutation ($input: IssueCertificateInput!) {
    issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id } } ... on Error { __typename code message } }
  }
`;
const ISSUE_MANY = gql`
  mutation ($input: IssueCertificatesInput!) {
    issueCertificates(input: $input) {
      ... on IssueCertificatesPayload { bulkIssuance { id } results { created issuance { id } error { code message } } }
      ... on Error { __typename code message }
    }
  }
`;
const BULK = gql`
  query ($id: ID!) { bulkIssuance(id: $id) { progress { total done queued pinned submitted confirmed failed rejected } } }
`;
const ISSUANCE = gql`
  query ($id: ID!) { issuance(id: $id) { status error certificate { id tokenId txHash blockNumber status } } }
`;
const REVOKE = gql`
  mutation ($input: RevokeCertificateInput!) {
    revokeCertificate(input: $input) { ... on RevokeCertificatePayload { revocation { id status } } ... on Error { __typename code message } }
  }
`;
const CERTIFICATE = gql`query ($id: ID!) { certificate(id: $id) { status revokedTxHash } }`;

type Progress = { total: number; done: number; queued: number; pinned: number; submitted: number; confirmed: number; failed: number; rejected: number };
type IssuanceView = { status: string; error: string | null; certificate: null | { id: string; tokenId: string; txHash: string; blockNumber: number; status: string } };

/**
 * The whole platform as an operator runs it (`npm run migrate`, `npm run deploy`, `npm start`, `npm run worker`,
 * `npm run audit`) on PostgreSQL, Redis and a chain that makes a block every 2 s at zero fees, as a Besu QBFT network
 * does, rather than one block per transaction the moment it is sent. Every process reaches the chain through a
 * recording proxy, so the test also sees every JSON-RPC method the platform sends.
 */
describe("a chain with real block times: 2 s blocks, zero fees, the server and the worker restarted mid-run", () => {
  let pg: TestPostgres;
  let redis: EmbeddedRedis;
  let chain: EmbeddedChain;
  let recorder: RpcRecorder;
  /** The test's own view of the chain, straight to the node (not recorded: the platform's methods are the question). */
  let node: JsonRpcProvider;
  let dir: string;
  const processes = new PlatformProcesses();
  // A key that never held ether: on a zero-fee network the worker's key needs none.
  const signerKey = Wallet.createRandom().privateKey;

  const env = (name: string, extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH,
    NODE_ENV: "test",
    LOG_LEVEL: "error",
    HALLMARK_DATA_DIR: join(dir, name),
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    CHAIN_RPC_URL: recorder.rpcUrl,
    CHAIN_ID: "31337",
    DEPLOYER_PRIVATE_KEY: DEV_KEYS.deployer,
    SIGNER_PRIVATE_KEY: signerKey,
    CUSTODY_SECRET: "interval-chain-test-custody-secret-0123456789",
    HOST: "127.0.0.1",
    PORT: "0",
    BATCH_WINDOW_MS: "200",
    CHAIN_HEAD_MAX_AGE_SECONDS: String(HEAD_MAX_AGE_SECONDS),
    ...extra,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "hallmark-interval-"));
    [pg, redis, chain] = await Promise.all([
      startPostgres(),
      startEmbeddedRedis(join(dir, "redis")),
      startEmbeddedChain({ port: 0, chainId: 31337, blockTimeMs: BLOCK_MS, zeroFees: true }),
    ]);
    recorder = await startRpcRecorder(chain.rpcUrl);
    node = new JsonRpcProvider(chain.rpcUrl, 31337, { staticNetwork: true, pollingInterval: 200, cacheTimeout: -1 });
  }, 60_000);

  afterAll(async () => {
    await processes.stopAll();
    node?.destroy();
    await recorder?.close();
    await chain?.close();
    await redis?.stop();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the chain makes a block every 2 s with no transactions sent, at base fee 0 and gas price 0", async () => {
    const first = (await node.getBlock("latest"))!;
    await new Promise((r) => setTimeout(r, 3 * BLOCK_MS + 500));
    const last = (await node.getBlock("latest"))!;
    // Three periods passed: three blocks, give or take the one being made at either end (a busy machine delays some).
    expect(last.number - first.number).toBeGreaterThanOrEqual(2);
    expect(last.number - first.number).toBeLessThanOrEqual(4);
    for (let n = first.number + 1; n <= last.number; n++) {
      const [block, parent] = await Promise.all([node.getBlock(n), node.getBlock(n - 1)]);
      expect(block!.transactions).toHaveLength(0);
      expect(block!.timestamp - parent!.timestamp).toBeGreaterThanOrEqual(BLOCK_MS / 1000);
      expect(block!.timestamp - parent!.timestamp).toBeLessThanOrEqual((2 * BLOCK_MS) / 1000);
      expect(block!.baseFeePerGas).toBe(0n);
    }
    expect(await node.send("eth_gasPrice", [])).toBe("0x0");
    expect(await node.send("eth_maxPriorityFeePerGas", [])).toBe("0x0");
  });

  it("the recording proxy counts each call of a batch and passes the node's answers through unchanged", async () => {
    const own = await startRpcRecorder(chain.rpcUrl);
    try {
      const post = async (url: string, body: unknown) =>
        (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json();
      const batch = [
        { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] },
        { jsonrpc: "2.0", id: 2, method: "eth_getBalance", params: [new Wallet(DEV_KEYS.deployer).address, "latest"] },
      ];
      expect(await post(own.rpcUrl, batch)).toEqual(await post(chain.rpcUrl, batch));
      expect(await post(own.rpcUrl, { jsonrpc: "2.0", id: 3, method: "web3_clientVersion", params: [] })).toMatchObject({ id: 3 });
      expect([...own.methods]).toEqual([["eth_chainId", 1], ["eth_getBalance", 1], ["web3_clientVersion", 1]]);
    } finally {
      await own.close();
    }
  });

  it(
    "certificates issued in bulk and one by one are each CONFIRMED once, in blocks that exist, through a worker SIGKILLed and a server SIGTERMed mid-run; the revocation reaches the chain; the audit finds nothing; only standard JSON-RPC was sent",
    async () => {
      const migrate = processes.run("scripts/migrate.ts", env("migrate"));
      expect(await within(migrate.exited, 30_000, "npm run migrate"), migrate.stderr).toBe(0);

      const args = ["--institution", "Interval University", "--slug", "interval-university", "--identity", "did:web:interval.example", "--collection", "Diplomas", "--symbol", "DIPL", "--out", join(dir, "deployments")];
      const deploy = processes.run("scripts/deploy.ts", env("deploy"), args);
      expect(await within(deploy.exited, 60_000, "npm run deploy"), deploy.stderr).toBe(0);
      const deployed = JSON.parse(deploy.stdout) as { collectionId: string; contract: string; issuerRegistry: string; apiKey: string };
      const platform = (name: string, extra: Record<string, string> = {}) => env(name, { ISSUER_REGISTRY_ADDRESS: deployed.issuerRegistry, ...extra });

      const opsPort = await freePort();
      let worker: PlatformProcess = await processes.startWorker(platform("worker", { OPS_PORT: String(opsPort) }));
      let server = await processes.startServer(platform("server"));
      let client = new GraphQLClient(`http://127.0.0.1:${server.port}/graphql`, { headers: { authorization: `Bearer ${deployed.apiKey}` } });

      const singles: string[] = [];
      const issueOne = async (key: string) => {
        const { issueCertificate } = await client.request<any>(ISSUE, {
          input: { collectionId: deployed.collectionId, recipient: Wallet.createRandom().address, title: `Single ${key}`, idempotencyKey: key },
        });
        expect(issueCertificate.issuance, JSON.stringify(issueCertificate)).toBeDefined();
        singles.push(issueCertificate.issuance.id);
      };
      const issueMany = async (key: string, n: number) => {
        const items = Array.from({ length: n }, (_, i) => ({ recipient: Wallet.createRandom().address, title: `Bulk ${key} #${i}`, idempotencyKey: `${key}-${i}` }));
        const { issueCertificates } = await client.request<any>(ISSUE_MANY, { input: { collectionId: deployed.collectionId, idempotencyKey: key, items } });
        expect(issueCertificates.bulkIssuance, JSON.stringify(issueCertificates).slice(0, 500)).toBeDefined();
        return { id: issueCertificates.bulkIssuance.id as string, items };
      };
      const progress = async (id: string) => (await client.request<{ bulkIssuance: { progress: Progress } }>(BULK, { id })).bulkIssuance.progress;
      const readyz = async () => {
        const res = await fetch(`http://127.0.0.1:${opsPort}/readyz`);
        return { status: res.status, body: (await res.json()) as { checks: Record<string, { ok: boolean; error?: string }> } };
      };

      // Phase 1: a bulk request and singles; the worker is killed outright while some are sent and not yet mined.
      const bulk1 = await issueMany("bulk-1", 150);
      for (let i = 0; i < 10; i++) await issueOne(`single-a-${i}`);
      const inFlight = await waitFor(() => progress(bulk1.id), (p) => p.submitted > 0, 60_000);
      expect(inFlight.confirmed).toBeLessThan(150);
      await processes.kill(worker);
      worker = await processes.startWorker(platform("worker", { OPS_PORT: String(opsPort) }));

      // Phase 2: more work, then the server is stopped gracefully and replaced while the worker is busy with it.
      for (let i = 0; i < 10; i++) await issueOne(`single-b-${i}`);
      const bulk2 = await issueMany("bulk-2", 150);
      expect((await progress(bulk2.id)).confirmed).toBeLessThan(150);
      server.p.child.kill("SIGTERM");
      expect(await within(server.p.exited, 15_000, "the server to exit after SIGTERM"), server.p.stdout).toBe(0);
      server = await processes.startServer(platform("server-2"));
      client = new GraphQLClient(`http://127.0.0.1:${server.port}/graphql`, { headers: { authorization: `Bearer ${deployed.apiKey}` } });
      // A client that did not see its answer sends the same request again: nothing is created twice.
      const again = (await client.request<any>(ISSUE_MANY, { input: { collectionId: deployed.collectionId, idempotencyKey: "bulk-2", items: bulk2.items } })).issueCertificates;
      expect(again.results.filter((r: { created: boolean }) => r.created)).toHaveLength(0);

      // The worker's readiness holds on 2 s blocks: its chain head is never older than the threshold.
      const ready = await readyz();
      expect(ready.status, JSON.stringify(ready.body)).toBe(200);
      expect(ready.body.checks.chainHead.ok).toBe(true);

      // Every single is CONFIRMED, and when the API first says so its block is already on the chain.
      for (const id of singles) {
        const { issuance } = await waitFor(() => client.request<{ issuance: IssuanceView }>(ISSUANCE, { id }), (r) => r.issuance.status === "CONFIRMED" || r.issuance.status === "FAILED", 90_000);
        expect(issuance.status, issuance.error ?? "").toBe("CONFIRMED");
        const [block, receipt] = await Promise.all([node.getBlock(issuance.certificate!.blockNumber), node.getTransactionReceipt(issuance.certificate!.txHash)]);
        expect(block, `block ${issuance.certificate!.blockNumber}`).not.toBeNull();
        expect(receipt!.blockNumber).toBe(issuance.certificate!.blockNumber);
        expect(receipt!.status).toBe(1);
      }
      for (const bulk of [bulk1, bulk2]) {
        const p = await waitFor(() => progress(bulk.id), (v) => v.done === v.total, 90_000);
        expect(p).toMatchObject({ total: 150, confirmed: 150, failed: 0, rejected: 0 });
      }

      // Revoke one; the revocation is on chain, not only in the database.
      const { issuance: revoked } = await client.request<{ issuance: IssuanceView }>(ISSUANCE, { id: singles[0] });
      const { revokeCertificate } = await client.request<any>(REVOKE, { input: { certificateId: revoked.certificate!.id, reason: "issued in error", idempotencyKey: "revoke-1" } });
      expect(revokeCertificate.revocation, JSON.stringify(revokeCertificate)).toBeDefined();
      const cert = await waitFor(() => client.request<{ certificate: { status: string; revokedTxHash: string | null } }>(CERTIFICATE, { id: revoked.certificate!.id }), (r) => r.certificate.status === "REVOKED", 60_000);
      expect((await node.getTransactionReceipt(cert.certificate.revokedTxHash!))!.status).toBe(1);

      // On chain: one token per certificate asked for, no document (and so no request id) twice, the one revocation; spread over real blocks.
      const head = await node.getBlockNumber();
      const events = await registryEvents(node, [deployed.contract], 0, head);
      const issued = events.filter((e) => e.kind === "issued");
      expect(issued).toHaveLength(320);
      expect(new Set(issued.map((e) => e.digest)).size).toBe(320);
      expect(events.filter((e) => e.kind === "revoked").map((e) => String(e.tokenId))).toEqual([revoked.certificate!.tokenId]);
      const blocks = [...new Set(issued.map((e) => e.blockNumber))].sort((a, b) => a - b);
      expect(blocks.length).toBeGreaterThan(1);
      // Each block came a block period or more after its parent (late under load, never early): no block per transaction.
      for (let n = blocks[0]! + 1; n <= blocks.at(-1)!; n++) {
        const [block, parent] = await Promise.all([node.getBlock(n), node.getBlock(n - 1)]);
        expect(block!.timestamp - parent!.timestamp, `block ${n}`).toBeGreaterThanOrEqual(BLOCK_MS / 1000);
      }

      // The reconciler, as an operator runs it.
      const audit = processes.run("scripts/audit.ts", platform("audit"));
      expect(await within(audit.exited, 60_000, "npm run audit"), audit.stdout + audit.stderr).toBe(0);
      expect(audit.stdout).toMatch(/audit: requested 320, on-chain 320, duplicates 0, stuck 0, mismatches 0/);

      // Only standard JSON-RPC went to the node, from migrate, deploy, the servers, the workers and the audit.
      const methods = [...recorder.methods.keys()].sort();
      expect(methods).toContain("eth_sendRawTransaction");
      expect(methods.filter((m) => !STANDARD_JSON_RPC.has(m))).toEqual([]);
      expect(methods.filter((m) => /^(hardhat|evm|anvil|debug)_/.test(m))).toEqual([]);

      await Promise.all(
        [worker, server.p].map(async (p) => {
          p.child.kill("SIGTERM");
          expect(await within(p.exited, 15_000, "a process to exit after SIGTERM"), p.stdout).toBe(0);
        }),
      );
    },
    180_000,
  );
});

describe("only standard JSON-RPC outside dev tooling", () => {
  it("no file outside dev tooling and tests names a Hardhat-, EDR- or Anvil-only RPC method", () => {
    // git grep exits 1 when nothing matches, which is the answer wanted: read its output, not its exit code.
    const grep = spawnSync("git", ["grep", "-nIE", "\\b(hardhat|evm|anvil)_[a-z][A-Za-z]*\\b", "--", ".", ":!test/", ":!scripts/dev/", ":!hardhat.config.ts"], { cwd: root, encoding: "utf8" });
    expect([0, 1], grep.stderr).toContain(grep.status);
    const named = grep.stdout.trim();
    expect(named).toBe("");
  });
});
