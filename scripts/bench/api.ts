import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { and, eq, inArray, sql } from "drizzle-orm";
import { Wallet } from "ethers";
import { issuances } from "../../core/db/schema.ts";
import { DEV_KEYS } from "../dev/chain.ts";
import { startStack } from "../dev/stack.ts";
import { freshDatabase } from "./fresh-database.ts";
import { progressBar } from "../progress.ts";

/**
 * `npm run bench:api`: reads under load. The page a dashboard asks for (100 certificates with nested fields) at 1
 * and 10 concurrent clients, requests/s and latency p50/p99, against a baseline run in the same process on the
 * same server (`{ __typename }`: HTTP, authentication and GraphQL with no data). On the dev stack (API, worker and
 * database in one process); with `--database-url` (a PostgreSQL server; the run makes its own database there) the dev stack runs on it, and
 * `npm start` (the API server alone, as production runs it) is measured against the same database too, as
 * `--web-concurrency` processes (WEB_CONCURRENCY, 1 by default).
 */
const { values: args } = parseArgs({
  options: {
    "database-url": { type: "string" },
    certificates: { type: "string", default: "1000" },
    duration: { type: "string", default: "10" },
    "web-concurrency": { type: "string", default: "1" },
  },
});
const CERTIFICATES = Number(args.certificates);
const DURATION_S = Number(args.duration);
const PROCESSES = Number(args["web-concurrency"]);
if (!(CERTIFICATES >= 100) || !(DURATION_S > 0)) throw new Error("--certificates must be at least 100 and --duration positive");
if (!Number.isInteger(PROCESSES) || PROCESSES < 1) throw new Error("--web-concurrency must be a whole number of server processes, at least 1");

const PAGE = `query { certificates(first: 100) { totalCount edges { node { id tokenId owner status metadataUri txHash collection { name } history { kind at txHash } } } } }`;
const BASELINE = `query { __typename }`;
const dataDir = mkdtempSync(join(tmpdir(), "hallmark-bench-api-"));
// The benchmark's own requests are far more than a production per-institution allowance: limits off.
const common = { NODE_ENV: "test", LOG_LEVEL: process.env.LOG_LEVEL ?? "silent", RATE_LIMIT_PER_INSTITUTION: "0", RATE_LIMIT_PER_IP: "0" };
const database = args["database-url"] ? await freshDatabase(args["database-url"]) : undefined;
const stack = await startStack({
  env: { ...process.env, ...common, HALLMARK_DATA_DIR: dataDir, PORT: "0", CHAIN_PORT: "0", ...(database ? { DATABASE_URL: database.url } : {}) },
  notice: () => {},
});
const { devInfo } = stack;
let server: ChildProcess | undefined;

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
}

/**
 * CPU time (user + system, ms) a process and its descendants have used, from /proc (Linux; undefined elsewhere).
 * Requests/s on a shared machine vary with what else runs; the server's CPU per request does not, so it is the
 * figure to compare two versions of the code by.
 */
function cpuMsOfTree(pid: number): number | undefined {
  const ticksPerMs = 100 / 1000; // USER_HZ: 100 on Linux
  const ofOne = (p: number): number => {
    const stat = readFileSync(`/proc/${p}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat(5) (utime, stime), counted here from field 3 (state).
    let total = (Number(fields[11]) + Number(fields[12])) / ticksPerMs;
    for (const task of readdirSync(`/proc/${p}/task`)) {
      const children = readFileSync(`/proc/${p}/task/${task}/children`, "utf8").trim();
      for (const child of children ? children.split(" ") : []) total += ofOne(Number(child));
    }
    return total;
  };
  try {
    return ofOne(pid);
  } catch {
    return undefined;
  }
}

async function load(url: string, query: string, connections: number): Promise<Figures> {
  const result = await autocannon({
    url,
    method: "POST",
    connections,
    duration: DURATION_S,
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${devInfo.apiKey}` },
    body: JSON.stringify({ query }),
  });
  if (result.errors || result.non2xx || result.timeouts) throw new Error(`${result.errors} errors, ${result.non2xx} non-2xx answers, ${result.timeouts} timeouts`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, requests: result.requests.total };
}

/** The page answers what it should (100 certificates), so the figures are of real work, not of an error. */
async function checkPage(url: string): Promise<void> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${devInfo.apiKey}` },
    body: JSON.stringify({ query: PAGE }),
  });
  const body = (await res.json()) as { data?: { certificates: { totalCount: number; edges: unknown[] } }; errors?: unknown };
  if (!body.data || body.data.certificates.edges.length !== 100) throw new Error(`the page query answered ${JSON.stringify(body).slice(0, 300)}`);
}

async function measure(label: string, url: string, serverPid?: number): Promise<Figures> {
  await checkPage(url);
  // A short warm-up: compiled queries, pooled connections and the JIT, as a server that has been up a while.
  await load(url, PAGE, 10).catch(() => undefined);
  const baseline = await load(url, BASELINE, 10);
  const one = await load(url, PAGE, 1);
  const cpuBefore = serverPid === undefined ? undefined : cpuMsOfTree(serverPid);
  const ten = await load(url, PAGE, 10);
  const cpuAfter = serverPid === undefined ? undefined : cpuMsOfTree(serverPid);
  console.log(`${label}: baseline { __typename } at 10 clients ${baseline.rps.toFixed(0)} requests/s, p99 ${baseline.p99} ms`);
  console.log(`${label}: page of 100, 1 client: ${one.rps.toFixed(1)} requests/s, p50 ${one.p50} ms, p99 ${one.p99} ms`);
  console.log(`${label}: page of 100, 10 clients: ${ten.rps.toFixed(1)} requests/s, p50 ${ten.p50} ms, p99 ${ten.p99} ms (${(ten.rps / baseline.rps).toFixed(3)}x baseline)`);
  if (cpuBefore !== undefined && cpuAfter !== undefined) {
    console.log(`${label}: server CPU per page of 100 at 10 clients: ${((cpuAfter - cpuBefore) / ten.requests).toFixed(2)} ms (${ten.requests} requests)`);
  }
  return ten;
}

async function seed(): Promise<void> {
  const holders = Array.from({ length: 50 }, () => Wallet.createRandom().address);
  const tag = Date.now().toString(36);
  for (let offset = 0; offset < CERTIFICATES; offset += 500) {
    const size = Math.min(500, CERTIFICATES - offset);
    const input = {
      collectionId: devInfo.collectionId,
      idempotencyKey: `bench-api-${tag}-${offset}`,
      items: Array.from({ length: size }, (_, j) => ({ recipient: holders[(offset + j) % holders.length], title: `Read bench ${offset + j}`, idempotencyKey: `bench-api-${tag}-${offset + j}` })),
    };
    const res = await fetch(devInfo.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${devInfo.apiKey}` },
      body: JSON.stringify({ query: `mutation ($input: IssueCertificatesInput!) { issueCertificates(input: $input) { __typename } }`, variables: { input } }),
    });
    const body = (await res.json()) as { data?: { issueCertificates: { __typename: string } } };
    if (body.data?.issueCertificates.__typename !== "IssueCertificatesPayload") throw new Error(`seeding refused: ${JSON.stringify(body).slice(0, 300)}`);
  }
  const bar = progressBar("seeded", CERTIFICATES);
  for (;;) {
    const [row] = await stack.db.db
      .select({ n: sql<number>`count(*)::int` })
      .from(issuances)
      .where(and(eq(issuances.collectionId, devInfo.collectionId), inArray(issuances.status, ["CONFIRMED"]), sql`${issuances.idempotencyKey} LIKE ${`bench-api-${tag}-%`}`));
    bar.update(row!.n);
    if (row!.n >= CERTIFICATES) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  bar.done();
}

/** `npm start` as production runs it, on the stack's database, Redis and chain; its port once it says it is ready. */
async function startServer(): Promise<string> {
  const env = {
    PATH: process.env.PATH,
    ...common,
    HALLMARK_DATA_DIR: join(dataDir, "server"),
    DATABASE_URL: database!.url,
    REDIS_URL: stack.redisUrl,
    CHAIN_RPC_URL: devInfo.rpcUrl,
    CHAIN_ID: String(devInfo.chainId),
    ISSUER_REGISTRY_ADDRESS: devInfo.contracts.IssuerRegistry,
    // The server signs nothing; it reports the workers' keys' transactions in flight, so it is told which they are.
    SIGNER_PRIVATE_KEY: stack.config.chain.signerKeys.length ? stack.config.chain.signerKeys.join(",") : DEV_KEYS.minter,
    // The same custody secret as the stack, as every process of one platform shares it.
    CUSTODY_SECRET: readFileSync(join(dataDir, "custody-secret"), "utf8").trim(),
    HOST: "127.0.0.1",
    PORT: "0",
    WEB_CONCURRENCY: String(PROCESSES),
  };
  server = spawn(process.execPath, ["scripts/start.ts"], { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  server.stderr!.on("data", (d) => (stderr += d));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = stderr.match(/server ready on port (\d+)/);
    if (m) return `http://127.0.0.1:${m[1]}/graphql`;
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not become ready: ${stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

try {
  process.stderr.write(`seeding ${CERTIFICATES} certificates through issueCertificates…\n`);
  await seed();
  const kind = stack.db.kind === "postgres" ? "PostgreSQL server" : "PGlite";
  process.stderr.write(`measuring ${DURATION_S} s per run…\n`);
  const dev = await measure(`dev stack (${kind})`, devInfo.graphqlUrl);
  let last = dev;
  if (args["database-url"]) {
    last = await measure(`npm start${PROCESSES > 1 ? ` WEB_CONCURRENCY=${PROCESSES}` : ""} (PostgreSQL server)`, await startServer(), server!.pid);
  } else {
    console.log("npm start: measured with --database-url <an empty PostgreSQL database> (the API server alone needs a database server)");
  }
  console.log(`api-page-100-10-clients: ${last.rps.toFixed(1)} requests/s, p99 ${last.p99} ms`);
} finally {
  server?.kill("SIGTERM");
  await stack.stop();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
