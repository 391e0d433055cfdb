import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import * as hdr from "hdr-histogram-js";
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
/** Items a request carries: certificate i is in the request that starts at the multiple of this just below i. */
const REQUEST_ITEMS = RATE ? Math.max(1, Math.round(RATE / 10)) : REQUEST_SIZE;
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
  // Hallmark's own processes (the API's, with the embedded database, and the worker's) apart from the development
  // chain's: EDR keeps the whole chain in memory, which grows with every token, while in production the chain is a
  // node of its own. redis-server is left out, as before.
  const peaks = { api: 0, chain: 0, worker: 0 };
  let peakRss = 0;
  const sample = () => {
    const now = { api: process.memoryUsage().rss, chain: processRss(stack.pids.chain), worker: processRss(stack.pids.workerProcess) };
    for (const k of ["api", "chain", "worker"] as const) peaks[k] = Math.max(peaks[k], now[k]);
    peakRss = Math.max(peakRss, now.api + now.worker);
  };
  sample();
  const sampler = setInterval(sample, 50);
  // What inside the API's process holds the memory: its V8 heap, its buffers, and PGlite's thread (its heap and its
  // WebAssembly memory). Each at its own peak, sampled each second (asking the thread costs a message).
  const parts = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0, dbHeap: 0, dbHeapTotal: 0, dbWasm: 0 };
  let sampling = false;
  const sampleParts = async () => {
    if (sampling) return;
    sampling = true;
    try {
      // Diagnosis only (BENCH_MEMORY and node --expose-gc): what is still alive after a full collection.
      const gc = (globalThis as { gc?: () => void }).gc;
      if (process.env.BENCH_MEMORY && gc) gc();
      const m = process.memoryUsage();
      const t = await stack.db.threadMemory?.().catch(() => undefined);
      const now = { heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, dbHeap: t?.heapUsed ?? 0, dbHeapTotal: t?.heapTotal ?? 0, dbWasm: t?.wasm ?? 0 };
      for (const k of Object.keys(parts) as (keyof typeof parts)[]) parts[k] = Math.max(parts[k], now[k]);
      if (process.env.BENCH_MEMORY) {
        const mib = (n: number) => (n / 2 ** 20).toFixed(0);
        process.stderr.write(
          `\n[memory ${((Date.now() - started) / 1000).toFixed(0)} s] rss api ${mib(m.rss)} chain ${mib(processRss(stack.pids.chain))} worker ${mib(processRss(stack.pids.workerProcess))}; ` +
            Object.entries(now).map(([k, v]) => `${k} ${mib(v)}`).join(" ") + "\n",
        );
      }
    } finally {
      sampling = false;
    }
  };
  const partsSampler = setInterval(() => void sampleParts(), process.env.BENCH_MEMORY ? 5000 : 1000);
  const bar = progressBar("confirmed", COUNT);
  // CPU time says what the work cost even when other processes share the machine and stretch the wall clock.
  const cpuAtStart = await stack.cpuUsage();
  const threadsAtStart = threadCpuByName();
  const started = Date.now();
  const runTag = Date.now().toString(36);
  /**
   * When each request was answered: its certificates' "accepted". One number a request, not one a certificate: the
   * bench runs in the API's process, whose memory it measures, so its own bookkeeping must not grow with the count.
   */
  const acceptedAt = new Float64Array(Math.ceil(COUNT / REQUEST_ITEMS));
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
    const ids = await issueOverHttp(requestOf(offset, size));
    if (ids.length !== size) throw new Error(`a request of ${size} items was answered with ${ids.length} issuances`);
    acceptedAt[offset / REQUEST_ITEMS] = Date.now();
  };
  let sending: Promise<unknown>;
  if (RATE) {
    // A steady offered load: a request every 100 ms whether or not the last was answered, as independent users send.
    const perTick = REQUEST_ITEMS;
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
  clearInterval(partsSampler);
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
  // Latencies go into a histogram of fixed size (3 significant digits), read from the database a page at a time.
  const latencies = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 24 * 3600 * 1000, numberOfSignificantValueDigits: 3 });
  const prefix = `bench-${runTag}-`;
  let failed = 0;
  let lastConfirmed = 0;
  let seen = 0;
  for (let after = ""; ; ) {
    const page = await db
      .select({ id: issuances.id, key: issuances.idempotencyKey, status: issuances.status, updatedAt: issuances.updatedAt })
      .from(issuances)
      .where(and(sql`${issuances.idempotencyKey} LIKE ${`${prefix}%`}`, after ? gt(issuances.id, after) : undefined))
      .orderBy(asc(issuances.id))
      .limit(5000);
    for (const r of page) {
      const index = Number(r.key!.slice(prefix.length));
      if (!Number.isInteger(index)) continue;
      seen++;
      if (r.status !== "CONFIRMED") failed++;
      lastConfirmed = Math.max(lastConfirmed, r.updatedAt.getTime());
      // A certificate confirmed before its request was answered waited no time after acceptance.
      latencies.recordValue(Math.max(0, r.updatedAt.getTime() - acceptedAt[Math.floor(index / REQUEST_ITEMS)]!));
    }
    if (page.length < 5000) break;
    after = page.at(-1)!.id;
  }
  if (seen !== COUNT) throw new Error(`${seen} of ${COUNT} certificates found at the end`);
  return {
    rate: COUNT / ((lastConfirmed - started) / 1000),
    p50: latencies.getValueAtPercentile(50),
    p99: latencies.getValueAtPercentile(99),
    peakRssMiB: peakRss / 2 ** 20,
    partsMiB: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v / 2 ** 20])),
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
  const { chain: chainMiB, ...own } = result.peaksMiB as Record<string, number>;
  const apart = Object.entries(own).map(([k, v]) => `${k === "api" ? "API's process" : `${k}'s process`} ${v.toFixed(0)}`).join(", ");
  console.log(
    `peak memory (rss, Hallmark's processes: the API's${stack.db.kind === "pglite" ? " with the embedded database" : ""}${stack.pids.workerProcess ? ", and the worker's" : ""}): ${result.peakRssMiB.toFixed(0)} MiB ` +
      `(each at its own peak: ${apart} MiB); apart, the development chain's process: ${(chainMiB ?? 0).toFixed(0)} MiB ` +
      `(EDR holds the whole chain in memory; in production the chain is a node of its own, not Hallmark's process)`,
  );
  const p = result.partsMiB as Record<string, number>;
  console.log(
    `memory inside the API's process, each at its own peak: V8 heap used ${p.heapUsed!.toFixed(0)} of ${p.heapTotal!.toFixed(0)} MiB, external ${p.external!.toFixed(0)} MiB (array buffers ${p.arrayBuffers!.toFixed(0)})` +
      (stack.db.threadMemory ? `; PGlite's thread: V8 heap used ${p.dbHeap!.toFixed(0)} of ${p.dbHeapTotal!.toFixed(0)} MiB, WebAssembly memory ${p.dbWasm!.toFixed(0)} MiB` : ""),
  );
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
