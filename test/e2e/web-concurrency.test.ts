import { execFileSync } from "node:child_process";
import { request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_KEYS, type EmbeddedChain } from "../../scripts/dev/chain.ts";
import type { EmbeddedRedis } from "../../scripts/dev/redis.ts";
import { parseWebConcurrency } from "../../server/web-concurrency.ts";
import { within } from "../support/stage-fixture.ts";
import { type TestPostgres } from "../support/postgres.ts";
import { startProductionServices, type ProductionServices } from "../support/production-services.ts";
import { PlatformProcesses } from "../support/platform-processes.ts";

/** Two consecutive free loopback ports (the ops ports of two server processes), the first of them. */
async function freePortPair(): Promise<number> {
  const bind = (port: number) =>
    new Promise<number | undefined>((ok) => {
      const s = createServer();
      s.once("error", () => ok(undefined));
      s.listen(port, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => ok(p));
      });
    });
  for (let i = 0; i < 20; i++) {
    const base = await bind(0);
    if (base && base < 65535 && (await bind(base + 1))) return base;
  }
  throw new Error("no two consecutive free ports");
}

/** A request on a fresh connection (no keep-alive: the cluster hands each new connection to one process). */
function send(port: number, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const headers = body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
    const req = request({ host: "127.0.0.1", port, path, method: body === undefined ? "GET" : "POST", headers, agent: false }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => ok({ status: res.statusCode!, text }));
    });
    req.on("error", fail);
    req.end(body);
  });
}

const get = (port: number, path: string) => send(port, path);

/** The GraphQL requests one process's ops listener has counted. */
function graphqlCount(metrics: string): number {
  return [...metrics.matchAll(/^hallmark_http_request_duration_seconds_count\{[^}]*route="\/graphql"[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("WEB_CONCURRENCY: npm start as several server processes on one port", () => {
  let pg: TestPostgres;
  let redis: EmbeddedRedis;
  let chain: EmbeddedChain;
  let dir: string;
  let services: ProductionServices | undefined;
  const processes = new PlatformProcesses();

  const env = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH,
    NODE_ENV: "test",
    LOG_LEVEL: "error",
    HALLMARK_DATA_DIR: join(dir, "server"),
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    CHAIN_RPC_URL: chain.rpcUrl,
    CHAIN_ID: "31337",
    // The server signs nothing; it reports this key's transactions in flight.
    SIGNER_PRIVATE_KEY: DEV_KEYS.minter,
    HOST: "127.0.0.1",
    PORT: "0",
    ...extra,
  });

  beforeAll(async () => {
    services = await startProductionServices("hallmark-web-concurrency-");
    ({ pg, redis, chain, dir } = services);
    const migrate = processes.run("scripts/migrate.ts", env());
    expect(await within(migrate.exited, 60_000, "npm run migrate"), migrate.stderr).toBe(0);
  }, 90_000);

  afterAll(async () => {
    await processes.stopAll();
    await services?.stop();
  });

  it("reads the setting: unset is one process, a whole number from 1 to 64 is that many, anything else is refused", () => {
    expect(parseWebConcurrency(undefined)).toBe(1);
    expect(parseWebConcurrency("")).toBe(1);
    expect(parseWebConcurrency("2")).toBe(2);
    expect(parseWebConcurrency("64")).toBe(64);
    for (const bad of ["0", "65", "-1", "1.5", "two", "2x"]) expect(parseWebConcurrency(bad), bad).toBeUndefined();
  });

  it("refuses a WEB_CONCURRENCY that is not a number of processes, and OPS_PORT=0 with more than one", async () => {
    const bad = processes.run("scripts/start.ts", env({ WEB_CONCURRENCY: "lots" }));
    expect(await within(bad.exited, 30_000, "the server to refuse WEB_CONCURRENCY")).toBe(1);
    expect(bad.stderr).toMatch(/WEB_CONCURRENCY: the number of server processes/);
    const anyOps = processes.run("scripts/start.ts", env({ WEB_CONCURRENCY: "2", OPS_PORT: "0" }));
    expect(await within(anyOps.exited, 30_000, "the server to refuse OPS_PORT=0")).toBe(1);
    expect(anyOps.stderr).toMatch(/OPS_PORT: a fixed port when WEB_CONCURRENCY is above 1/);
  });

  it("two processes share the port, each with its own ops listener on OPS_PORT + i; SIGTERM stops both and exits 0", async () => {
    const opsPort = await freePortPair();
    const { p, port } = await processes.startServer(env({ WEB_CONCURRENCY: "2", OPS_PORT: String(opsPort) }), 60_000);
    expect(p.stderr.match(/server ready on port/g)).toHaveLength(1);
    const workers = childrenOf(p.child.pid!);
    expect(workers).toHaveLength(2);

    const sent = 12;
    for (let i = 0; i < sent; i++) {
      const reply = await send(port, "/graphql", JSON.stringify({ query: "{ __typename }" }));
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text)).toEqual({ data: { __typename: "Query" } });
    }
    let counted = 0;
    for (const ops of [opsPort, opsPort + 1]) {
      expect((await get(ops, "/healthz")).status).toBe(200);
      expect((await get(ops, "/readyz")).status).toBe(200);
      const n = graphqlCount((await get(ops, "/metrics")).text);
      // The primary hands connections round-robin: both processes answered some.
      expect(n, `requests counted on ops port ${ops}`).toBeGreaterThan(0);
      counted += n;
    }
    // Each request is counted once, by the process that answered it.
    expect(counted).toBe(sent);

    p.child.kill("SIGTERM");
    expect(await within(p.exited, 20_000, "the server to exit after SIGTERM"), p.stdout).toBe(0);
    for (const pid of workers) expect(alive(pid), `server process ${pid}`).toBe(false);
    await expect(get(port, "/healthz")).rejects.toThrow();
  }, 90_000);

  it("a server process that dies stops the other and the primary exits 1, for the process manager to restart it whole", async () => {
    const { p } = await processes.startServer(env({ WEB_CONCURRENCY: "2" }), 60_000);
    const workers = childrenOf(p.child.pid!);
    expect(workers).toHaveLength(2);
    process.kill(workers[0]!, "SIGKILL");
    expect(await within(p.exited, 20_000, "the primary to exit after a server process died")).toBe(1);
    expect(alive(workers[1]!), "the other server process").toBe(false);
  }, 90_000);
});
