import { resolve } from "node:path";
import { Wallet } from "ethers";
import { boot, installShutdown, productionBootOptions, productionProblems } from "../core/boot/index.ts";
import { ConfigError, loadConfig } from "../core/config.ts";
import { createLogger } from "../core/logger.ts";
import { serveApi } from "../server/serve-api.ts";
import { cliTranslator } from "../core/i18n/translator.ts";

/**
 * `npm start`: the API server alone, against external services (DATABASE_URL, REDIS_URL, CHAIN_RPC_URL,
 * IPFS_API_URL); the worker runs as its own process (`npm run worker`). No demo data, no embedded services, and
 * no migrations: it refuses a database `npm run migrate` has not brought up to date.
 */
try {
  const config = loadConfig();
  const problems = productionProblems(config, "server");
  if (problems.length) throw new ConfigError(problems);
  const logger = createLogger(config.logLevel, { role: "server" });
  const booted = await boot(productionBootOptions(config, logger, resolve(config.dataDir), "server"));
  let api;
  try {
    api = await serveApi({
      config,
      logger,
      booted,
      issuerRegistry: config.chain.issuerRegistry,
      collectibleContracts: config.chain.collectibleContracts,
      opsRole: "api",
      // The server signs nothing; the workers' keys are the ones whose transactions in flight it reports.
      signers: config.chain.signerKeys.map((key) => new Wallet(key).address),
    });
  } catch (err) {
    await booted.close();
    throw err;
  }
  const serving = api;
  installShutdown({
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    steps: [
      { name: "HTTP requests in flight", run: () => serving.stopAccepting() },
      { name: "server connections", run: () => serving.close() },
      { name: "database, IPFS and chain connections", run: () => booted.close() },
    ],
  });
  logger.info({ port: serving.port }, "server started");
  // Process managers and tests wait for this line: the same words in every language.
  process.stderr.write(`server ready on port ${serving.port}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : cliTranslator().t("cli.start.failed", { error: (err as Error).message })}\n`);
  process.exit(1);
}
