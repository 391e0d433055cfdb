/**
 * `npm run anchor -- --csv class-of-2026.csv [--contract <anchor> | --deploy] [--out <dir>]`
 *
 * Anchored mode for very large batches: every row becomes a certificate document, the documents' digests become
 * the leaves of one Merkle tree, and one transaction puts its root on a CertificateAnchor contract. Each holder gets
 * a file (the document with its proof) that `npm run verify -- <file>`, the verify page and GraphQL `verifyDocument`
 * check against the chain. A batch is immutable once anchored, so the whole file is refused if any row is invalid.
 * Columns as for `npm run issue`: recipient (required), title, recipientName, description, validUntil, attr:<Name>.
 * With `--record <collectionId>` the batch is also recorded in the database (DATABASE_URL, or the data folder's PGlite
 * with the dev stack stopped) under that ANCHORED collection, and is then an API record like the batches anchored
 * through GraphQL; without it, the files are the only record.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Contract, Wallet } from "ethers";
import { eq } from "drizzle-orm";
import { wrapForAnchoring } from "../core/anchoring/envelope.ts";
import { openDatabase, type DatabaseHandle } from "../core/db/index.ts";
import { isId } from "../core/db/ids.ts";
import { collections, institutions } from "../core/db/schema.ts";
import { recordAnchoredBatch } from "../core/operations/anchored.ts";
import { loadArtifact } from "../core/chain/artifacts.ts";
import { deployCertificateAnchor } from "../core/chain/deploy.ts";
import { createChainProvider } from "../core/chain/provider.ts";
import { buildCertificateDocument } from "../core/metadata/certificate.ts";
import { OperationError } from "../core/operations/errors.ts";
import { requestIdFor } from "../core/operations/request-id.ts";
import { parseAddress, parseCertificateFields } from "../core/operations/validate.ts";
import { readCertificateRows } from "./certificate-rows.ts";
import { DEV_KEYS } from "./dev/chain.ts";
import { progressBar } from "./progress.ts";
import { cliTranslator } from "../core/i18n/translator.ts";
import { helpOption } from "./usage.ts";

/** The help, in the command line's language; the flags stay as they are typed. */
function usage(): string {
  const t = cliTranslator().t;
  const option = (flag: string, text: string) => helpOption(flag, text, 23);
  return [
    t("cli.anchor.usage", { synopsis: "npm run anchor -- (--csv <file> | --json <file>) (--contract <address> | --deploy) [options]" }),
    "",
    option("--out <dir>", t("cli.anchor.usage.out", { dir: "<file>.anchored/" })),
    option("--institution <name>", t("cli.anchor.usage.institution", { file: "dev.json" })),
    option("--name <text>", t("cli.anchor.usage.name")),
    option("--rpc <url>", t("cli.anchor.usage.rpc", { file: "dev.json" })),
    option("--key <hex>", t("cli.anchor.usage.key", { env: "$ANCHOR_PRIVATE_KEY" })),
    option("--data-dir <dir>", t("cli.anchor.usage.dataDir", { file: "dev.json", env: "$HALLMARK_DATA_DIR" })),
    option("--record <id>", t("cli.anchor.usage.record")),
    "",
    t("cli.anchor.usage.exit"),
  ].join("\n");
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      csv: { type: "string" },
      json: { type: "string" },
      contract: { type: "string" },
      deploy: { type: "boolean", default: false },
      out: { type: "string" },
      institution: { type: "string" },
      name: { type: "string" },
      rpc: { type: "string" },
      key: { type: "string" },
      "data-dir": { type: "string" },
      record: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const file = values.csv ?? values.json;
  if (!file) throw new UsageError(cliTranslator().t("cli.anchor.needFile", { csv: "--csv <file>", json: "--json <file>" }));
  if (values.record ? values.deploy : !values.contract === !values.deploy) {
    throw new UsageError(values.record ? cliTranslator().t("cli.anchor.recordNoDeploy") : cliTranslator().t("cli.anchor.needContract", { contract: "--contract <address>" }));
  }
  const dataDir = resolve(values["data-dir"] ?? process.env.HALLMARK_DATA_DIR ?? ".data");
  const devPath = join(dataDir, "dev.json");
  const dev = existsSync(devPath) ? (JSON.parse(readFileSync(devPath, "utf8")) as DevJson) : undefined;
  const rpcUrl = values.rpc ?? dev?.rpcUrl;
  if (!rpcUrl) throw new UsageError(cliTranslator().t("cli.verify.noChain", { option: "--rpc <url>", command: "`npm run dev`", file: ".data/dev.json" }));
  const recording = values.record ? await recordingInto(values.record, dataDir, values.contract) : undefined;
  const institution = recording?.institution ?? (values.institution ? { id: values.institution, name: values.institution } : dev ? { id: "Demo University", name: "Demo University" } : undefined);
  if (!institution) throw new UsageError(cliTranslator().t("cli.anchor.needInstitution", { option: "--institution <name>" }));
  try {
    return await anchor({ values, file, rpcUrl, dev, institution, recording });
  } finally {
    await recording?.handle.close();
  }
}

type Values = { csv?: string; json?: string; contract?: string; deploy?: boolean; out?: string; name?: string; key?: string };

/** The collection a recorded batch goes to, read before anything is anchored: an ANCHORED one, CONFIRMED. */
async function recordingInto(collectionId: string, dataDir: string, contract: string | undefined) {
  if (!isId(collectionId)) throw new UsageError(`--record ${collectionId}: a collection id (a UUID)`);
  const handle: DatabaseHandle = await openDatabase({ url: process.env.DATABASE_URL, dir: join(dataDir, "db"), migrations: "require" });
  try {
    const [row] = await handle.db
      .select({ collection: collections, institution: institutions })
      .from(collections)
      .innerJoin(institutions, eq(institutions.id, collections.institutionId))
      .where(eq(collections.id, collectionId));
    if (!row) throw new UsageError(`--record ${collectionId}: no such collection`);
    const { collection } = row;
    if (collection.kind !== "ANCHORED" || collection.status !== "CONFIRMED" || !collection.contractAddress) {
      throw new UsageError(`--record ${collectionId}: the collection must be ANCHORED and CONFIRMED (it is ${collection.kind}, ${collection.status})`);
    }
    if (contract && contract.toLowerCase() !== collection.contractAddress.toLowerCase()) {
      throw new UsageError(`--record ${collectionId}: its anchor is ${collection.contractAddress}, not ${contract}`);
    }
    return { handle, collection: { ...collection, contractAddress: collection.contractAddress }, institution: { id: row.institution.id, name: row.institution.name } };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

async function anchor(opts: {
  values: Values;
  file: string;
  rpcUrl: string;
  dev: DevJson | undefined;
  institution: { id: string; name: string };
  recording: Awaited<ReturnType<typeof recordingInto>> | undefined;
}): Promise<number> {
  const { values, file, rpcUrl, dev, institution, recording } = opts;

  // Every row checked before anything is sent: an anchored batch cannot be amended.
  const rows = readCertificateRows(readFileSync(file), values.json ? "json" : "csv");
  if (!rows.length) throw new UsageError(cliTranslator().t("cli.anchor.noRows", { file }));
  const problems: string[] = [];
  const parsed = rows.flatMap(({ line, item }) => {
    try {
      return [{ line, recipient: parseAddress(item.recipient, "recipient"), fields: parseCertificateFields(item, "Certificate") }];
    } catch (err) {
      if (!(err instanceof OperationError)) throw err;
      problems.push(`line ${line}: ${err.message}`);
      return [];
    }
  });
  if (problems.length) {
    process.stderr.write(`anchor: ${problems.length} of ${rows.length} rows are invalid; nothing was anchored\n${problems.map((p) => `  ${p}`).join("\n")}\n`);
    return 65;
  }

  const chainId = await fetchChainId(rpcUrl);
  if (chainId === undefined) throw new Error(`${rpcUrl} did not answer eth_chainId`);
  const provider = createChainProvider(rpcUrl, chainId);
  try {
    const key = values.key ?? process.env.ANCHOR_PRIVATE_KEY ?? (dev && chainId === dev.chainId ? DEV_KEYS.deployer : undefined);
    if (!key) throw new UsageError(cliTranslator().t("cli.anchor.needKey", { option: "--key <hex>", env: "ANCHOR_PRIVATE_KEY" }));
    const signer = new Wallet(key, provider);
    const collectionName = recording?.collection.name ?? values.name ?? basename(file).replace(/\.[^.]+$/, "");
    let contract = recording?.collection.contractAddress ?? values.contract;
    if (!contract) {
      ({ address: contract } = await deployCertificateAnchor(signer, { name: collectionName, admin: signer.address, issuer: signer.address }));
      process.stderr.write(`${cliTranslator().t("cli.anchor.deployed", { contract })}\n`);
      await bindInDevIssuerRegistry(signer, contract, dev);
    }

    const building = progressBar(cliTranslator().t("cli.progress.documents"), parsed.length);
    const issuedAt = new Date();
    const collection = { id: recording?.collection.id ?? contract.toLowerCase(), name: collectionName, chainId, contractAddress: contract };
    if (recording && recording.collection.chainId !== chainId) throw new UsageError(`--record: the collection is on chain ${recording.collection.chainId}, ${rpcUrl} is chain ${chainId}`);
    const documents = parsed.map(({ recipient, fields }, i) => {
      const id = randomUUID();
      if (i % 1000 === 0) building.update(i);
      return buildCertificateDocument(fields, {
        issuanceId: id,
        requestId: requestIdFor(id),
        issuedAt,
        recipient,
        institution,
        collection,
      }).document;
    });
    building.update(parsed.length);
    building.done();
    const { root, certificates } = wrapForAnchoring(documents, { chainId, contract });

    const anchor = new Contract(contract, loadArtifact("CertificateAnchor").abi, signer);
    process.stderr.write(`${cliTranslator().t("cli.anchor.anchoring", { root, count: certificates.length })}\n`);
    const receipt = await (await anchor.getFunction("issue")(root)).wait();

    const out = values.out ?? `${file}.anchored`;
    mkdirSync(out, { recursive: true });
    const width = String(rows.length + 1).length;
    certificates.forEach((c, i) => writeFileSync(join(out, `${String(parsed[i]!.line).padStart(width, "0")}.json`), `${JSON.stringify(c, null, 2)}\n`));
    const batch = { chainId, contract, root, count: certificates.length, txHash: receipt.hash, blockNumber: receipt.blockNumber };
    writeFileSync(join(out, "batch.json"), `${JSON.stringify(batch, null, 2)}\n`);
    process.stdout.write(`anchored ${certificates.length} certificates under root ${root} in block ${receipt.blockNumber} (tx ${receipt.hash}, ${receipt.gasUsed} gas); files in ${out}/\n`);
    if (recording) {
      const recorded = await recordAnchoredBatch(recording.handle.db, {
        institutionId: institution.id,
        collectionId: recording.collection.id,
        root,
        txHash: receipt.hash,
        blockNumber: receipt.blockNumber,
        certificates,
      });
      process.stdout.write(`${cliTranslator().t("cli.anchor.recorded", { id: recorded.id })}\n`);
    }
    return 0;
  } finally {
    provider.destroy();
  }
}

interface DevJson {
  rpcUrl?: string;
  chainId?: number;
  contracts?: { CertificateRegistry?: string; IssuerRegistry?: string };
}

/**
 * In development the deployer key is also the issuer registry's operator: it binds the new anchor to the demo
 * institution, so the verifier's issuer check passes as it would once a real operator registered it.
 */
async function bindInDevIssuerRegistry(signer: Wallet, anchor: string, dev: DevJson | undefined): Promise<void> {
  const registryAddress = dev?.contracts?.IssuerRegistry;
  const certificates = dev?.contracts?.CertificateRegistry;
  if (!registryAddress || !certificates) return;
  const issuers = new Contract(registryAddress, loadArtifact("IssuerRegistry").abi, signer);
  if (!(await issuers.getFunction("hasRole")(await issuers.getFunction("OPERATOR_ROLE")(), signer.address))) return;
  const institutionId = (await issuers.getFunction("institutionOf")(certificates)) as bigint;
  if (institutionId === 0n) return;
  await (await issuers.getFunction("bindAccount")(institutionId, anchor)).wait();
  process.stderr.write(`${cliTranslator().t("cli.anchor.bound", { institution: institutionId.toString(), registry: registryAddress })}\n`);
}

async function fetchChainId(rpcUrl: string): Promise<number | undefined> {
  try {
    const res = await fetch(rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }) });
    return Number(((await res.json()) as { result: string }).result);
  } catch {
    return undefined;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`anchor: ${err.message}\n\n${usage()}\n`);
      process.exit(64);
    }
    process.stderr.write(`anchor: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
