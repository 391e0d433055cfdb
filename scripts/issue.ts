import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { readCertificateRows } from "./certificate-rows.ts";
import { progressBar } from "./progress.ts";
import { MAX_BULK_ITEMS } from "../core/operations/bulk-issue.ts";
import { cliTranslator } from "../core/i18n/translator.ts";
import { helpOption } from "./usage.ts";

/**
 * `npm run issue -- --csv diplomas.csv --collection <id>`: bulk issuance through the GraphQL API.
 * Every row carries an idempotency key (its `idempotencyKey` column, or the file's hash and the row number), so
 * running the same file again after an interruption issues only what is missing, never a row twice.
 * Columns: recipient (required), title, recipientName, description, validUntil (ISO-8601), idempotencyKey, and
 * `attr:<Name>` for each named field shown on the certificate. A JSON array of such objects works too (--json).
 */
const i18n = cliTranslator();
const DEFAULT_CHUNK = 500;

/** The help, in the command line's language; the flags and their arguments are what is typed, so stay as they are. */
function usage(): string {
  const { t } = i18n;
  const option = (flag: string, text: string) => helpOption(flag, text);
  return [
    t("cli.issue.usage", { synopsis: "npm run issue -- (--csv <file> | --json <file>) --collection <id> [options]" }),
    "",
    option("--collection <id>", t("cli.issue.usage.collection")),
    option("--url <url>", t("cli.issue.usage.url", { env: "$HALLMARK_GRAPHQL_URL", file: ".data/dev.json" })),
    option("--api-key <key>", t("cli.issue.usage.apiKey", { env: "$HALLMARK_API_KEY", file: ".data/dev.json" })),
    option("--chunk <n>", t("cli.issue.usage.chunk", { count: DEFAULT_CHUNK })),
    option("--no-wait", t("cli.issue.usage.noWait")),
    "",
    t("cli.issue.usage.columns", { attr: "attr:<Name>" }),
    t("cli.issue.usage.exit"),
  ].join("\n");
}

/** A mistake in how the command was called: the error prefix stays as typed, the sentence is the reader's, exit 64. */
function fail(message: string): never {
  process.stderr.write(`issue: ${message}\n`);
  process.exit(64);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      csv: { type: "string" },
      json: { type: "string" },
      collection: { type: "string" },
      url: { type: "string" },
      "api-key": { type: "string" },
      chunk: { type: "string", default: String(DEFAULT_CHUNK) },
      "no-wait": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
} catch (err) {
  // Node's own sentence names the unknown option; the help after it is in the reader's language.
  process.stderr.write(`issue: ${(err as Error).message}\n\n${usage()}\n`);
  process.exit(64);
}
const args = parsed.values;
if (args.help) {
  process.stdout.write(`${usage()}\n`);
  process.exit(0);
}

const file = args.csv ?? args.json ?? fail(i18n.t("cli.issue.needFile", { csv: "--csv <file>", json: "--json <file>" }));
if (!args.collection) fail(i18n.t("cli.issue.needCollection", { option: "--collection <id>" }));
const chunkSize = Number(args.chunk);
if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_BULK_ITEMS) fail(i18n.t("cli.issue.badChunk", { option: "--chunk", max: MAX_BULK_ITEMS, value: args.chunk }));
const dev = existsSync(".data/dev.json") ? JSON.parse(readFileSync(".data/dev.json", "utf8")) : {};
const url: string = args.url ?? process.env.HALLMARK_GRAPHQL_URL ?? dev.graphqlUrl ?? fail(i18n.t("cli.issue.needUrl", { option: "--url", file: ".data/dev.json" }));
const apiKey: string = args["api-key"] ?? process.env.HALLMARK_API_KEY ?? dev.apiKey ?? fail(i18n.t("cli.issue.needApiKey", { option: "--api-key", file: ".data/dev.json" }));

const raw = readFileSync(file);
const fileHash = createHash("sha256").update(raw).digest("hex").slice(0, 16);
const rows = readCertificateRows(raw, args.json ? "json" : "csv").map(({ line, item }) => ({
  line,
  item: { ...item, idempotencyKey: item.idempotencyKey ?? `file:${fileHash}:${line}` },
}));
if (!rows.length) fail(i18n.t("cli.issue.noRows", { file }));

async function graphql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => `${e.extensions?.code ?? "ERROR"}: ${e.message}`).join("; "));
  // A refused request answers its result union with an Error member (quota, idempotency, collection not found).
  for (const value of Object.values(body.data ?? {}) as { code?: string; message?: string; field?: string | null }[]) {
    if (value?.code && value.message) throw new Error(`${value.code}: ${value.message}${value.field ? ` (${value.field})` : ""}`);
  }
  return body.data!;
}

const ISSUE = `mutation ($input: IssueCertificatesInput!) {
  issueCertificates(input: $input) {
    ... on IssueCertificatesPayload {
      bulkIssuance { id }
      results { index created issuance { id } error { code message field } }
    }
    ... on Error { __typename code message field }
  }
}`;
const PROGRESS = `query ($id: ID!) { bulkIssuance(id: $id) { progress { total done confirmed failed rejected } } }`;
const FAILED = `query ($id: ID!) { issuance(id: $id) { status error } }`;

const rejected: { line: number; code: string; message: string; field?: string }[] = [];
const issued: { line: number; issuanceId: string }[] = [];
const bulkIds: string[] = [];
const accepting = progressBar(i18n.t("cli.progress.accepted"), rows.length);
for (let offset = 0; offset < rows.length; offset += chunkSize) {
  const chunk = rows.slice(offset, offset + chunkSize);
  // Validation errors come back per item; only a transport or auth failure throws here.
  const data = await graphql<{
    issueCertificates: {
      bulkIssuance: { id: string };
      results: { index: number; created: boolean; issuance: { id: string } | null; error: { code: string; message: string; field?: string } | null }[];
    };
  }>(ISSUE, {
    input: {
      collectionId: args.collection,
      idempotencyKey: `file:${fileHash}:${offset}`,
      items: chunk.map((r) => r.item),
    },
  }).catch((err: Error) => fail(i18n.t("cli.issue.refused", { error: err.message })));
  bulkIds.push(data.issueCertificates.bulkIssuance.id);
  for (const r of data.issueCertificates.results) {
    const row = chunk[r.index]!;
    if (r.error) rejected.push({ line: row.line, ...r.error });
    else issued.push({ line: row.line, issuanceId: r.issuance!.id });
  }
  accepting.update(Math.min(rows.length, offset + chunk.length));
}
accepting.done();

const failed: { line: number; message: string }[] = [];
if (!args["no-wait"] && issued.length) {
  const confirming = progressBar(i18n.t("cli.progress.confirmed"), rows.length);
  for (;;) {
    let done = 0;
    let failures = 0;
    for (const id of bulkIds) {
      const { bulkIssuance } = await graphql<{ bulkIssuance: { progress: { done: number; failed: number } } }>(PROGRESS, { id });
      done += bulkIssuance.progress.done;
      failures += bulkIssuance.progress.failed;
    }
    confirming.update(done);
    if (done >= rows.length) {
      if (failures) {
        for (const { line, issuanceId } of issued) {
          const { issuance } = await graphql<{ issuance: { status: string; error: string | null } }>(FAILED, { id: issuanceId });
          if (issuance.status === "FAILED") failed.push({ line, message: issuance.error ?? i18n.t("cli.issue.failedNoReason") });
        }
      }
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  confirming.done();
}

console.log(i18n.t("cli.issue.summary", { file, rows: rows.length, accepted: issued.length, rejected: rejected.length, failed: failed.length }));
for (const r of rejected) {
  console.log(r.field ? i18n.t("cli.issue.rejectedFieldLine", { line: r.line, code: r.code, field: r.field, message: r.message }) : i18n.t("cli.issue.rejectedLine", { line: r.line, code: r.code, message: r.message }));
}
for (const f of failed) console.log(i18n.t("cli.issue.failedLine", { line: f.line, message: f.message }));
process.exit(rejected.length || failed.length ? 1 : 0);
