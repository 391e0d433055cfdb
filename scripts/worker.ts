import { join, resolve } from "node:path";
import { Wallet } from "ethers";
import { createChainProvider } from "../core/chain/provider.ts";
import { TxSender } from "../core/chain/tx-sender.ts";
import { ConfigError, loadConfig } from "../core/config.ts";
import { openCustody } from "../core/custody/custody-secret.ts";
import { prepareSealedSecrets } from "../core/custody/stored-secrets.ts";
import { openDatabase } from "../core/db/index.ts";
import { openIpfs } from "../core/ipfs/index.ts";
import { createLogger } from "../core/logger.ts";
import { checkRedis } from "../core/redis.ts";
import { startOps } from "../server/ops/start-ops.ts";
import { startWorker } from "../worker/index.ts";

/**
 * `npm run worker`: one worker process against external services (REDIS_URL, CHAIN_RPC_URL, DATABASE_URL or
 * the data folder's PGlite, IPFS_API_URL or the data folder's Helia). Run several for more throughput, each
 * with its own SIGNER_PRIVATE_KEY list.
 */
try {
  const config = loadConfig();
  const problems = [
    !config.redisUrl && "REDIS_URL: required for a worker process",
    !config.chain.rpcUrl && "CHAIN_RPC_URL: required for a worker process",
  ].filter(Boolean) as string[];
  if (problems.length) throw new ConfigError(problems);
  const logger = createLogger(config.logLevel, { role: "worker" });
  const dataDir = resolve(config.dataDir);
  await checkRedis(config.redisUrl!, { requireAof: config.env === "production" });
  const db = await openDatabase({ url: config.databaseUrl, dir: join(dataDir, "db") });
  const custody = openCustody(config);
  const unsealed = await prepareSealedSecrets(db.db, custody);
  if (unsealed.unopenable.length) logger.warn({ unopenable: unsealed.unopenable }, "stored secrets sealed under a key SEALING_KEYS no longer lists");
  const ipfs = await openIpfs({ apiUrl: config.ipfsApiUrl, dataDir: join(dataDir, "ipfs") });
  const provider = createChainProvider(config.chain.rpcUrl!, config.chain.chainId);
  const senders = config.chain.signerKeys.map(
    (key) =>
      new TxSender({ db: db.db, provider, wallet: new Wallet(key, provider), chainId: config.chain.chainId, logger, maxInFlight: config.chain.maxInFlightPerKey }),
  );
  const adminSender = config.chain.adminKey
    ? new TxSender({ db: db.db, provider, wallet: new Wallet(config.chain.adminKey, provider), chainId: config.chain.chainId, logger, maxInFlight: config.chain.maxInFlightPerKey })
    : undefined;
  // Editions contracts are deployed on first use by the deployer key (else the admin key).
  const deployerKey = config.chain.deployerKey ?? config.chain.adminKey;
  const deployer = deployerKey ? new Wallet(deployerKey, provider) : undefined;
  const worker = await startWorker({ config, db: db.db, ipfs, provider, senders, adminSender, logger, deployer, custody }, config.redisUrl!);
  const ops = await startOps({ config, role: "worker", db: db.db, redisUrl: config.redisUrl!, provider, ipfs, logger, signers: senders.map((s) => s.address) });
  logger.info({ signers: senders.map((s) => s.address) }, "worker started");
  process.stderr.write("worker ready\n");
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await ops.close();
    await worker.close();
    await ipfs.close();
    await db.close();
    provider.destroy();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `worker could not start: ${(err as Error).message}`}\n`);
  process.exit(1);
}
