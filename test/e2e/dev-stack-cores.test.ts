import { existsSync, readFileSync, readdirSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { issueCertificate } from "../core/verification/certificates.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { startTestStack } from "../support/stack.ts";

/** This process's threads Node runs worker threads on (Linux names them so). */
function workerThreads(): number {
  return readdirSync("/proc/self/task").filter((t) => {
    try {
      return readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim() === "WorkerThread";
    } catch {
      return false; // ended while being read
    }
  }).length;
}

/** Whether a process is still there (a zombie counts as gone: it has exited). */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function settle(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * The dev stack on both cores: the embedded PGlite runs in a worker thread and the embedded chain in a process of
 * its own, and with a database server the worker can run as a process of its own; each certificate still goes
 * through, and stopping the stack leaves no thread or process behind. Two stacks one after the other in one test
 * process: the chain's native module must load again.
 */
describe.skipIf(!existsSync("/proc/self/task"))("the dev stack's threads and worker process", () => {
  let pg: TestPostgres | undefined;
  afterAll(async () => {
    await pg?.stop();
  });

  it("runs PGlite in a thread and the chain in a process of their own, reports their CPU, issues through them, and ends both on stop", async () => {
    const before = workerThreads();
    const stack = await startTestStack();
    const chainPid = stack.pids.chain!;
    try {
      expect(workerThreads()).toBe(before + 1);
      expect(alive(chainPid)).toBe(true);
      const cert = await issueCertificate(stack, { recipient: "0x00000000000000000000000000000000000000a1", title: "Threaded diploma" });
      expect(cert.tokenId).toBeTruthy();
      const cpu = await stack.cpuUsage();
      expect(cpu.database).toBeGreaterThan(0);
      expect(cpu.chain).toBeGreaterThan(0);
      expect(cpu.process).toBeGreaterThanOrEqual(cpu.mainThread);
    } finally {
      await stack.cleanup();
    }
    expect(await settle(() => workerThreads() === before, 10_000), `worker threads left: ${workerThreads() - before}`).toBe(true);
    expect(await settle(() => !alive(chainPid), 10_000), "the chain's process outlived the stack").toBe(true);
  });

  it("with a database server, runs the worker as a process of its own that issues, and stops it with the stack", async () => {
    pg = await startPostgres();
    const stack = await startTestStack({ DATABASE_URL: pg.url }, { workerProcess: true });
    let pid: number | undefined;
    try {
      const cpuBefore = await stack.cpuUsage();
      expect(cpuBefore.workerProcess).toBeDefined();
      pid = stack.pids.workerProcess!;
      expect(ownWorker(pid)).toBe(true);
      const cert = await issueCertificate(stack, { recipient: "0x00000000000000000000000000000000000000a2", title: "Diploma from another process" });
      expect(cert.tokenId).toBeTruthy();
      expect((await stack.cpuUsage()).workerProcess!).toBeGreaterThan(cpuBefore.workerProcess!);
    } finally {
      await stack.cleanup();
    }
    expect(await settle(() => !alive(pid!), 10_000), "the worker process outlived the stack").toBe(true);
  });
});

/** A `node scripts/worker.ts` child of this process. */
function ownWorker(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("scripts/worker.ts");
  } catch {
    return false;
  }
}
