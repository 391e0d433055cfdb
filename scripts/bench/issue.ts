import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { and, eq, inArray, sql } from "drizzle-orm";
import { NonceManager, Wallet } from "ethers";
import { certificateRegistryAt } from "../../core/chain/certificate-registry.ts";
import { issuances } from "../../core/db/schema.ts";
import { buildCertificateDocument } from "../../core/metadata/certificate.ts";
import { requestIdFor } from "../../core/operations/request-id.ts";
import { parseAddress, parseCertificateFields } from "../../core/operations/validate.ts";
import { startStack, type StackCpu } from "../dev/stack.ts";
import { freshDatabase } from "./fresh-database.ts";
import { progressBar } from "../progress.ts";

/**
 * `npm run bench:issue`: certificates from accepted to confirmed, sent as a client sends them (`issueCertificates`
 * over HTTP, accepted = the HTTP answer), against a naive pipeline (one certificate, one transaction, wait for it)
 * measured in the same run on the same services. Options:
 *   --count N              certificates sent at once (default 10000), in requests of --request-size (500) items
 *                          from --clients (4) concurrent clients;
 *   --rate R --duration S  instead: a steady offered load of R certificates/s for S seconds, one request every
 *                          100 ms, and the latency accepted→confirmed a user waiting for one certificate sees;
 *   --database-url URL     a PostgreSQL server instead of the embedded PGlite (the run creates, then drops, its own
 *                          database there); the worker then runs as a process of its own (`npm run worker`), unless
 *   --in-process-worker    keeps it in the API's process;
 *   --naive N              certificates through the naive pipeline (default 100).
 */
const { values: args } = parseArgs({
  options: {
    count: { type: "string", default: "10000" },
    naive: { type: "string", default: "100" },
    "request-size": { type: "string", default: "500" },
    clients: { type: "string", default: "4" },
    rate: { type: "string" },
    duration: { type: "string", default: "60" },
    "database-url": { type: "string" },
    "in-process-worker": { type: "boolean", default: false },
  },
});
const NAIVE = Number(args.naive);
const REQUEST_SIZE = Number(args["request-size"]);
const CLIENTS = Number(args.clients);
const RATE = args.rate ? Number(args.rate) : undefined;
const DURATION_S = Number(args.duration);
const COUNT = RATE ? Math.round(RATE * DURATION_S) : Number(args.count);
for (const [name, value] of Object.entries({ count: COUNT, naive: NAIVE, "request-size": REQUEST_SIZE, clients: CLIENTS, duration: DURATION_S, ...(RATE ? { rate: RATE } : {}) })) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
}
// Hardhat's funded development account #3: the naive pipeline's own key, so its nonces never meet the worker's.
const NAIVE_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";

const dataDir = mkdtempSync(join(tmpdir(), "hallmark-bench-"));
const database = args["database-url"] ? await freshDatabase(args["database-url"]) : undefined;
const stack = await startStack({
  env: {
    ...process.env,
    NODE_ENV: "test",
    HALLMARK_DATA_DIR: dataDir,
    PORT: "0",
    CHAIN_PORT: "0",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
    ...(database ? { DATABASE_URL: database.url } : {}),
  },
  notice: () => {},
  // With a database server the worker runs as its own process, as in production: the API and it each get a core.
  workerProcess: Boolean(database) && !args["in-process-worker"],
});
const { db } = stack.db;
const { devInfo } = stack;
const holders = Array.from({ length: 50 }, () => Wallet.createRandom().address);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function naivePipeline(): Promise<number> {
  const deployer = new Wallet("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", stack.provider);
  const registry = certificateRegistryAt(devInfo.contracts.CertificateRegistry, deployer);
  const wallet = new NonceManager(new Wallet(NAIVE_KEY, stack.provider));
  await (await registry.getFunction("grantRole")(await registry.ISSUER_ROLE(), await wallet.getAddress())).wait();
  const asNaive = certificateRegistryAt(devInfo.contracts.CertificateRegistry, wallet);
  const started = performance.now();
  for (let i = 0; i < NAIVE; i++) {
    const id = crypto.randomUUID();
    const recipient = parseAddress(holders[i % holders.length]!, "recipient");
    const fields = parseCertificateFields({ title: `Naive certificate ${i}` }, "Bench");
    const doc = buildCertificateDocument(fields, {
      issuanceId: id,
      requestId: requestIdFor(id),
      issuedAt: new Date(),
      recipient,
      institution: { id: devInfo.institutionId, name: "Demo University" },
      collection: { id: devInfo.collectionId, name: "Bench", chainId: devInfo.chainId, contractAddress: devInfo.contracts.CertificateRegistry },
    });
    // Pinned as the raw CID of its digest, which is what the registry's tokenURI derives from the token id.
    await stack.ipfs.add(doc.bytes);
    const tx = await asNaive.getFunction("issue")(doc.digest, recipient, 0n);
    await tx.wait();
  }
  return NAIVE / ((performance.now() - started) / 1000);
}

async function hallmarkPipeline() {
  // This process and the chain's and worker's processes, as when they all ran in one (redis-server left out, as then).
  const peaks = { api: 0, chain: 0, worker: 0 };
  let peakRss = 0;
  const sample = () => {
    const now = { api: process.memoryUsage().rss, chain: processRss(stack.pids.chain), worker: processRss(stack.pids.workerProcess) };
    for (const k of ["api", "chain", "worker"] as const) peaks[k] = Math.max(peaks[k], now[k]);
    peakRss = Math.max(peakRss, now.api + now.chain + now.worker);
  };
  sample();
  const sampler = setInterval(sample, 50);
  const bar = progressBar("confirmed", COUNT);
  // CPU time says what the work cost even when other processes share the machine and stretch the wall clock.
  const cpuAtStart = await stack.cpuUsage();
  const threadsAtStart = threadCpuByName();
  const started = Date.now();
  const runTag = Date.now().toString(36);
  /** When each certificate's request was answered: its "accepted". */
  const acceptedAt = new Map<string, number>();
  const requestOf = (offset: number, size: number) => ({
    collectionId: devInfo.collectionId,
    idempotencyKey: `bench-${runTag}-request-${offset}`,
    items: Array.from({ length: size }, (_, j) => ({
      recipient: holders[(offset + j) % holders.length]!,
      title: `Bench certificate ${offset + j}`,
      recipientName: `Holder ${offset + j}`,
      idempotencyKey: `bench-${runTag}-${offset + j}`,
    })),
  });
  const send = async (offset: number, size: number) => {
    for (const id of await issueOverHttp(requestOf(offset, size))) acceptedAt.set(id, Date.now());
  };
  let sending: Promise<unknown>;
  if (RATE) {
    // A steady offered load: a request every 100 ms whether or not the last was answered, as independent users send.
    const perTick = Math.max(1, Math.round(RATE / 10));
    const inFlight: Promise<void>[] = [];
    for (let offset = 0, tick = 0; offset < COUNT; offset += perTick, tick++) {
      const wait = started + tick * 100 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inFlight.push(send(offset, Math.min(perTick, COUNT - offset)));
    }
    sending = Promise.all(inFlight);
  } else {
    let next = 0;
    const client = async () => {
      for (let offset = (next += REQUEST_SIZE) - REQUEST_SIZE; offset < COUNT; offset = (next += REQUEST_SIZE) - REQUEST_SIZE) {
        await send(offset, Math.min(REQUEST_SIZE, COUNT - offset));
      }
    };
    sending = Promise.all(Array.from({ length: CLIENTS }, client));
  }
  // Confirmations are counted while requests are still being answered.
  let sendError: unknown;
  sending.catch((err) => (sendError = err));
  for (;;) {
    if (sendError) throw sendError;
    const [row] = await db
      .select({ done: sql<number>`count(*)::int` })
      .from(issuances)
      .where(and(inArray(issuances.status, ["CONFIRMED", "FAILED"]), sql`${issuances.idempotencyKey} LIKE ${`bench-${runTag}-%`}`));
    bar.update(row!.done);
    if (process.env.BENCH_DEBUG) console.error(JSON.stringify(await db.select({ s: issuances.status, n: sql<number>`count(*)::int` }).from(issuances).groupBy(issuances.status)));
    if (row!.done >= COUNT) break;
    // The rate is taken from the rows' own timestamps, so polling seldom costs no accuracy and spares the database.
    await new Promise((r) => setTimeout(r, 1000));
  }
  bar.done();
  clearInterval(sampler);
  const cpuAtEnd = await stack.cpuUsage();
  const threadsAtEnd = threadCpuByName();
  const byThreadName = [...threadsAtEnd].map(([name, s]) => [name, s - (threadsAtStart.get(name) ?? 0)] as const).filter(([, s]) => s >= 0.05);
  const cpu = Object.fromEntries(
    Object.entries(cpuAtEnd).flatMap(([part, end]) => {
      const start = cpuAtStart[part as keyof StackCpu];
      return end === undefined || start === undefined ? [] : [[part, end - start]];
    }),
  ) as Partial<StackCpu>;
  await sending;
  const rows = await db
    .select({ id: issuances.id, status: issuances.status, updatedAt: issuances.updatedAt })
    .from(issuances)
    .where(sql`${issuances.idempotencyKey} LIKE ${`bench-${runTag}-%`}`);
  const failed = rows.filter((r) => r.status !== "CONFIRMED").length;
  const lastConfirmed = Math.max(...rows.map((r) => r.updatedAt.getTime()));
  // A certificate confirmed before its request was answered waited no time after acceptance.
  const latencies = rows.map((r) => Math.max(0, r.updatedAt.getTime() - acceptedAt.get(r.id)!)).sort((a, b) => a - b);
  return {
    rate: COUNT / ((lastConfirmed - started) / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    peakRssMiB: peakRss / 2 ** 20,
    peaksMiB: Object.fromEntries(Object.entries(peaks).filter(([, v]) => v > 0).map(([k, v]) => [k, v / 2 ** 20])),
    failed,
    cpu,
    byThreadName,
  };
}

/** A process's resident memory in bytes, from /proc (Linux); 0 when there is none to read. */
function processRss(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib ? Number(kib) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of this process's threads, summed by thread name (the main thread and worker threads are "node" or
 * their own names; V8's helpers, libuv's pool and native libraries' threads have theirs). Empty where /proc is not.
 */
function threadCpuByName(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const task of readdirSync("/proc/self/task")) {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
    }
  } catch {
    // Not Linux, or a thread ended while being read: the breakdown is only a hint.
  }
  return out;
}

const ISSUE = `mutation ($input: IssueCertificatesInput!) {
  issueCertificates(input: $input) {
    __typename
    ... on IssueCertificatesPayload { results { index error { code message } issuance { id } } }
    ... on Error { code message }
  }
}`;

/** One `issueCertificates` request as a client sends it; the issuance ids it accepted. Any refusal stops the run. */
async function issueOverHttp(input: Record<string, unknown>): Promise<string[]> {
  const res = await fetch(devInfo.graphqlUrl, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${devInfo.apiKey}` },
    body: JSON.stringify({ query: ISSUE, variables: { input } }),
  });
  const body = (await res.json()) as { data?: { issueCertificates: any }; errors?: { message: string }[] };
  const answer = body.data?.issueCertificates;
  if (res.status !== 200 || !answer || answer.__typename !== "IssueCertificatesPayload") {
    throw new Error(`issueCertificates answered HTTP ${res.status}: ${JSON.stringify(body.errors ?? answer).slice(0, 500)}`);
  }
  return (answer.results as { error: { message: string } | null; issuance: { id: string } | null }[]).map((r, i) => {
    if (r.error || !r.issuance) throw new Error(`item ${i} refused: ${r.error?.message}`);
    return r.issuance.id;
  });
}

try {
  process.stderr.write(`naive pipeline: ${NAIVE} certificates, one transaction each…\n`);
  const naive = await naivePipeline();
  process.stderr.write(`hallmark pipeline: ${COUNT} certificates…\n`);
  const result = await hallmarkPipeline();
  const ratio = result.rate / naive;
  console.log(`naive pipeline:    ${naive.toFixed(1)} certificates/s (${NAIVE} certificates)`);
  console.log(`hallmark pipeline: ${result.rate.toFixed(1)} certificates/s (${COUNT} certificates, ${result.failed} failed)`);
  console.log(`database: ${stack.db.kind === "postgres" ? "PostgreSQL server" : "embedded PGlite"}; worker ${stack.config.databaseUrl && !args["in-process-worker"] ? "in a process of its own" : "in the API's process"}; sent over HTTP as issueCertificates, ${RATE ? `${RATE} certificates/s offered for ${DURATION_S} s, a request every 100 ms` : `requests of ${REQUEST_SIZE} from ${CLIENTS} clients`}`);
  console.log(`latency accepted→confirmed: p50 ${result.p50} ms, p99 ${result.p99} ms`);
  const apart = Object.entries(result.peaksMiB).map(([k, v]) => `${k === "api" ? "API's process" : `${k}'s process`} ${v.toFixed(0)}`).join(", ");
  // Names what was added up: the API's process holds the database only when it is the embedded one, and the worker's
  // process exists only when the worker runs apart (PostgreSQL's own processes are never counted).
  const measured = [
    stack.db.kind === "pglite" ? "the API's process with the embedded database" : "the API's process",
    "the chain's process",
    ...(result.peaksMiB.worker ? ["the worker's process"] : []),
  ];
  console.log(`peak memory (rss, ${measured.slice(0, -1).join(", ")} and ${measured.at(-1)}): ${result.peakRssMiB.toFixed(0)} MiB (each at its own peak: ${apart} MiB)`);
  const perCert = (s: number | undefined) => (s === undefined ? "-" : `${s.toFixed(1)} s = ${((s * 1000) / COUNT).toFixed(2)} ms/cert`);
  const { cpu } = result;
  const known = (cpu.mainThread ?? 0) + (cpu.database ?? 0);
  console.log(
    `cpu until all confirmed: main thread ${perCert(cpu.mainThread)}; database thread ${perCert(cpu.database)}; ` +
      `rest of the process (libuv pool, GC, native threads) ${perCert((cpu.process ?? 0) - known)}; whole process ${perCert(cpu.process)}; ` +
      `chain process ${perCert(cpu.chain)}; redis-server ${perCert(cpu.redis)}${cpu.workerProcess === undefined ? "" : `; worker process ${perCert(cpu.workerProcess)}`}`,
  );
  console.log(`cpu of the bench's process by thread name (Linux): ${result.byThreadName.sort((a, b) => b[1] - a[1]).map(([n, s]) => `${n} ${((s * 1000) / COUNT).toFixed(2)}`).join(", ")} ms/cert`);
  console.log(`batch size ${stack.config.batch.size}, window ${stack.config.batch.windowMs} ms, worker concurrency ${stack.config.workerConcurrency}`);
  console.log(`issue-throughput: ${result.rate.toFixed(1)} (${ratio.toFixed(1)}x naive)`);
} finally {
  await stack.stop();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
