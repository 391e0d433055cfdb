/**
 * `npm run deploy`: the platform operator's contracts. Deploys the operator's issuer registry (or checks the one
 * ISSUER_REGISTRY_ADDRESS names), makes sure the worker's admin key (ADMIN_PRIVATE_KEY, else the deployer) holds
 * its OPERATOR_ROLE, records it in `deployments/<chainId>.json`, and prints the platform's first operator API key
 * (once: only while the database holds none and OPERATOR_API_KEY_HASH is unset, or with --new-operator-key).
 * Institutions then onboard over GraphQL alone (registerInstitution, createCollection).
 *
 * `npm run deploy -- --institution "Example University" --slug example-university --identity did:web:example.edu
 *   --collection "Diplomas" --symbol DIPL`
 *
 * The command-line path for an institution: deploys its certificate registry on any EVM JSON-RPC endpoint (CHAIN_RPC_URL) and records it where
 * the server and worker read it: the `collections` row in the database (DATABASE_URL, or the data folder's PGlite)
 * and `deployments/<chainId>.json`. On the way it makes sure the operator's issuer registry exists
 * (ISSUER_REGISTRY_ADDRESS, or a new one whose address it prints), registers the institution there with the
 * registry bound, links the registry to it and grants ISSUER_ROLE to every SIGNER_PRIVATE_KEY. Re-running with the
 * same slug adds another collection to the same institution; an institution's first run prints an admin API key.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { eq, isNull } from "drizzle-orm";
import { Contract, Wallet } from "ethers";
import { loadArtifact } from "../core/chain/artifacts.ts";
import { deployCertificateRegistry, deployIssuerRegistry } from "../core/chain/deploy.ts";
import { contractMetadataBase } from "../core/chain/contract-creation.ts";
import { createChainProvider } from "../core/chain/provider.ts";
import { ConfigError, loadConfig } from "../core/config.ts";
import { institutionSigningKey } from "../core/credentials/institution-keys.ts";
import { openCustody } from "../core/custody/custody-secret.ts";
import { prepareSealedSecrets } from "../core/custody/stored-secrets.ts";
import { openDatabase } from "../core/db/index.ts";
import { collections, institutions, operatorKeys } from "../core/db/schema.ts";
import { createApiKey, createOperatorKey } from "../server/auth/api-keys.ts";
import { cliTranslator } from "../core/i18n/translator.ts";

/** The help, in the command line's language; the commands stay as they are typed. */
function usage(): string {
  const t = cliTranslator().t;
  return [
    t("cli.deploy.usage", { operator: "npm run deploy [-- --new-operator-key] [--out <dir>]" }),
    `       ${t("cli.deploy.usage.institution", { command: "npm run deploy -- --institution <name> --slug <slug> --collection <name> --symbol <SYM> [--identity <did|domain>] [--out <dir>]" })}`,
    "",
    t("cli.deploy.usage.environment"),
  ].join("\n");
}

const INSTITUTION_ARGS = ["institution", "slug", "collection", "symbol"] as const;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      institution: { type: "string" },
      slug: { type: "string" },
      identity: { type: "string" },
      collection: { type: "string" },
      symbol: { type: "string" },
      out: { type: "string", default: "deployments" },
      "new-operator-key": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  const given = INSTITUTION_ARGS.filter((k) => values[k]);
  if (!given.length && !values.identity) return deployOperatorContracts({ out: values.out!, newOperatorKey: values["new-operator-key"]! });
  const missing = INSTITUTION_ARGS.filter((k) => !values[k]);
  if (missing.length) throw new UsageError(`missing ${missing.map((k) => `--${k}`).join(", ")}`);
  if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(values.slug!)) throw new UsageError(i18n.t("cli.deploy.slug"));

  const { config, provider, db } = await openDeployment();
  const custody = openCustody(config);
  await prepareSealedSecrets(db.db, custody);
  try {
    const actual = Number((await provider.getNetwork()).chainId);
    if (actual !== config.chain.chainId) throw new ConfigError([`CHAIN_ID: ${config.chain.rpcUrl} serves chain ${actual}, not ${config.chain.chainId}`]);
    const deployer = new Wallet(config.chain.deployerKey!, provider);
    const signers = config.chain.signerKeys.map((k) => new Wallet(k).address);
    if (!signers.length) throw new ConfigError(["SIGNER_PRIVATE_KEY: the worker's key(s), to be granted ISSUER_ROLE"]);

    let [institution] = await db.db.select().from(institutions).where(eq(institutions.slug, values.slug!));
    let apiKey: string | undefined;
    if (!institution) {
      [institution] = await db.db.insert(institutions).values({ name: values.institution!, slug: values.slug! }).returning();
      apiKey = (await createApiKey(db.db, { institutionId: institution!.id, name: "deploy", scopes: ["read", "issue", "admin"] })).key;
    }
    const identity = values.identity ?? (await institutionSigningKey(db.db, institution!.id, custody.keyring())).did;

    let issuerRegistry = config.chain.issuerRegistry;
    if (!issuerRegistry) {
      ({ address: issuerRegistry } = await deployIssuerRegistry(deployer, { admin: deployer.address, operator: deployer.address }));
      log(`IssuerRegistry deployed at ${issuerRegistry}: set ISSUER_REGISTRY_ADDRESS=${issuerRegistry} for the server, worker and verifiers`);
    }
    const registry = await deployCertificateRegistry(deployer, {
      name: values.collection!,
      symbol: values.symbol!,
      admin: deployer.address,
      issuers: signers,
      issuerRegistry,
      contractURIBase: contractMetadataBase(config.publicUrl, config.chain.chainId),
    });
    log(i18n.t("cli.deploy.collection", { collection: values.collection!, address: registry.address, block: String(registry.blockNumber), signers: signers.join(", ") }));

    const issuers = new Contract(issuerRegistry, loadArtifact("IssuerRegistry").abi, deployer);
    const onChainId = await onChainInstitution(issuers, db.db, institution!.id);
    if (onChainId === 0n) {
      await (await issuers.getFunction("registerInstitution")(values.institution!, identity, [registry.address])).wait();
      log(i18n.t("cli.deploy.institutionRegistered", { institution: values.institution!, identity }));
    } else {
      await (await issuers.getFunction("bindAccount")(onChainId, registry.address)).wait();
      log(i18n.t("cli.deploy.registryBound", { institution: String(onChainId) }));
    }

    const [collection] = await db.db
      .insert(collections)
      .values({
        institutionId: institution!.id,
        name: values.collection!,
        symbol: values.symbol!,
        chainId: config.chain.chainId,
        contractAddress: registry.address,
        deployTxHash: registry.txHash,
        deployBlock: registry.blockNumber,
      })
      .returning();
    const record = recordDeployment(values.out!, config.chain.chainId, {
      IssuerRegistry: issuerRegistry,
      collection: { id: collection!.id, institution: values.slug!, name: values.collection!, CertificateRegistry: registry.address, block: registry.blockNumber },
    });
    log(i18n.t("cli.deploy.recordedDatabase", { collection: collection!.id, file: record }));
    process.stdout.write(`${JSON.stringify({ institutionId: institution!.id, collectionId: collection!.id, contract: registry.address, issuerRegistry, apiKey }, null, 2)}\n`);
  } finally {
    await db.close();
    provider.destroy();
  }
}

/** What both kinds of deployment need: the settings checked, the chain, and the database. */
async function openDeployment() {
  const config = loadConfig();
  const problems = [
    !config.chain.rpcUrl && "CHAIN_RPC_URL: the chain to deploy to",
    !config.chain.deployerKey && "DEPLOYER_PRIVATE_KEY: the key that deploys and administers the contracts",
  ].filter(Boolean) as string[];
  if (problems.length) throw new ConfigError(problems);
  const provider = createChainProvider(config.chain.rpcUrl!, config.chain.chainId);
  // A server database is migrated by `npm run migrate` alone (the release step); PGlite is this command's own.
  const db = await openDatabase({ url: config.databaseUrl, dir: join(resolve(config.dataDir), "db"), migrations: config.databaseUrl ? "require" : "apply" });
  return { config, provider, db };
}

/**
 * The operator's part of a deployment: the issuer registry every institution is registered in, the worker's admin
 * key as its operator, and a first operator API key. Re-running it checks the same things and changes only what is
 * missing, so it is safe in a release pipeline.
 */
async function deployOperatorContracts(opts: { out: string; newOperatorKey: boolean }): Promise<void> {
  const { config, provider, db } = await openDeployment();
  try {
    const actual = Number((await provider.getNetwork()).chainId);
    if (actual !== config.chain.chainId) throw new ConfigError([`CHAIN_ID: ${config.chain.rpcUrl} serves chain ${actual}, not ${config.chain.chainId}`]);
    const deployer = new Wallet(config.chain.deployerKey!, provider);
    const operator = new Wallet(config.chain.adminKey ?? config.chain.deployerKey!).address;
    const abi = loadArtifact("IssuerRegistry").abi;

    // A re-run that was not given the address (a release pipeline whose first run failed before it was saved, say)
    // finds the registry its first run recorded, rather than deploying a second one.
    const recorded = config.chain.issuerRegistry ? undefined : recordedIssuerRegistry(opts.out, config.chain.chainId);
    if (recorded) log(`IssuerRegistry recorded in ${join(opts.out, `${config.chain.chainId}.json`)}: ${recorded}`);
    let issuerRegistry = config.chain.issuerRegistry ?? recorded;
    const named = config.chain.issuerRegistry ? "ISSUER_REGISTRY_ADDRESS" : `the IssuerRegistry in ${join(opts.out, `${config.chain.chainId}.json`)}`;
    if (!issuerRegistry) {
      ({ address: issuerRegistry } = await deployIssuerRegistry(deployer, { admin: deployer.address, operator }));
      log(`IssuerRegistry deployed at ${issuerRegistry} (admin ${deployer.address}, operator ${operator})`);
    } else {
      if ((await provider.getCode(issuerRegistry)) === "0x") throw new ConfigError([`${named}: no contract at ${issuerRegistry} on chain ${actual}`]);
      const registry = new Contract(issuerRegistry, abi, deployer);
      const role = (await registry.getFunction("OPERATOR_ROLE")()) as string;
      if (await registry.getFunction("hasRole")(role, operator)) {
        log(`IssuerRegistry at ${issuerRegistry}: ${operator} already holds OPERATOR_ROLE`);
      } else {
        const adminRole = (await registry.getFunction("DEFAULT_ADMIN_ROLE")()) as string;
        if (!(await registry.getFunction("hasRole")(adminRole, deployer.address))) {
          throw new ConfigError([`DEPLOYER_PRIVATE_KEY: ${deployer.address} is not the admin of the issuer registry at ${issuerRegistry}, so it cannot make ${operator} its operator`]);
        }
        await (await registry.getFunction("grantRole")(role, operator)).wait();
        log(`IssuerRegistry at ${issuerRegistry}: OPERATOR_ROLE granted to ${operator}`);
      }
    }
    const record = recordDeployment(opts.out, config.chain.chainId, { IssuerRegistry: issuerRegistry });
    log(i18n.t("cli.deploy.recorded", { file: record }));

    const live = await db.db.select({ id: operatorKeys.id }).from(operatorKeys).where(isNull(operatorKeys.revokedAt));
    let operatorApiKey: string | null = null;
    if (opts.newOperatorKey || (!live.length && !config.operatorKeyHash)) {
      operatorApiKey = (await createOperatorKey(db.db, opts.newOperatorKey ? "operator" : "first operator")).key;
      log(i18n.t("cli.deploy.keyMade"));
    } else {
      log(i18n.t("cli.deploy.keyExists"));
    }
    log(i18n.t("cli.deploy.setAddress", { address: issuerRegistry, operator }));
    process.stdout.write(`${JSON.stringify({ chainId: config.chain.chainId, issuerRegistry, operator, operatorApiKey }, null, 2)}\n`);
  } finally {
    await db.close();
    provider.destroy();
  }
}

/** The institution's id in the issuer registry, found through a registry of its already bound there (0: none yet). */
async function onChainInstitution(issuers: Contract, db: Awaited<ReturnType<typeof openDatabase>>["db"], institutionId: string): Promise<bigint> {
  const known = await db.select().from(collections).where(eq(collections.institutionId, institutionId));
  for (const c of known) {
    if (!c.contractAddress) continue; // a collection whose creation is still on its way
    const id = (await issuers.getFunction("institutionOf")(c.contractAddress)) as bigint;
    if (id !== 0n) return id;
  }
  return 0n;
}

/** The issuer registry an earlier run recorded for this chain in `dir`, if any. */
function recordedIssuerRegistry(dir: string, chainId: number): string | undefined {
  const path = join(dir, `${chainId}.json`);
  if (!existsSync(path)) return undefined;
  return (JSON.parse(readFileSync(path, "utf8")) as { IssuerRegistry?: string }).IssuerRegistry;
}

function recordDeployment(dir: string, chainId: number, entry: { IssuerRegistry: string; collection?: Record<string, unknown> }): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${chainId}.json`);
  const previous = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as { collections?: unknown[] }) : {};
  const next = { chainId, IssuerRegistry: entry.IssuerRegistry, collections: [...(previous.collections ?? []), ...(entry.collection ? [entry.collection] : [])] };
  writeFileSync(path, `${JSON.stringify(next, null, 2)}\n`);
  return path;
}

/** Human messages in the command line's language; lines other programs read (addresses to set, JSON) stay English. */
const i18n = cliTranslator();

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof UsageError) process.stderr.write(`deploy: ${err.message}\n\n${usage()}\n`);
    else process.stderr.write(`deploy: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError ? 64 : 1);
  },
);
