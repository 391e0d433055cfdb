import { join } from "node:path";
import { Wallet, type JsonRpcProvider } from "ethers";
import { createChainProvider } from "../chain/provider.ts";
import { TxSender } from "../chain/tx-sender.ts";
import type { Config } from "../config.ts";
import { openCustody, type Custody } from "../custody/custody-secret.ts";
import { prepareSealedSecrets } from "../custody/stored-secrets.ts";
import { openDatabase, type DatabaseHandle, type MigrationPolicy } from "../db/index.ts";
import { openIpfs, type IpfsStore } from "../ipfs/index.ts";
import type { Logger } from "../logger.ts";
import { checkRedis } from "../redis.ts";

export { installShutdown, type ShutdownStep } from "./shutdown.ts";

/**
 * Where the process's services are. Production reads them all from the config; the dev stack passes the
 * embedded chain's and Redis's addresses and its development keys here.
 */
export interface BootOptions {
  config: Config;
  logger: Logger;
  /** The resolved data folder (PGlite under `db/`, Helia under `ipfs/` when no server is named). */
  dataDir: string;
  migrations: MigrationPolicy;
  rpcUrl: string;
  redisUrl: string;
  /** The keys issuance transactions are signed with, one nonce sequence each. */
  signerKeys: string[];
  /** Signs the operator's registry changes. Absent: those operations end FAILED, saying the key is missing. */
  adminKey?: string;
  /** Deploys editions contracts on first use. */
  deployerKey?: string;
}

/** What the API server and the worker are built from, opened once. */
export interface Booted {
  db: DatabaseHandle;
  custody: Custody;
  ipfs: IpfsStore;
  provider: JsonRpcProvider;
  redisUrl: string;
  senders: TxSender[];
  adminSender?: TxSender;
  deployer?: Wallet;
  /** Releases everything boot opened, in reverse order; safe to call twice. */
  close(): Promise<void>;
}

/** The settings the production processes cannot run without, every problem at once. */
export function productionProblems(config: Config, role: "server" | "worker"): string[] {
  return [
    // PGlite serves one process: the server and the workers must share a PostgreSQL server.
    !config.databaseUrl && `DATABASE_URL: required for the ${role} process (a PostgreSQL server the API servers and workers share)`,
    !config.redisUrl && `REDIS_URL: required for the ${role} process`,
    !config.chain.rpcUrl && `CHAIN_RPC_URL: required for the ${role} process`,
    role === "worker" && !config.chain.signerKeys.length && "SIGNER_PRIVATE_KEY: required for the worker process (comma-separated keys)",
  ].filter(Boolean) as string[];
}

/** The boot options of a production process: every address from the config; signing keys for the worker only. */
export function productionBootOptions(config: Config, logger: Logger, dataDir: string, role: "server" | "worker"): BootOptions {
  const keys =
    role === "worker"
      ? { signerKeys: config.chain.signerKeys, adminKey: config.chain.adminKey, deployerKey: config.chain.deployerKey ?? config.chain.adminKey }
      : // The API server writes rows and never signs: it holds no key it does not need.
        { signerKeys: [] };
  return { config, logger, dataDir, migrations: "require", rpcUrl: config.chain.rpcUrl!, redisUrl: config.redisUrl!, ...keys };
}

/**
 * Opens, in order, Redis's check, the database (migrated or checked), custody and the stored secrets, IPFS, the
 * chain provider and the senders. On any failure what was opened is closed again before the error is thrown.
 */
export async function boot(opts: BootOptions): Promise<Booted> {
  const { config, logger } = opts;
  const closers: (() => Promise<void>)[] = [];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const c of closers.reverse()) await c().catch((err) => logger.warn({ err: String(err) }, "error while closing"));
  };
  try {
    await checkRedis(opts.redisUrl, { requireAof: config.env === "production" });
    // An embedded PGlite gets a thread of its own: the database's work then leaves the thread serving the API.
    const db = await openDatabase({ url: config.databaseUrl, dir: join(opts.dataDir, "db"), migrations: opts.migrations, thread: true });
    closers.push(() => db.close());
    const custody = openCustody(config);
    const unsealed = await prepareSealedSecrets(db.db, custody);
    if (unsealed.unopenable.length) logger.warn({ unopenable: unsealed.unopenable }, "stored secrets sealed under a key SEALING_KEYS no longer lists");
    const ipfs = await openIpfs({ apiUrl: config.ipfsApiUrl, dataDir: join(opts.dataDir, "ipfs") });
    closers.push(() => ipfs.close());
    const provider = createChainProvider(opts.rpcUrl, config.chain.chainId);
    closers.push(async () => provider.destroy());
    const senderFor = (key: string) =>
      new TxSender({ db: db.db, provider, wallet: new Wallet(key, provider), chainId: config.chain.chainId, logger, maxInFlight: config.chain.maxInFlightPerKey });
    const senders = opts.signerKeys.map(senderFor);
    const adminSender = opts.adminKey ? senderFor(opts.adminKey) : undefined;
    const deployer = opts.deployerKey ? new Wallet(opts.deployerKey, provider) : undefined;
    return { db, custody, ipfs, provider, redisUrl: opts.redisUrl, senders, adminSender, deployer, close };
  } catch (err) {
    await close();
    throw err;
  }
}
