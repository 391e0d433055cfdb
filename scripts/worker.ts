import { resolve } from "node:path";
import { boot, installShutdown, productionBootOptions, productionProblems } from "../core/boot/index.ts";
import { ConfigError, loadConfig } from "../core/config.ts";
import { createLogger } from "../core/logger.ts";
import { startOps } from "../server/ops/start-ops.ts";
import { startWorker } from "../worker/index.ts";
import { cliTranslator } from "../core/i18n/translator.ts";

/**
 * `npm run worker`: one worker process against external services (REDIS_URL, CHAIN_RPC_URL, DATABASE_URL,
 * IPFS_API_URL or the data folder's Helia). Run several for more throughput, each
 * with its own SIGNER_PRIVATE_KEY list. It refuses a database `npm run migrate` has not brought up to date.
 */
try {
  const config = loadConfig();
  const problems = productionProblems(config, "worker");
  if (problems.length) throw new ConfigError(problems);
  const logger = createLogger(config.logLevel, { role: "worker" });
  const booted = await boot(productionBootOptions(config, logger, resolve(config.dataDir), "worker"));
  let worker;
  try {
    worker = await startWorker(
      {
        config,
        db: booted.db.db,
        ipfs: booted.ipfs,
        provider: booted.provider,
        senders: booted.senders,
        adminSender: booted.adminSender,
        logger,
        // Editions contracts are deployed on first use by the deployer key (else the admin key).
        deployer: booted.deployer,
        custody: booted.custody,
      },
      booted.redisUrl,
    );
  } catch (err) {
    await booted.close();
    throw err;
  }
  const running = worker;
  // Health, readiness and metrics on a port of their own (OPS_PORT); nothing when it is unset.
  const ops = await startOps({ config, role: "worker", db: booted.db.db, redisUrl: booted.redisUrl, provider: booted.provider, ipfs: booted.ipfs, logger, signers: booted.senders.map((s) => s.address), keys: booted.senders });
  installShutdown({
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    steps: [
      { name: "ops listener", run: () => ops.close() },
      // Stops the relay and the pollers and waits for the jobs it is running; jobs not started stay queued for another worker.
      { name: "running jobs", run: () => running.close() },
      { name: "database, IPFS and chain connections", run: () => booted.close() },
    ],
  });
  logger.info({ signers: booted.senders.map((s) => s.address) }, "worker started");
  // Process managers and tests wait for this line: the same words in every language.
  process.stderr.write("worker ready\n");
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : cliTranslator().t("cli.worker.failed", { error: (err as Error).message })}\n`);
  process.exit(1);
}
