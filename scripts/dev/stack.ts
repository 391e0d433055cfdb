import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Wallet, type JsonRpcProvider } from "ethers";
import { Redis } from "ioredis";
import { createChainProvider } from "../../core/chain/provider.ts";
import { institutionSigningKey } from "../../core/credentials/institution-keys.ts";
import { TxSender } from "../../core/chain/tx-sender.ts";
import { loadConfig, type Config } from "../../core/config.ts";
import { openCustody, type Custody } from "../../core/custody/custody-secret.ts";
import { prepareSealedSecrets } from "../../core/custody/stored-secrets.ts";
import { openDatabase, schema, type DatabaseHandle } from "../../core/db/index.ts";
import { openIpfs, type IpfsStore } from "../../core/ipfs/index.ts";
import { createLogger, type Logger } from "../../core/logger.ts";
import { createLiveFeed } from "../../core/live/index.ts";
import { checkRedis } from "../../core/redis.ts";
import { createApp } from "../../server/app.ts";
import { startOps, type RunningOps } from "../../server/ops/start-ops.ts";
import { startWorker, type RunningWorker } from "../../worker/index.ts";
import { DEV_KEYS, startEmbeddedChain, type EmbeddedChain } from "./chain.ts";
import { ensureDemo, type DevInfo } from "./demo.ts";
import { ensureDemoEdition } from "./demo-edition.ts";
import { ensureDemoIssuerRegistry, syncDemoInstitution } from "./issuer-registry.ts";
import { startEmbeddedRedis, type EmbeddedRedis } from "./redis.ts";

const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

export interface RunningStack {
  config: Config;
  devInfo: DevInfo;
  dataDir: string;
  db: DatabaseHandle;
  ipfs: IpfsStore;
  provider: JsonRpcProvider;
  worker: RunningWorker;
  redisUrl: string;
  logger: Logger;
  /** The custody secret's keys the worker and the server were handed. */
  custody: Custody;
  /** The ops listener (`/healthz`, `/readyz`, `/metrics`) when OPS_PORT is set. */
  ops: RunningOps;
  stop(): Promise<void>;
}

/**
 * Brings up the whole platform: every service the environment does not name runs embedded, with its data
 * under one folder. `npm run dev` and the end-to-end tests both start here.
 */
export async function startStack(opts: { env?: NodeJS.ProcessEnv; notice?: (line: string) => void } = {}): Promise<RunningStack> {
  const config = loadConfig(opts.env ?? process.env);
  const notice = opts.notice ?? ((line: string) => process.stderr.write(`${line}\n`));
  const logger = createLogger(config.logLevel);
  const dataDir = resolve(projectRoot, config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) {
      await s().catch((err) => logger.warn({ err: String(err) }, "error while stopping"));
    }
    stoppers.length = 0;
  };

  try {
    // Chain
    let rpcUrl = config.chain.rpcUrl;
    let chain: EmbeddedChain | undefined;
    if (!rpcUrl) {
      // Test runs compile once in their global setup; concurrent builds of one project would race.
      if (!process.env.HALLMARK_CONTRACTS_BUILT) {
        execFileSync("npx", ["hardhat", "build", "--quiet"], { cwd: projectRoot, stdio: ["ignore", "ignore", "inherit"] });
      }
      chain = await startEmbeddedChain({ port: config.chain.embeddedPort, chainId: config.chain.chainId, host: "127.0.0.1" });
      stoppers.push(() => chain!.close());
      rpcUrl = chain.rpcUrl;
      if (!config.databaseUrl && existsSync(join(dataDir, "db"))) {
        // EDR keeps no state across restarts: the previous run's records would name certificates this chain lacks.
        notice(
          "The embedded chain (EDR) keeps no state across restarts: clearing the previous run's database and queue under " +
            `${config.dataDir}/ so they never hold certificates the chain does not have. IPFS content is kept.`,
        );
        rmSync(join(dataDir, "db"), { recursive: true, force: true });
        rmSync(join(dataDir, "redis"), { recursive: true, force: true });
      }
    }
    const provider = createChainProvider(rpcUrl, config.chain.chainId);
    stoppers.push(async () => provider.destroy());
    const signerKeys = config.chain.signerKeys.length ? config.chain.signerKeys : [DEV_KEYS.minter];
    const deployerKey = config.chain.deployerKey ?? (chain ? DEV_KEYS.deployer : signerKeys[0]!);

    // Redis
    let redisUrl = config.redisUrl;
    if (!redisUrl) {
      const redis: EmbeddedRedis = await startEmbeddedRedis(join(dataDir, "redis"));
      stoppers.push(() => redis.stop());
      redisUrl = redis.url;
    }
    await checkRedis(redisUrl, { requireAof: config.env === "production" });

    // PostgreSQL
    const db = await openDatabase({ url: config.databaseUrl, dir: join(dataDir, "db") });
    stoppers.push(() => db.close());
    const custody = openCustody(config);
    const unsealed = await prepareSealedSecrets(db.db, custody);
    if (unsealed.unopenable.length) logger.warn({ unopenable: unsealed.unopenable }, "stored secrets sealed under a key SEALING_KEYS no longer lists");
    if (chain && db.kind === "postgres") await refuseStaleDatabase(db, provider, config);

    // IPFS
    const ipfs = await openIpfs({ apiUrl: config.ipfsApiUrl, dataDir: join(dataDir, "ipfs") });
    stoppers.push(() => ipfs.close());

    // Demo institution
    const deployer = new Wallet(deployerKey, provider);
    const signers = signerKeys.map((k) => new Wallet(k, provider));
    const devInfoPath = join(dataDir, "dev.json");
    const demo = await ensureDemo({ db: db.db, deployer, issuers: signers.map((s) => s.address), chainId: config.chain.chainId, devInfoPath });
    const issuerRegistry =
      config.chain.issuerRegistry ??
      (await ensureDemoIssuerRegistry({
        deployer,
        certificateRegistry: demo.contracts.CertificateRegistry,
        institution: { name: "Demo University", identity: (await institutionSigningKey(db.db, demo.institutionId, custody.keyring())).did },
      }));
    demo.contracts.IssuerRegistry = issuerRegistry;
    await syncDemoInstitution({ db: db.db, provider, issuerRegistry, certificateRegistry: demo.contracts.CertificateRegistry, institutionId: demo.institutionId });
    // The museum demo: an editions contract with one edition, its images and metadata pinned to IPFS.
    const demoEdition = await ensureDemoEdition({ ipfs, deployer, devInfoPath });
    demo.contracts.CollectibleEditions = demoEdition.contract;

    // Worker
    const senders = signers.map(
      (wallet) =>
        new TxSender({ db: db.db, provider, wallet, chainId: config.chain.chainId, logger, maxInFlight: config.chain.maxInFlightPerKey }),
    );
    // The operator's registry changes are signed by the admin key: ADMIN_PRIVATE_KEY, else the deployer.
    const adminWallet = new Wallet(config.chain.adminKey ?? deployerKey, provider);
    const adminSender = new TxSender({ db: db.db, provider, wallet: adminWallet, chainId: config.chain.chainId, logger, maxInFlight: config.chain.maxInFlightPerKey });
    const worker = await startWorker({ config, db: db.db, ipfs, provider, senders, adminSender, issuerRegistry, logger, deployer, custody }, redisUrl);
    stoppers.push(() => worker.close());

    // Server; its rate limits are counted in Redis. A command that cannot run at once fails and the request passes.
    const serverRedis = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1_000 });
    serverRedis.on("error", (err) => logger.debug({ err: String(err) }, "server redis connection"));
    await serverRedis.connect();
    stoppers.push(async () => serverRedis.disconnect());
    // Subscriptions hear the workers' state changes on a connection of their own (a subscriber sends nothing else).
    const liveRedis = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    liveRedis.on("error", (err) => logger.debug({ err: String(err) }, "server live status redis connection"));
    await liveRedis.connect();
    const live = createLiveFeed(liveRedis, logger);
    stoppers.push(() => live.close());
    // Health, readiness and metrics on a port of their own (OPS_PORT); nothing when it is unset.
    const ops = await startOps({ config, role: "all", db: db.db, redisUrl, provider, ipfs, logger, signers: signers.map((w) => w.address) });
    stoppers.push(() => ops.close());
    const app = createApp({ config, db: db.db, ipfs, logger, provider, issuerRegistry, collectibleContracts: [demoEdition.contract], redis: serverRedis, live, custody, metrics: ops.httpMetrics });
    const server = app.listen(config.port, config.host);
    await new Promise<void>((ok, fail) => {
      server.once("listening", ok);
      server.once("error", fail);
    });
    stoppers.push(
      () =>
        new Promise<void>((ok) => {
          server.closeAllConnections();
          server.close(() => ok());
        }),
    );
    const port = (server.address() as AddressInfo).port;
    const baseUrl = config.publicUrl ?? `http://${config.host}:${port}`;
    notice(`Museum gallery: ${baseUrl}${demoEdition.galleryPath}  (IIIF manifest: ${baseUrl}${demoEdition.manifestPath})`);

    const devInfo: DevInfo = { graphqlUrl: `${baseUrl}/graphql`, rpcUrl, ...demo };
    writeFileSync(devInfoPath, `${JSON.stringify(devInfo, null, 2)}\n`, { mode: 0o600 });
    return { config, devInfo, dataDir, db, ipfs, provider, worker, redisUrl, logger, custody, ops, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A server database cannot be wiped for the user: refuse to run it against a fresh embedded chain. */
async function refuseStaleDatabase(db: DatabaseHandle, provider: JsonRpcProvider, config: Config): Promise<void> {
  const rows = await db.db.select().from(schema.collections);
  for (const row of rows.filter((r) => r.chainId === config.chain.chainId)) {
    if ((await provider.getCode(row.contractAddress)) === "0x") {
      throw new Error(
        `DATABASE_URL holds collections of an earlier embedded chain (contract ${row.contractAddress} no longer exists). ` +
          "The embedded chain keeps no state across restarts: point DATABASE_URL at an empty database, or set CHAIN_RPC_URL to a persistent chain.",
      );
    }
  }
}
