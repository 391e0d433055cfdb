import { join, resolve } from "node:path";
import { createChainProvider } from "../core/chain/provider.ts";
import { ConfigError, loadConfig } from "../core/config.ts";
import { openDatabase } from "../core/db/index.ts";
import { reconcile } from "../core/reconcile.ts";
import { cliTranslator } from "../core/i18n/translator.ts";

/**
 * `npm run audit`: compares the database with the chain and prints every mismatch; exits 1 when there is one.
 * Reads DATABASE_URL and CHAIN_RPC_URL, or the dev stack's `.data/` (PGlite, so the dev stack must be stopped).
 */
try {
  const config = loadConfig();
  let rpcUrl = config.chain.rpcUrl;
  if (!rpcUrl) {
    const { readFileSync } = await import("node:fs");
    rpcUrl = JSON.parse(readFileSync(join(resolve(config.dataDir), "dev.json"), "utf8")).rpcUrl as string;
  }
  const db = await openDatabase({ url: config.databaseUrl, dir: join(resolve(config.dataDir), "db") });
  const provider = createChainProvider(rpcUrl, config.chain.chainId);
  const report = await reconcile(db.db, provider, config.chain.chainId);
  for (const m of report.mismatches) {
    console.log(`mismatch ${m.kind} collection=${m.collectionId} ${m.issuanceId ? `issuance=${m.issuanceId} ` : ""}${m.editionId ? `edition=${m.editionId} ` : ""}${m.detail}`);
  }
  console.log(
    `audit: requested ${report.requested}, on-chain ${report.onChain}, duplicates ${report.duplicates}, stuck ${report.stuck}, mismatches ${report.mismatches.length}`,
  );
  provider.destroy();
  await db.close();
  process.exit(report.mismatches.length || report.duplicates ? 1 : 0);
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : cliTranslator().t("cli.audit.failed", { error: (err as Error).message })}\n`);
  process.exit(2);
}
