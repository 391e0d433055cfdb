/**
 * `npm run verify -- <certificate id | chainId:contract:tokenId | file.json> [options]`
 *
 * Runs Hallmark's checks from this machine: every fact is read from the chain over JSON-RPC and every document is
 * hashed here. The Hallmark server is asked at most where a certificate id lives on chain and for the document bytes
 * (through its IPFS gateway), neither of which is believed without those checks. Exits 0 only for VALID.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { JsonRpcProvider, type Provider } from "ethers";
import { createChainProvider } from "../core/chain/provider.ts";
import { pickLanguage } from "../core/i18n/language-map.ts";
import { checkReason } from "../core/i18n/check-reasons.ts";
import { cliTranslator } from "../core/i18n/translator.ts";
import { helpOption } from "./usage.ts";
import { isDisclosure, type Disclosure } from "../core/metadata/personal-data.ts";
import { dnsTxtLookup, liveIdentityProofs } from "../core/identity/domain-proof.ts";
import {
  DocumentFormatError,
  gatewaySource,
  onChainIssuerRegistry,
  parseExplicitReference,
  verifyCertificate,
  type ChainReference,
  type VerificationResult,
  type VerifierDeps,
} from "../core/verification/index.ts";

/** The help, in the command line's language; the flags and their arguments are what is typed, so stay as they are. */
function usage(): string {
  const t = cliTranslator().t;
  const option = (flag: string, text: string) => helpOption(flag, text);
  return [
    t("cli.verify.usage", { synopsis: "npm run verify -- <certificate id | chainId:contract:tokenId | file.json> [options]" }),
    "",
    option("--offline", t("cli.verify.usage.offline")),
    option("--rpc <url>", t("cli.verify.usage.rpc", { file: "<data dir>/dev.json" })),
    option("--graphql <url>", t("cli.verify.usage.graphql", { file: "dev.json" })),
    option("--gateway <url>", t("cli.verify.usage.gateway")),
    option("--issuer-registry <address>", t("cli.verify.usage.issuerRegistry", { env: "$ISSUER_REGISTRY_ADDRESS", file: "dev.json" })),
    option("--dns <servers>", t("cli.verify.usage.dns", { format: "host[:port]", env: "$DNS_SERVERS" })),
    option("--disclosures <file.json>", t("cli.verify.usage.disclosures", { format: "[{ path, salt, value }]" })),
    option("--json", t("cli.verify.usage.json")),
    option("--data-dir <dir>", t("cli.verify.usage.dataDir", { file: "dev.json", env: "$HALLMARK_DATA_DIR" })),
    "",
    t("cli.verify.usage.exit"),
  ].join("\n");
}

const EXIT = { VALID: 0, INVALID: 1, UNKNOWN: 2, usage: 64, notFound: 66 } as const;

class UsageError extends Error {}
class NotFoundError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      offline: { type: "boolean", default: false },
      rpc: { type: "string" },
      graphql: { type: "string" },
      gateway: { type: "string" },
      "issuer-registry": { type: "string" },
      dns: { type: "string" },
      json: { type: "boolean", default: false },
      disclosures: { type: "string" },
      "data-dir": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(cliTranslator().t("cli.verify.oneTarget"));
  const target = positionals[0]!;
  const dev = readDevInfo(values["data-dir"] ?? process.env.HALLMARK_DATA_DIR ?? ".data");
  const rpcUrl = values.rpc ?? dev.rpcUrl;
  const graphqlUrl = values.graphql ?? dev.graphqlUrl;
  const gatewayUrl = values.gateway ?? graphqlUrl?.replace(/\/graphql\/?$/, "");

  const providers = new Map<number, Provider>();
  const deps: VerifierDeps = {
    offline: values.offline,
    chains: (chainId) => {
      if (!rpcUrl || values.offline) return undefined;
      let provider = providers.get(chainId);
      if (!provider) providers.set(chainId, (provider = createChainProvider(rpcUrl, chainId)));
      return provider;
    },
    documents: gatewayUrl && !values.offline ? gatewaySource(gatewayUrl) : undefined,
    credentials: await loadCredentialVerifier(graphqlUrl),
  };
  const issuerRegistry = values["issuer-registry"] ?? process.env.ISSUER_REGISTRY_ADDRESS ?? dev.contracts?.IssuerRegistry;
  if (issuerRegistry && !values.offline) {
    // dev.json's chain id holds only for dev.json's endpoint.
    deps.issuers = onChainIssuerRegistry(deps.chains, { chainId: values.rpc ? undefined : dev.chainId, address: issuerRegistry });
    // The issuer's domain proof is asked of DNS here and now, not taken from anyone's record of it.
    const servers = (values.dns ?? process.env.DNS_SERVERS)?.split(",").map((s) => s.trim()).filter(Boolean);
    deps.identityProofs = liveIdentityProofs(dnsTxtLookup({ servers }));
  }
  try {
    if (!values.offline && rpcUrl) await refuseWrongChain(rpcUrl, dev.chainId);
    const disclosures = values.disclosures ? readDisclosures(values.disclosures) : undefined;
    let result: VerificationResult;
    if (isFile(target)) {
      result = await verifyCertificate({ document: new Uint8Array(readFileSync(target)), disclosures }, deps);
    } else {
      if (values.offline) throw new UsageError(cliTranslator().t("cli.verify.offlineNeedsFile"));
      if (!rpcUrl) throw new UsageError(cliTranslator().t("cli.verify.noChain", { option: "--rpc <url>", command: "`npm run dev`", file: ".data/dev.json" }));
      const reference = parseExplicitReference(target) ?? (await lookUp(target, graphqlUrl));
      result = await verifyCertificate({ reference, disclosures }, deps);
    }
    process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : describe(result));
    return EXIT[result.verdict];
  } finally {
    for (const p of providers.values()) p.destroy();
  }
}

/** Asks the Hallmark server where an id lives on chain; the rest of its answer is ignored and checked afresh here. */
async function lookUp(id: string, graphqlUrl: string | undefined): Promise<ChainReference> {
  if (!graphqlUrl) throw new UsageError(cliTranslator().t("cli.verify.noApi", { option: "--graphql <url>" }));
  const res = await fetch(graphqlUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "query($id: ID!) { verify(id: $id) { chain { chainId contract tokenId } } }", variables: { id } }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { data?: { verify?: { chain?: { chainId: number; contract: string; tokenId: string | null } } }; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.some((e) => e.extensions?.code === "NOT_FOUND")) throw new NotFoundError(`no certificate "${id}"`);
  const chain = body.data?.verify?.chain;
  if (!chain?.tokenId) throw new Error(`${graphqlUrl} did not say where "${id}" is: ${body.errors?.[0]?.message ?? res.status}`);
  return { chainId: chain.chainId, contract: chain.contract, tokenId: BigInt(chain.tokenId) };
}

/** A node of another chain answers calls too, with another chain's facts: stop before reading them. */
async function refuseWrongChain(rpcUrl: string, expected: number | undefined): Promise<void> {
  if (expected === undefined) return;
  const probe = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
  try {
    const actual = Number(await probe.send("eth_chainId", []));
    if (actual !== expected) throw new UsageError(cliTranslator().t("cli.verify.wrongChain", { url: rpcUrl, actual: String(actual), expected: String(expected) }));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // Unreachable: the checks report it themselves, as UNKNOWN.
  } finally {
    probe.destroy();
  }
}

function readDisclosures(path: string): Disclosure[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new UsageError(`--disclosures ${path}: ${(err as Error).message}`);
  }
  if (!Array.isArray(json) || !json.every(isDisclosure)) throw new UsageError(cliTranslator().t("cli.verify.badDisclosures", { file: path, format: "{ path, salt, value }" }));
  return json;
}

const RECIPIENT_WORDS = {
  PUBLIC: (name?: string) => `recipient: ${name}`,
  MATCHES: (name?: string) => `recipient: ${name} (matches the certificate)`,
  DOES_NOT_MATCH: () => "recipient: the name given does not match the certificate",
  NOT_DISCLOSED: () => "recipient: not disclosed",
} as const;

/**
 * The result for a person. The check lines, the recipient line and the verdict line are what scripts and tests read:
 * they stay English in every language. Around them, the title, issuer and chain lines are in the command line's
 * language, and a reader of another language also gets each check and the verdict explained in theirs.
 */
function describe(r: VerificationResult): string {
  const i18n = cliTranslator();
  const mark = { valid: "✓", invalid: "✗", skipped: "–" } as const;
  const status = r.certificate.recipientNameStatus;
  const chain = r.chain;
  const chainLine = !chain
    ? ""
    : !chain.tokenId
      ? i18n.t("cli.verify.onChain", { chainId: String(chain.chainId), contract: chain.contract })
      : !chain.owner
        ? i18n.t("cli.verify.onChainToken", { chainId: String(chain.chainId), contract: chain.contract, tokenId: chain.tokenId })
        : i18n.t("cli.verify.onChainHeld", { chainId: String(chain.chainId), contract: chain.contract, tokenId: chain.tokenId, owner: chain.owner });
  const translated = i18n.locale !== "en";
  const lines = [
    r.certificate.title === undefined ? "" : pickLanguage(r.certificate.title, i18n.locale).text,
    status ? RECIPIENT_WORDS[status](r.certificate.recipientName) : "",
    r.certificate.issuerName ? i18n.t("cli.verify.issuedBy", { issuer: r.certificate.issuerName }) : "",
    chainLine,
    "",
    ...r.checks.flatMap((c) => [
      `${mark[c.result]} ${c.name.padEnd(9)} ${c.result.padEnd(7)} ${c.reason}`,
      ...(translated ? [`  ${i18n.t("cli.verify.check", { check: i18n.t(`verify.check.${c.name}`), result: i18n.t(`verify.result.${c.result}`), reason: checkReason(i18n, c, chain) })}`] : []),
    ]),
    "",
    `verdict: ${r.verdict}`,
    ...(translated ? [i18n.t("cli.verify.verdict", { verdict: i18n.t(`verify.verdict.${r.verdict}`), explain: i18n.t(`verify.verdict.${r.verdict}.explain`) })] : []),
  ];
  return `${lines.filter((l, i) => l !== "" || i > 3).join("\n")}\n`;
}

function readDevInfo(dataDir: string): { rpcUrl?: string; graphqlUrl?: string; chainId?: number; contracts?: { IssuerRegistry?: string } } {
  const path = resolve(dataDir, "dev.json");
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return {};
  }
}

function isFile(target: string): boolean {
  return existsSync(target) && statSync(target).isFile();
}

/**
 * Loaded on demand: the JSON-LD machinery is only needed for exported credentials. A did:web issuer's document is
 * fetched over https, or from the Hallmark server named by `--graphql` when the DID is on that server's host.
 */
async function loadCredentialVerifier(graphqlUrl: string | undefined): Promise<VerifierDeps["credentials"]> {
  const { credentialVerifierWith } = await import("../core/credentials/verify-credential.ts");
  const { webDidResolver } = await import("../core/identity/did-resolver.ts");
  return credentialVerifierWith(webDidResolver({ serverOrigin: graphqlUrl ? new URL(graphqlUrl).origin : undefined }));
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`verify: ${err.message}\n\n${usage()}\n`);
      process.exit(EXIT.usage);
    }
    if (err instanceof NotFoundError || err instanceof DocumentFormatError) {
      process.stderr.write(`verify: ${err.message}\n`);
      process.exit(err instanceof NotFoundError ? EXIT.notFound : EXIT.usage);
    }
    process.stderr.write(`verify: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
