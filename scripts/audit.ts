import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { verifyAuditLog, chainAnchorReader } from "../core/audit/verify-log.ts";
import { createChainProvider } from "../core/chain/provider.ts";
import { ConfigError, loadConfig } from "../core/config.ts";
import { openDatabase } from "../core/db/index.ts";
import { reconcile } from "../core/reconcile.ts";
import { cliTranslator } from "../core/i18n/translator.ts";

/**
 * `npm run audit`: compares the database with the chain and prints every mismatch; exits 1 when there is one.
 * Reads DATABASE_URL and CHAIN_RPC_URL, or the dev stack's `.data/` (PGlite, so the dev stack must be stopped).
 *
 * `npm run audit -- --verify-log <file> [--rpc <url>] [--registry <address>]`: checks an exported audit log (JSON
 * Lines) without the database: each event's hash, the chain of hashes, and each anchored range's Merkle root against
 * the issuer registry's `AuditLogAnchored` events. Prints a verdict; exits 1 naming the first bad event, 2 when it
 * cannot check (no file, no chain).
 */
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function devInfo(dataDir: string): { rpcUrl?: string; contracts?: { IssuerRegistry?: string } } {
  try {
    return JSON.parse(readFileSync(join(resolve(dataDir), "dev.json"), "utf8"));
  } catch {
    return {};
  }
}

/** A mistake in how the command was called: said as it is, exit 2. */
class UsageError extends Error {}

/** Human sentences in the command line's language; the `audit: …` summary and the verdict lines stay English for scripts. */
const { t } = cliTranslator();

/**
 * `--verify-log` needs no database and no signing key, so it reads only what it uses, from flags, then the
 * environment, then the dev stack's `.data/dev.json`: an auditor runs it with a node's URL and the registry address.
 */
async function verifyLog(file: string): Promise<never> {
  const dev = devInfo(process.env.HALLMARK_DATA_DIR ?? ".data");
  const rpcUrl = arg("--rpc") ?? process.env.CHAIN_RPC_URL ?? dev.rpcUrl;
  const registry = arg("--registry") ?? process.env.ISSUER_REGISTRY_ADDRESS ?? dev.contracts?.IssuerRegistry;
  if (!rpcUrl) throw new UsageError(`audit: ${t("cli.audit.needRpc", { option: "--rpc", env: "CHAIN_RPC_URL" })}`);
  if (!registry) throw new UsageError(`audit: ${t("cli.audit.needRegistry", { option: "--registry", env: "ISSUER_REGISTRY_ADDRESS" })}`);
  const provider = createChainProvider(rpcUrl, Number(process.env.CHAIN_ID ?? 31337));
  try {
    const verdict = await verifyAuditLog(readFileSync(file, "utf8"), { registry, readAnchors: chainAnchorReader(provider) });
    if (verdict.ok) {
      console.log(
        `audit log OK: ${verdict.events} events of institution ${verdict.institutionId}, hashes and chain links intact; ` +
          `${verdict.anchored} events under ${verdict.anchors} root(s) anchored on chain at ${registry}` +
          (verdict.unanchored ? `; the last ${verdict.unanchored} not anchored yet` : ""),
      );
      process.exit(0);
    }
    const p = verdict.problem!;
    console.log(`audit log FAILED at line ${p.line}${p.seq != null ? ` (event ${p.seq})` : ""}: ${p.message}`);
    console.log(t("cli.audit.checkedBefore", { events: verdict.events }));
    process.exit(1);
  } finally {
    provider.destroy();
  }
}

try {
  if (process.argv.includes("--verify-log")) {
    const file = arg("--verify-log");
    if (!file) throw new UsageError(t("cli.audit.usage", { synopsis: "npm run audit -- --verify-log <file> [--rpc <url>] [--registry <address>]" }));
    await verifyLog(file);
  }
  const config = loadConfig();
  const rpcUrl = config.chain.rpcUrl ?? devInfo(config.dataDir).rpcUrl;
  if (!rpcUrl) throw new UsageError(`audit: ${t("cli.audit.needChain", { env: "CHAIN_RPC_URL", file: ".data/dev.json" })}`);
  const provider = createChainProvider(rpcUrl, config.chain.chainId);
  const db = await openDatabase({ url: config.databaseUrl, dir: join(resolve(config.dataDir), "db") });
  const report = await reconcile(db.db, provider, config.chain.chainId);
  for (const m of report.mismatches) {
    // One mismatch a line, as key=value for scripts; the detail is core's English.
    console.log(`mismatch ${m.kind} collection=${m.collectionId} ${m.issuanceId ? `issuance=${m.issuanceId} ` : ""}${m.editionId ? `edition=${m.editionId} ` : ""}${m.detail}`);
  }
  console.log(
    `audit: requested ${report.requested}, on-chain ${report.onChain}, duplicates ${report.duplicates}, stuck ${report.stuck}, mismatches ${report.mismatches.length}`,
  );
  provider.destroy();
  await db.close();
  process.exit(report.mismatches.length || report.duplicates ? 1 : 0);
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError || err instanceof UsageError ? err.message : t("cli.audit.failed", { error: (err as Error).message })}\n`);
  process.exit(2);
}
