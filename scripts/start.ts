import cluster from "node:cluster";
import { resolve } from "node:path";
import { Wallet } from "ethers";
import { boot, installShutdown, productionBootOptions, productionProblems } from "../core/boot/index.ts";
import { ConfigError, loadConfig } from "../core/config.ts";
import { createLogger } from "../core/logger.ts";
import { serveApi } from "../server/serve-api.ts";
import { cliTranslator } from "../core/i18n/translator.ts";
import { opsPortOf, parseWebConcurrency, superviseServers, type ReadyMessage } from "../server/web-concurrency.ts";

/**
 * `npm start`: the API server alone, against external services (DATABASE_URL, REDIS_URL, CHAIN_RPC_URL,
 * IPFS_API_URL); the worker runs as its own process (`npm run worker`). No demo data, no embedded services, and
 * no migrations: it refuses a database `npm run migrate` has not brought up to date. With WEB_CONCURRENCY above 1
 * this process only supervises that many server processes sharing the port (server/web-concurrency.ts).
 */
try {
  const config = loadConfig();
  const problems = productionProblems(config, "server");
  const processes = parseWebConcurrency(process.env.WEB_CONCURRENCY);
  if (processes === undefined) problems.push("WEB_CONCURRENCY: the number of server processes, a whole number from 1 to 64");
  const opsPort = config.ops.port;
  if (processes && processes > 1 && opsPort !== undefined && cluster.isPrimary) {
    // Under node:cluster every `listen(0)` of the processes shares one port, the public one included.
    if (opsPort === 0) problems.push("OPS_PORT: a fixed port when WEB_CONCURRENCY is above 1 (server process i listens on OPS_PORT + i)");
    else if (opsPort + processes - 1 > 65535) problems.push(`OPS_PORT: OPS_PORT + WEB_CONCURRENCY - 1 must be a port (at most 65535)`);
  }
  if (problems.length) throw new ConfigError(problems);
  const logger = createLogger(config.logLevel, { role: "server" });
  if (cluster.isPrimary && processes! > 1) {
    superviseServers({
      count: processes!,
      logger,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      envOf: (i): Record<string, string> => (opsPort === undefined ? {} : { OPS_PORT: String(opsPortOf(opsPort, i)) }),
      onReady: (port) => {
        logger.info({ port, processes }, "server started");
        process.stderr.write(`server ready on port ${port}\n`);
      },
    });
  } else {
    await serve(config, logger);
  }
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : cliTranslator().t("cli.start.failed", { error: (err as Error).message })}\n`);
  process.exit(1);
}

/** One server process: boots, serves, and shuts down gracefully on SIGTERM or SIGINT. */
async function serve(config: ReturnType<typeof loadConfig>, logger: ReturnType<typeof createLogger>): Promise<void> {
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
  if (cluster.isWorker) {
    // The primary says the server is ready once every process is.
    process.send!({ hallmark: "server-ready", port: serving.port } satisfies ReadyMessage);
    return;
  }
  logger.info({ port: serving.port }, "server started");
  // Process managers and tests wait for this line: the same words in every language.
  process.stderr.write(`server ready on port ${serving.port}\n`);
}
