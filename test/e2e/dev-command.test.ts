import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dataDir = mkdtempSync(join(tmpdir(), "hallmark-dev-"));

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

/** Starts `node scripts/dev.ts` as a user would and waits until it says it is running. */
async function startDev(): Promise<Run> {
  const child = spawn(process.execPath, ["scripts/dev.ts"], {
    env: { ...process.env, HALLMARK_DATA_DIR: dataDir, PORT: "0", CHAIN_PORT: "0", LOG_LEVEL: "warn", NODE_ENV: "development" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const run: Run = { child, stdout: "", stderr: "", exited: new Promise((r) => child.once("exit", (code) => r(code))) };
  child.stdout!.on("data", (d) => (run.stdout += d));
  child.stderr!.on("data", (d) => (run.stderr += d));
  const deadline = Date.now() + 90_000;
  while (!run.stdout.includes("Press Ctrl-C to stop.")) {
    if (child.exitCode !== null) throw new Error(`dev exited early: ${run.stderr}`);
    if (Date.now() > deadline) throw new Error(`dev did not start: ${run.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return run;
}

function childPids(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("npm run dev", () => {
  const runs: Run[] = [];
  afterAll(() => {
    for (const r of runs) if (r.child.exitCode === null) r.child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  let first: { collectionId: string; apiKey: string };

  // Each starts `npm run dev` as a process (setup, contracts, embedded chain, Redis, the demo): 50 s on a busy machine.
  it("brings the platform up and writes .data/dev.json", { timeout: 150_000 }, async () => {
    const run = await startDev();
    runs.push(run);
    const info = JSON.parse(readFileSync(join(dataDir, "dev.json"), "utf8"));
    expect(Object.keys(info)).toEqual(expect.arrayContaining(["graphqlUrl", "apiKey", "collectionId", "rpcUrl", "contracts"]));
    expect(info.contracts.CertificateRegistry).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(run.stdout).toContain(info.apiKey);
    const res = await fetch(info.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${info.apiKey}` },
      body: JSON.stringify({ query: "{ viewer { name collections { id contractAddress } } }" }),
    });
    const body = await res.json();
    expect(body.data.viewer.collections).toEqual([{ id: info.collectionId, contractAddress: info.contracts.CertificateRegistry }]);
    // The chain answers plain JSON-RPC at rpcUrl, with the configured chain id.
    const rpc = await fetch(info.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    expect((await rpc.json()).result).toBe("0x7a69");
    // Mail goes to a local sink, shown on /dev/mail: a sign-in code for an address a certificate was issued to.
    const base = info.graphqlUrl.replace(/\/graphql$/, "");
    const issued = await fetch(info.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${info.apiKey}` },
      body: JSON.stringify({
        query: `mutation { issueCertificate(input: { collectionId: "${info.collectionId}", holderReference: "visitor@example.org", title: "Visit", idempotencyKey: "dev-mail" }) { ... on IssueCertificatePayload { created } } }`,
      }),
    });
    expect((await issued.json()).data.issueCertificate.created).toBe(true);
    const asked = await fetch(`${base}/holder/email/code`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: "visitor@example.org" }) });
    expect(asked.status).toBe(200);
    expect(run.stdout + run.stderr).toContain(`${base}/dev/mail`);
    const deadline = Date.now() + 10_000;
    let mailbox = "";
    while (!/\d{6} is your Hallmark sign-in code/.test(mailbox) && Date.now() < deadline) {
      mailbox = await (await fetch(`${base}/dev/mail`)).text();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(mailbox).toMatch(/\d{6} is your Hallmark sign-in code/);
    expect(mailbox).toContain("visitor@example.org");
    first = info;
  });

  it("stops everything on Ctrl-C, its redis-server included", async () => {
    const run = runs[0]!;
    const children = childPids(run.child.pid!);
    expect(children.length).toBeGreaterThan(0);
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(children.filter(alive)).toEqual([]);
  });

  it("says so when it restarts on a fresh embedded chain, and keeps no certificates the chain lacks", { timeout: 150_000 }, async () => {
    const run = await startDev();
    runs.push(run);
    expect(run.stderr).toMatch(/keeps no state across restarts/);
    const info = JSON.parse(readFileSync(join(dataDir, "dev.json"), "utf8"));
    expect(info.collectionId).not.toBe(first.collectionId);
    // The old key belonged to the cleared database.
    const old = await fetch(info.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${first.apiKey}` },
      body: JSON.stringify({ query: "{ viewer { name } }" }),
    });
    expect(old.status).toBe(401);
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
  });
});
