import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import type { JsonRpcProvider } from "ethers";
import { OPERATIONS_QUEUE } from "../../core/jobs.ts";
import { boot } from "../../core/boot/index.ts";
import { institutionSigningKey } from "../../core/credentials/institution-keys.ts";
import { loadConfig, type Config } from "../../core/config.ts";
import type { Custody } from "../../core/custody/custody-secret.ts";
import { schema, type DatabaseHandle } from "../../core/db/index.ts";
import type { IpfsStore } from "../../core/ipfs/index.ts";
import { createLogger, type Logger } from "../../core/logger.ts";
import { startWorker, type RunningWorker } from "../../worker/index.ts";
import type { RunningOps } from "../../server/ops/start-ops.ts";
import { serveApi } from "../../server/serve-api.ts";
import { DEV_KEYS, startEmbeddedChain, type EmbeddedChain } from "./chain.ts";
import { ensureDemo, type DevInfo } from "./demo.ts";
import { ensureDemoEdition } from "./demo-edition.ts";
import { ensureDemoIssuerRegistry, syncDemoInstitution } from "./issuer-registry.ts";
import { startEmbeddedRedis, type EmbeddedRedis } from "./redis.ts";
import { startMailSink } from "./mail-sink.ts";
import { mailboxRoutes } from "./mailbox-routes.ts";
import { smtpMailer, type Mailer } from "../../core/mail/mailer.ts";
import { cliTranslator } from "../../core/i18n/translator.ts";

const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

export interface RunningStack {
  config: Config;
  devInfo: DevInfo;
  dataDir: string;
  db: DatabaseHandle;
  ipfs: IpfsStore;
  provider: JsonRpcProvider;
  /** The worker's queue and its stop: in this process, or the worker process's when `workerProcess` was asked. */
  worker: Pick<RunningWorker, "queue" | "close">;
  redisUrl: string;
  logger: Logger;
  /** The custody secret's keys the worker and the server were handed. */
  custody: Custody;
  /** The ops listener (`/healthz`, `/readyz`, `/metrics`) when OPS_PORT is set. */
  ops: RunningOps;
  /** CPU seconds used so far, by the process and by each embedded part that has a thread or process of its own. */
  cpuUsage(): Promise<StackCpu>;
  /** The processes the stack started beside this one, when it did. */
  pids: { chain?: number; redis?: number; workerProcess?: number };
  stop(): Promise<void>;
}

/** CPU seconds (user + system) since each part started. */
export interface StackCpu {
  /** This process: every thread of it (the main thread, the database's, libuv's pool, the garbage collector, native code's own). */
  process: number;
  /** The main thread: the API server, the worker's stages and jobs. */
  mainThread: number;
  /** The embedded PGlite's thread, when the database is embedded. */
  database?: number;
  /** The embedded chain's process (EDR and its JSON-RPC endpoint), when the chain is embedded. */
  chain?: number;
  /** The embedded redis-server (another process), when Redis is embedded. */
  redis?: number;
  /** The worker process (`npm run worker`), when the stack runs one. */
  workerProcess?: number;
}

const seconds = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1e6;

/** A child process's CPU seconds from /proc (Linux); undefined elsewhere or once it has gone. */
function processCpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    // Fields after the parenthesised command: utime and stime are the 12th and 13th, in clock ticks (100 a second).
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * Brings up the whole platform: every service the environment does not name runs embedded, with its data
 * under one folder. `npm run dev` and the end-to-end tests both start here.
 */
export async function startStack(
  opts: {
    env?: NodeJS.ProcessEnv;
    notice?: (line: string) => void;
    /**
     * Run the worker as a process of its own (`node scripts/worker.ts`, as `npm run worker` does in production)
     * instead of in this one, so the API server and the worker each have a core. Needs DATABASE_URL: an embedded
     * PGlite serves one process.
     */
    workerProcess?: boolean;
  } = {},
): Promise<RunningStack> {
  const config = loadConfig(opts.env ?? process.env);
  if (opts.workerProcess && !config.databaseUrl) throw new Error("a worker process needs DATABASE_URL: an embedded PGlite serves one process");
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
        // Tests and scripts read this notice, so it keeps its English words in every language.
        notice(
          "The embedded chain (EDR) keeps no state across restarts: clearing the previous run's database and queue under " +
            `${config.dataDir}/ so they never hold certificates the chain does not have. IPFS content is kept.`,
        );
        rmSync(join(dataDir, "db"), { recursive: true, force: true });
        rmSync(join(dataDir, "redis"), { recursive: true, force: true });
      }
    }
    const signerKeys = config.chain.signerKeys.length ? config.chain.signerKeys : [DEV_KEYS.minter];
    const deployerKey = config.chain.deployerKey ?? (chain ? DEV_KEYS.deployer : signerKeys[0]!);

    // Redis
    let redisUrl = config.redisUrl;
    let redis: EmbeddedRedis | undefined;
    if (!redisUrl) {
      redis = await startEmbeddedRedis(join(dataDir, "redis"));
      stoppers.push(() => redis!.stop());
      redisUrl = redis.url;
    }

    // What the production processes open too: database (migrated on open here), custody, IPFS, provider, senders.
    const booted = await boot({
      config,
      logger,
      dataDir,
      migrations: "apply",
      rpcUrl,
      redisUrl,
      signerKeys,
      // The operator's registry changes are signed by the admin key: ADMIN_PRIVATE_KEY, else the deployer.
      adminKey: config.chain.adminKey ?? deployerKey,
      deployerKey,
    });
    stoppers.push(() => booted.close());
    const { db, custody, ipfs, provider } = booted;
    if (chain && db.kind === "postgres") await refuseStaleDatabase(db, provider, config);

    // Demo institution
    const deployer = booted.deployer!;
    const devInfoPath = join(dataDir, "dev.json");
    const demo = await ensureDemo({ db: db.db, deployer, issuers: booted.senders.map((s) => s.address), chainId: config.chain.chainId, devInfoPath });
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
    const demoEdition = await ensureDemoEdition({ ipfs, deployer, devInfoPath, issuerRegistry, certificateRegistry: demo.contracts.CertificateRegistry });
    demo.contracts.CollectibleEditions = demoEdition.contract;

    // Worker
    let worker: RunningStack["worker"];
    let workerPid: number | undefined;
    if (opts.workerProcess) {
      const child = await startWorkerProcess({
        ...(opts.env ?? process.env),
        HALLMARK_DATA_DIR: dataDir,
        REDIS_URL: redisUrl,
        CHAIN_RPC_URL: rpcUrl,
        SIGNER_PRIVATE_KEY: signerKeys.join(","),
        DEPLOYER_PRIVATE_KEY: deployerKey,
        ADMIN_PRIVATE_KEY: config.chain.adminKey ?? deployerKey,
        ISSUER_REGISTRY_ADDRESS: issuerRegistry,
        OPS_PORT: undefined,
      });
      stoppers.push(() => child.stop());
      workerPid = child.pid;
      const queue = new Queue(OPERATIONS_QUEUE, { connection: { url: redisUrl, enableOfflineQueue: false } });
      stoppers.push(() => queue.close());
      worker = { queue, close: async () => {} };
    } else {
      const running = await startWorker(
        { config, db: db.db, ipfs, provider, senders: booted.senders, adminSender: booted.adminSender, issuerRegistry, logger, deployer, custody },
        redisUrl,
      );
      stoppers.push(() => running.close());
      worker = running;
    }

    // Outgoing mail: in development without SMTP_URL, a local sink on 127.0.0.1, shown at /dev/mail.
    let mailbox: { mailer: Mailer; devRoutes: ReturnType<typeof mailboxRoutes> } | undefined;
    if (config.env === "development" && !config.mail.smtpUrl) {
      const sink = await startMailSink();
      stoppers.push(() => sink.close());
      const mailer = smtpMailer(sink.url, config.mail.from);
      mailbox = { mailer, devRoutes: mailboxRoutes(sink) };
    }

    // Server
    const api = await serveApi({
      config,
      logger,
      booted,
      issuerRegistry,
      collectibleContracts: [demoEdition.contract],
      opsRole: "all",
      signers: booted.senders.map((s) => s.address),
      ...mailbox,
    });
    const ops = api.ops;
    stoppers.push(() => api.close());
    const port = api.port;
    const baseUrl = config.publicUrl ?? `http://${config.host}:${port}`;
    const { t } = cliTranslator(opts.env ?? process.env);
    notice(t("cli.dev.gallery", { url: `${baseUrl}${demoEdition.galleryPath}`, manifest: `${baseUrl}${demoEdition.manifestPath}` }));
    if (mailbox) notice(t("cli.dev.mail", { url: `${baseUrl}/dev/mail` }));

    const devInfo: DevInfo = { graphqlUrl: `${baseUrl}/graphql`, rpcUrl, ...demo };
    writeFileSync(devInfoPath, `${JSON.stringify(devInfo, null, 2)}\n`, { mode: 0o600 });
    const cpuUsage = async (): Promise<StackCpu> => ({
      process: seconds(process.cpuUsage()),
      mainThread: seconds(process.threadCpuUsage()),
      ...(db.threadCpuUsage ? { database: seconds(await db.threadCpuUsage()) } : {}),
      ...(chain ? { chain: seconds(await chain.cpuUsage()) } : {}),
      ...(redis ? { redis: processCpuSeconds(redis.pid) } : {}),
      ...(workerPid ? { workerProcess: processCpuSeconds(workerPid) } : {}),
    });
    const pids = { chain: chain?.pid, redis: redis?.pid, workerProcess: workerPid };
    return { config, devInfo, dataDir, db, ipfs, provider, worker, redisUrl, logger, custody, ops, cpuUsage, pids, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** How long the worker process may take to say it is ready, and to stop once asked. */
const WORKER_START_MS = 60_000;
const WORKER_STOP_MS = 30_000;

/**
 * `node scripts/worker.ts` with `env`, once it says "worker ready". Its output goes to this process's stderr; it is
 * killed if this process exits first, and `stop` asks it to shut down gracefully (SIGTERM), then kills it.
 */
async function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<{ pid: number; stop(): Promise<void> }> {
  // The worker gets this process's heap limit (`npm run worker` sets the same one; docs/performance.md#memory).
  const heapLimit = process.execArgv.filter((a) => a.startsWith("--max-old-space-size"));
  const child = spawn(process.execPath, [...heapLimit, join(projectRoot, "scripts/worker.ts")], { cwd: projectRoot, env, stdio: ["ignore", "inherit", "pipe"] });
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    process.off("exit", killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), WORKER_STOP_MS);
    await exited;
    clearTimeout(timer);
  };
  let said = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the worker process did not say it was ready within ${WORKER_START_MS} ms: ${said}`)), WORKER_START_MS);
      child.stderr!.on("data", (d: Buffer) => {
        process.stderr.write(d);
        said = (said + d.toString()).slice(-5_000);
        if (said.includes("worker ready\n")) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the worker process exited before it was ready: ${said}`));
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: child.pid!, stop };
}

/** A server database cannot be wiped for the user: refuse to run it against a fresh embedded chain. */
async function refuseStaleDatabase(db: DatabaseHandle, provider: JsonRpcProvider, config: Config): Promise<void> {
  const rows = await db.db.select().from(schema.collections);
  for (const row of rows.filter((r) => r.chainId === config.chain.chainId)) {
    if (row.contractAddress && (await provider.getCode(row.contractAddress)) === "0x") {
      throw new Error(
        `DATABASE_URL holds collections of an earlier embedded chain (contract ${row.contractAddress} no longer exists). ` +
          "The embedded chain keeps no state across restarts: point DATABASE_URL at an empty database, or set CHAIN_RPC_URL to a persistent chain.",
      );
    }
  }
}
