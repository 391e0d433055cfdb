import { join } from "node:path";
import { count, countDistinct, eq, inArray } from "drizzle-orm";
import { Wallet } from "ethers";
import { GraphQLClient, gql } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChainProvider } from "../../core/chain/provider.ts";
import { openDatabase, type DatabaseHandle } from "../../core/db/index.ts";
import { certificates, chainTxs, issuances } from "../../core/db/schema.ts";
import { reconcile } from "../../core/reconcile.ts";
import { DEV_KEYS, type EmbeddedChain } from "../../scripts/dev/chain.ts";
import type { EmbeddedRedis } from "../../scripts/dev/redis.ts";
import { PlatformProcesses, type PlatformProcess } from "../support/platform-processes.ts";
import { type TestPostgres } from "../support/postgres.ts";
import { startProductionServices, type ProductionServices } from "../support/production-services.ts";
import { within } from "../support/stage-fixture.ts";

/** Hardhat's development keys #1 to #3, funded on the embedded chain: the workers' three signing keys. */
const SIGNING_KEYS = [
  DEV_KEYS.minter,
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];
const TOTAL = 2_000;
/** Per server: two bulk requests and single requests, 1,000 certificates in all. */
const BULKS = [600, 350];
const SINGLES = 50;

const ISSUE_ONE = gql`
  mutation ($input: IssueCertificateInput!) {
    issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id } } ... on Error { __typename code message } }
  }
`;
const ISSUE_MANY = gql`
  mutation ($input: IssueCertificatesInput!) {
    issueCertificates(input: $input) {
      ... on IssueCertificatesPayload { results { index issuance { id } error { code message } } }
      ... on Error { __typename code message }
    }
  }
`;

/**
 * The platform as an operator scales it out: one PostgreSQL server and one Redis shared by two API servers and two
 * workers, the workers holding the same three signing keys (each key's nonce is taken under a row lock in the
 * shared database). 2,000 certificates go in through both servers; one worker is killed outright while
 * transactions are in flight, and the other finishes its work.
 */
describe("many processes, many keys: 2 API servers, 2 workers, 3 signing keys", () => {
  let pg: TestPostgres;
  let redis: EmbeddedRedis;
  let chain: EmbeddedChain;
  let dir: string;
  let services: ProductionServices | undefined;
  let db: DatabaseHandle | undefined;
  const processes = new PlatformProcesses();
  let deployed: { institutionId: string; collectionId: string; issuerRegistry: string; apiKey: string };

  const env = (name: string, extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH,
    NODE_ENV: "test",
    LOG_LEVEL: "warn",
    HALLMARK_DATA_DIR: join(dir, name),
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    CHAIN_RPC_URL: chain.rpcUrl,
    CHAIN_ID: "31337",
    DEPLOYER_PRIVATE_KEY: DEV_KEYS.deployer,
    SIGNER_PRIVATE_KEY: SIGNING_KEYS.join(","),
    HOST: "127.0.0.1",
    PORT: "0",
    // Batches small enough that the three keys each get several, and a window short enough to keep them coming.
    BATCH_SIZE: process.env.MULTI_PROCESS_BATCH_SIZE ?? "100",
    BATCH_WINDOW_MS: process.env.MULTI_PROCESS_BATCH_WINDOW_MS ?? "200",
    WORKER_CONCURRENCY: "32",
    // The test's own requests: far more than a production per-institution allowance.
    RATE_LIMIT_PER_INSTITUTION: "0",
    RATE_LIMIT_PER_IP: "0",
    ...(deployed ? { ISSUER_REGISTRY_ADDRESS: deployed.issuerRegistry } : {}),
    ...extra,
  });

  beforeAll(async () => {
    services = await startProductionServices("hallmark-fleet-");
    ({ pg, redis, chain, dir } = services);
  }, 30_000);

  afterAll(async () => {
    await processes.stopAll();
    await db?.close();
    await services?.stop();
  });

  it("confirms every certificate once, uses every key, survives a killed worker, and the reconciler finds nothing", async () => {
    const started = Date.now();
    const phases: Record<string, number> = {};
    let mark = started;
    const phase = (name: string) => {
      phases[name] = Math.round((Date.now() - mark) / 1000);
      mark = Date.now();
    };
    const step = (p: PlatformProcess, what: string, ms: number) => within(p.exited, ms, what).then((code) => expect(code, `${what}: ${p.stderr}`).toBe(0));
    await step(processes.run("scripts/migrate.ts", env("migrate")), "npm run migrate", 30_000);
    const args = ["--institution", "Fleet University", "--slug", "fleet-university", "--identity", "did:web:fleet.example", "--collection", "Diplomas", "--symbol", "DIPL", "--out", join(dir, "deployments")];
    const deploy = processes.run("scripts/deploy.ts", env("deploy"), args);
    await step(deploy, "npm run deploy", 60_000);
    deployed = JSON.parse(deploy.stdout);

    const [workerA, workerB, serverA, serverB] = await Promise.all([
      processes.startWorker(env("worker-a"), 60_000),
      processes.startWorker(env("worker-b"), 60_000),
      processes.startServer(env("server-a"), 60_000),
      processes.startServer(env("server-b"), 60_000),
    ]);
    phase("migrate, deploy, start 4 processes");
    db = await openDatabase({ url: pg.url, dir: join(dir, "unused-pglite") });
    const clients = [serverA, serverB].map(
      ({ port }) => new GraphQLClient(`http://127.0.0.1:${port}/graphql`, { headers: { authorization: `Bearer ${deployed.apiKey}` } }),
    );

    // Each server takes half: its bulk requests and its single requests, all at once.
    const send = async (client: GraphQLClient, s: number): Promise<string[]> => {
      const item = (key: string) => ({ recipient: Wallet.createRandom().address, title: "MSc Distributed Systems", idempotencyKey: key });
      const bulks = BULKS.map(async (size, b) => {
        const { issueCertificates } = await client.request<any>(ISSUE_MANY, {
          input: { collectionId: deployed.collectionId, idempotencyKey: `bulk-${s}-${b}`, items: Array.from({ length: size }, (_, i) => item(`bulk-${s}-${b}-${i}`)) },
        });
        expect(issueCertificates.results, JSON.stringify(issueCertificates).slice(0, 500)).toHaveLength(size);
        return issueCertificates.results.map((r: any) => {
          expect(r.error).toBeNull();
          return r.issuance.id as string;
        });
      });
      const singles = Array.from({ length: SINGLES }, async (_, i) => {
        const { issueCertificate } = await client.request<any>(ISSUE_ONE, { input: { collectionId: deployed.collectionId, ...item(`single-${s}-${i}`) } });
        expect(issueCertificate.issuance, JSON.stringify(issueCertificate)).toBeDefined();
        return [issueCertificate.issuance.id as string];
      });
      return (await Promise.all([...bulks, ...singles])).flat();
    };
    const ids = (await Promise.all(clients.map(send))).flat();
    expect(new Set(ids).size).toBe(TOTAL);
    phase("send 2,000 through GraphQL");

    // Worker B is killed outright while transactions are signed or sent and not yet known to be mined.
    const inFlight = async () => Number((await db!.db.select({ n: count() }).from(chainTxs).where(inArray(chainTxs.status, ["SIGNED", "SENT"])))[0]!.n);
    await within(
      (async () => {
        while ((await inFlight()) === 0) await new Promise((r) => setTimeout(r, 20));
      })(),
      90_000,
      "a transaction in flight",
    );
    await processes.kill(workerB);
    const confirmedAtKill = await confirmedCount();

    // The surviving worker takes over the killed one's jobs (their locks lapse) and its transactions (stored, same keys).
    await within(
      (async () => {
        while ((await confirmedCount()) < TOTAL) await new Promise((r) => setTimeout(r, 500));
      })(),
      150_000,
      `all ${TOTAL} certificates confirmed`,
    ).catch(async (err) => {
      const byStatus = await db!.db.select({ status: issuances.status, n: count() }).from(issuances).groupBy(issuances.status);
      throw new Error(`${(err as Error).message}; issuances by status: ${JSON.stringify(byStatus)}; worker A log: ${workerA.stdout.slice(-3_000)}`);
    });
    expect(confirmedAtKill).toBeLessThan(TOTAL);
    phase("confirm all");

    // Exactly once: one certificate per issuance, 2,000 distinct tokens and request ids.
    const [certs] = await db.db
      .select({ n: count(), tokens: countDistinct(certificates.tokenId), issuances: countDistinct(certificates.issuanceId) })
      .from(certificates);
    expect(certs).toEqual({ n: TOTAL, tokens: TOTAL, issuances: TOTAL });
    const [requests] = await db.db.select({ n: countDistinct(issuances.requestId) }).from(issuances);
    expect(requests!.n).toBe(TOTAL);

    // Every key sent transactions that were mined, as the chain and the stored transactions both say.
    const signers = SIGNING_KEYS.map((k) => new Wallet(k).address);
    const mined = await db.db
      .select({ signer: chainTxs.signer, n: count() })
      .from(chainTxs)
      .where(eq(chainTxs.status, "MINED"))
      .groupBy(chainTxs.signer);
    expect(mined.map((m) => m.signer).sort()).toEqual([...signers].sort());
    // The reconciler, from the chain's events: every request on chain once, nothing stuck, no mismatch.
    const provider = createChainProvider(chain.rpcUrl, 31337);
    try {
      for (const address of signers) expect(await provider.getTransactionCount(address, "latest"), address).toBeGreaterThan(0);
      const report = await reconcile(db.db, provider, 31337);
      expect({ ...report, mismatches: report.mismatches.slice(0, 5) }).toEqual({ requested: TOTAL, onChain: TOTAL, duplicates: 0, stuck: 0, mismatches: [] });
    } finally {
      provider.destroy();
    }
    // And as an operator runs it.
    const audit = processes.run("scripts/audit.ts", env("audit"));
    await step(audit, "npm run audit", 60_000);
    expect(audit.stdout).toContain(`audit: requested ${TOTAL}, on-chain ${TOTAL}, duplicates 0, stuck 0, mismatches 0`);
    phase("check and audit");
    console.log(
      `multi-process: ${TOTAL} certificates through 2 servers and 2 workers (one killed at ${confirmedAtKill} confirmed) in ${Math.round((Date.now() - started) / 1000)} s ${JSON.stringify(phases)}; transactions mined per key ${JSON.stringify(mined)}`,
    );

    async function confirmedCount(): Promise<number> {
      const [row] = await db!.db.select({ n: count() }).from(issuances).where(eq(issuances.status, "CONFIRMED"));
      return Number(row!.n);
    }
  }, 210_000);
});

