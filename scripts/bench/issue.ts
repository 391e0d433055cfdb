import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { and, eq, inArray, sql } from "drizzle-orm";
import { NonceManager, Wallet } from "ethers";
import { certificateRegistryAt } from "../../core/chain/certificate-registry.ts";
import { issuances } from "../../core/db/schema.ts";
import { buildCertificateDocument } from "../../core/metadata/certificate.ts";
import { requestIssuanceBatch } from "../../core/operations/issue.ts";
import { requestIdFor } from "../../core/operations/request-id.ts";
import { parseAddress, parseCertificateFields } from "../../core/operations/validate.ts";
import { startStack } from "../dev/stack.ts";
import { progressBar } from "../progress.ts";

/**
 * `npm run bench:issue`: certificates from accepted to confirmed on the embedded stack, against a naive
 * pipeline (one certificate, one transaction, wait for it) measured in the same run on the same services.
 */
const { values: args } = parseArgs({
  options: { count: { type: "string", default: "10000" }, naive: { type: "string", default: "100" } },
});
const COUNT = Number(args.count);
const NAIVE = Number(args.naive);
// Hardhat's funded development account #3: the naive pipeline's own key, so its nonces never meet the worker's.
const NAIVE_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";

const dataDir = mkdtempSync(join(tmpdir(), "hallmark-bench-"));
const stack = await startStack({
  env: { ...process.env, NODE_ENV: "test", HALLMARK_DATA_DIR: dataDir, PORT: "0", CHAIN_PORT: "0", LOG_LEVEL: process.env.LOG_LEVEL ?? "silent" },
  notice: () => {},
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
    const cid = await stack.ipfs.add(doc.bytes);
    const tx = await asNaive.getFunction("issue")({ requestId: requestIdFor(id), holder: recipient, uri: `ipfs://${cid}`, digest: doc.digest, validUntil: 0n });
    await tx.wait();
  }
  return NAIVE / ((performance.now() - started) / 1000);
}

async function hallmarkPipeline() {
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const bar = progressBar("confirmed", COUNT);
  // CPU time says what the work cost even when other processes share the machine and stretch the wall clock.
  const cpuAtStart = process.cpuUsage();
  const threadCpuAtStart = process.threadCpuUsage();
  const started = Date.now();
  const ids: string[] = [];
  const runTag = Date.now().toString(36);
  for (let offset = 0; offset < COUNT; offset += 1000) {
    const items = Array.from({ length: Math.min(1000, COUNT - offset) }, (_, j) => ({
      recipient: holders[(offset + j) % holders.length]!,
      title: `Bench certificate ${offset + j}`,
      recipientName: `Holder ${offset + j}`,
      idempotencyKey: `bench-${runTag}-${offset + j}`,
    }));
    const results = await requestIssuanceBatch({ db, custody: stack.custody, quotas: stack.config.quotas }, devInfo.institutionId, devInfo.collectionId, items);
    for (const r of results) {
      if (r.error) throw r.error;
      ids.push(r.issuance!.id);
    }
  }
  for (;;) {
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
  const cpu = process.cpuUsage(cpuAtStart);
  const threadCpu = process.threadCpuUsage(threadCpuAtStart);
  const rows = await db
    .select({ status: issuances.status, createdAt: issuances.createdAt, updatedAt: issuances.updatedAt })
    .from(issuances)
    .where(sql`${issuances.idempotencyKey} LIKE ${`bench-${runTag}-%`}`);
  const failed = rows.filter((r) => r.status !== "CONFIRMED").length;
  const lastConfirmed = Math.max(...rows.map((r) => r.updatedAt.getTime()));
  const latencies = rows.map((r) => r.updatedAt.getTime() - r.createdAt.getTime()).sort((a, b) => a - b);
  return {
    rate: COUNT / ((lastConfirmed - started) / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    peakRssMiB: peakRss / 2 ** 20,
    failed,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    mainThreadCpuSeconds: (threadCpu.user + threadCpu.system) / 1e6,
  };
}

try {
  process.stderr.write(`naive pipeline: ${NAIVE} certificates, one transaction each…\n`);
  const naive = await naivePipeline();
  process.stderr.write(`hallmark pipeline: ${COUNT} certificates…\n`);
  const result = await hallmarkPipeline();
  const ratio = result.rate / naive;
  console.log(`naive pipeline:    ${naive.toFixed(1)} certificates/s (${NAIVE} certificates)`);
  console.log(`hallmark pipeline: ${result.rate.toFixed(1)} certificates/s (${COUNT} certificates, ${result.failed} failed)`);
  console.log(`latency accepted→confirmed: p50 ${result.p50} ms, p99 ${result.p99} ms`);
  console.log(`peak memory (rss, whole process incl. embedded chain): ${result.peakRssMiB.toFixed(0)} MiB`);
  console.log(
    `cpu until all confirmed: main thread ${result.mainThreadCpuSeconds.toFixed(1)} s, whole process ${result.cpuSeconds.toFixed(1)} s ` +
      `(${((result.mainThreadCpuSeconds * 1000) / COUNT).toFixed(2)} / ${((result.cpuSeconds * 1000) / COUNT).toFixed(2)} ms a certificate)`,
  );
  console.log(`batch size ${stack.config.batch.size}, window ${stack.config.batch.windowMs} ms, worker concurrency ${stack.config.workerConcurrency}`);
  console.log(`issue-throughput: ${result.rate.toFixed(1)} (${ratio.toFixed(1)}x naive)`);
} finally {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
