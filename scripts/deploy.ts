/**
 * `npm run deploy -- --institution "Example University" --slug example-university --identity did:web:example.edu
 *   --collection "Diplomas" --symbol DIPL`
 *
 * Deploys an institution's certificate registry on any EVM JSON-RPC endpoint (CHAIN_RPC_URL) and records it where
 * the server and worker read it: the `collections` row in the database (DATABASE_URL, or the data folder's PGlite)
 * and `deployments/<chainId>.json`. On the way it makes sure the operator's issuer registry exists
 * (ISSUER_REGISTRY_ADDRESS, or a new one whose address it prints), registers the institution there with the
 * registry bound, links the registry to it and grants ISSUER_ROLE to every SIGNER_PRIVATE_KEY. Re-running with the
 * same slug adds another collection to the same institution; an institution's first run prints an admin API key.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { eq } from "drizzle-orm";
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
import { collections, institutions } from "../core/db/schema.ts";
import { createApiKey } from "../server/auth/api-keys.ts";

const USAGE = `usage: npm run deploy -- --institution <name> --slug <slug> --collection <name> --symbol <SYM> [--identity <did|domain>] [--out <dir>]

environment: CHAIN_RPC_URL, CHAIN_ID, DEPLOYER_PRIVATE_KEY (admin of what it deploys), SIGNER_PRIVATE_KEY (the
worker's keys, granted ISSUER_ROLE), ISSUER_REGISTRY_ADDRESS (optional), DATABASE_URL or HALLMARK_DATA_DIR`;

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
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const missing = (["institution", "slug", "collection", "symbol"] as const).filter((k) => !values[k]);
  if (missing.length) throw new UsageError(`missing ${missing.map((k) => `--${k}`).join(", ")}`);
  if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(values.slug!)) throw new UsageError("--slug: lowercase letters, digits and dashes");

  const config = loadConfig();
  const problems = [
    !config.chain.rpcUrl && "CHAIN_RPC_URL: the chain to deploy to",
    !config.chain.deployerKey && "DEPLOYER_PRIVATE_KEY: the key that deploys and administers the contracts",
  ].filter(Boolean) as string[];
  if (problems.length) throw new ConfigError(problems);

  const provider = createChainProvider(config.chain.rpcUrl!, config.chain.chainId);
  const db = await openDatabase({ url: config.databaseUrl, dir: join(resolve(config.dataDir), "db") });
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
      contractURIBase: contractMetadataBase(config.publicUrl, config.chain.chainId),
    });
    log(`CertificateRegistry "${values.collection}" deployed at ${registry.address} (block ${registry.blockNumber}); ISSUER_ROLE: ${signers.join(", ")}`);

    const issuers = new Contract(issuerRegistry, loadArtifact("IssuerRegistry").abi, deployer);
    const onChainId = await onChainInstitution(issuers, db.db, institution!.id);
    if (onChainId === 0n) {
      await (await issuers.getFunction("registerInstitution")(values.institution!, identity, [registry.address])).wait();
      log(`institution "${values.institution}" (${identity}) registered in the issuer registry with the registry bound`);
    } else {
      await (await issuers.getFunction("bindAccount")(onChainId, registry.address)).wait();
      log(`registry bound to institution ${onChainId} in the issuer registry`);
    }
    const certificates = new Contract(registry.address, loadArtifact("CertificateRegistry").abi, deployer);
    await (await certificates.getFunction("setIssuerRegistry")(issuerRegistry)).wait();

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
    log(`recorded in the database (collection ${collection!.id}) and in ${record}`);
    process.stdout.write(`${JSON.stringify({ institutionId: institution!.id, collectionId: collection!.id, contract: registry.address, issuerRegistry, apiKey }, null, 2)}\n`);
  } finally {
    await db.close();
    provider.destroy();
  }
}

/** The institution's id in the issuer registry, found through a registry of its already bound there (0: none yet). */
async function onChainInstitution(issuers: Contract, db: Awaited<ReturnType<typeof openDatabase>>["db"], institutionId: string): Promise<bigint> {
  const known = await db.select().from(collections).where(eq(collections.institutionId, institutionId));
  for (const c of known) {
    const id = (await issuers.getFunction("institutionOf")(c.contractAddress)) as bigint;
    if (id !== 0n) return id;
  }
  return 0n;
}

function recordDeployment(dir: string, chainId: number, entry: { IssuerRegistry: string; collection: Record<string, unknown> }): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${chainId}.json`);
  const previous = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as { collections?: unknown[] }) : {};
  const next = { chainId, IssuerRegistry: entry.IssuerRegistry, collections: [...(previous.collections ?? []), entry.collection] };
  writeFileSync(path, `${JSON.stringify(next, null, 2)}\n`);
  return path;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof UsageError) process.stderr.write(`deploy: ${err.message}\n\n${USAGE}\n`);
    else process.stderr.write(`deploy: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError ? 64 : 1);
  },
);
