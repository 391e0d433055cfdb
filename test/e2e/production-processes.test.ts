import { request } from "node:http";
import { join } from "node:path";
import { Wallet } from "ethers";
import { GraphQLClient, gql } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_KEYS, type EmbeddedChain } from "../../scripts/dev/chain.ts";
import type { EmbeddedRedis } from "../../scripts/dev/redis.ts";
import { within } from "../support/stage-fixture.ts";
import { type TestPostgres } from "../support/postgres.ts";
import { startProductionServices, type ProductionServices } from "../support/production-services.ts";
import { PlatformProcesses, type PlatformProcess } from "../support/platform-processes.ts";
import { waitFor } from "../support/stack.ts";

/**
 * `npm start`, `npm run worker` and `npm run migrate` as an operator runs them: child processes against a
 * PostgreSQL server, Redis and a JSON-RPC chain, with nothing embedded and no demo data.
 */
describe("production processes: migrate, start, worker, graceful shutdown", () => {
  let pg: TestPostgres;
  let redis: EmbeddedRedis;
  let chain: EmbeddedChain;
  let dir: string;
  let services: ProductionServices | undefined;
  const processes = new PlatformProcesses();
  let deployed: { institutionId: string; collectionId: string; issuerRegistry: string; apiKey: string };

  const env = (name: string, extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH,
    NODE_ENV: "test",
    LOG_LEVEL: "error",
    HALLMARK_DATA_DIR: join(dir, name),
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    CHAIN_RPC_URL: chain.rpcUrl,
    CHAIN_ID: "31337",
    DEPLOYER_PRIVATE_KEY: DEV_KEYS.deployer,
    SIGNER_PRIVATE_KEY: DEV_KEYS.minter,
    HOST: "127.0.0.1",
    PORT: "0",
    BATCH_WINDOW_MS: "50",
    ...(deployed ? { ISSUER_REGISTRY_ADDRESS: deployed.issuerRegistry } : {}),
    ...extra,
  });

  function run(script: string, name: string, extra: Record<string, string> = {}, args: string[] = []): PlatformProcess {
    return processes.run(script, env(name, extra), args);
  }

  const ready = (p: PlatformProcess, line: RegExp, what: string) => processes.ready(p, line, what);
  const startServer = (name: string, extra: Record<string, string> = {}) => processes.startServer(env(name, extra));

  beforeAll(async () => {
    services = await startProductionServices("hallmark-prod-");
    ({ pg, redis, chain, dir } = services);
  }, 60_000);

  afterAll(async () => {
    await processes.stopAll();
    await services?.stop();
  });

  it("the server and the worker refuse a database whose migrations are behind, naming npm run migrate", async () => {
    const server = run("scripts/start.ts", "server");
    const worker = run("scripts/worker.ts", "worker");
    expect(await within(server.exited, 30_000, "the server to refuse")).toBe(1);
    expect(await within(worker.exited, 30_000, "the worker to refuse")).toBe(1);
    for (const p of [server, worker]) {
      expect(p.stderr).toMatch(/migration\(s\) not applied \(0000_init, .*\)\. Run `npm run migrate`/);
    }
  });

  it("npm run migrate applies them", async () => {
    const migrate = run("scripts/migrate.ts", "migrate");
    expect(await within(migrate.exited, 30_000, "npm run migrate"), migrate.stderr).toBe(0);
    expect(migrate.stderr).toMatch(/database schema is up to date/);
  });

  it("after migrate, npm start serves GraphQL, npm run worker confirms what it issues, and a SIGTERMed worker leaves nothing unfinished", async () => {
    // The operator's contracts and a first institution, as `npm run deploy` records them; no demo.
    const args = ["--institution", "Production University", "--slug", "production-university", "--identity", "did:web:prod.example", "--collection", "Diplomas", "--symbol", "DIPL", "--out", join(dir, "deployments")];
    const deploy = run("scripts/deploy.ts", "deploy", {}, args);
    expect(await within(deploy.exited, 60_000, "npm run deploy"), deploy.stderr).toBe(0);
    deployed = JSON.parse(deploy.stdout);

    const worker = run("scripts/worker.ts", "worker");
    await ready(worker, /worker ready/, "the worker");
    const { port } = await startServer("server");
    const client = new GraphQLClient(`http://127.0.0.1:${port}/graphql`, { headers: { authorization: `Bearer ${deployed.apiKey}` } });
    // The development mailbox is not part of npm start.
    expect((await fetch(`http://127.0.0.1:${port}/dev/mail`)).status).toBe(404);
    const issue = async (key: string) => {
      const { issueCertificate } = await client.request<any>(
        gql`mutation ($input: IssueCertificateInput!) { issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id } } ... on Error { __typename code message } } }`,
        { input: { collectionId: deployed.collectionId, recipient: Wallet.createRandom().address, title: "MSc Operations", idempotencyKey: key } },
      );
      expect(issueCertificate.issuance, JSON.stringify(issueCertificate)).toBeDefined();
      return issueCertificate.issuance.id as string;
    };
    const confirmed = (id: string) =>
      waitFor(
        () => client.request<any>(gql`query ($id: ID!) { issuance(id: $id) { status certificate { tokenId } } }`, { id }),
        (r) => r.issuance.status === "CONFIRMED",
        60_000,
      );
    const first = await confirmed(await issue("production-1"));
    expect(first.issuance.certificate.tokenId).toBeTruthy();

    // SIGTERM with work just handed to it: the worker finishes or leaves it queued, and exits 0 within its bound.
    const second = await issue("production-2");
    const started = Date.now();
    worker.child.kill("SIGTERM");
    expect(await within(worker.exited, 15_000, "the worker to exit after SIGTERM"), worker.stdout).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    // Whatever it had not finished, the next worker does.
    const next = run("scripts/worker.ts", "worker");
    await ready(next, /worker ready/, "the restarted worker");
    expect((await confirmed(second)).issuance.certificate.tokenId).toBeTruthy();
    next.child.kill("SIGTERM");
    expect(await within(next.exited, 15_000, "the restarted worker to exit after SIGTERM"), next.stdout).toBe(0);
  });

  it("on SIGTERM the server stops accepting, still answers the request in flight, and exits 0", async () => {
    const { p, port } = await startServer("server");
    const body = JSON.stringify({ query: "{ __typename }" });
    // A request whose body is still arriving when the signal comes: in flight, not yet answered.
    const req = request({ host: "127.0.0.1", port, path: "/graphql", method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } });
    const answered = new Promise<{ status: number; text: string }>((ok, fail) => {
      req.on("response", (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => ok({ status: res.statusCode!, text }));
      });
      req.on("error", fail);
    });
    // Awaited below; should the test fail before that, its end is not also reported as an unhandled rejection.
    answered.catch(() => {});
    req.write(body.slice(0, 5));
    await new Promise((r) => setTimeout(r, 300));
    p.child.kill("SIGTERM");
    // Once the signal is handled the port takes no new connections.
    await within(
      (async () => {
        for (;;) {
          // A new connection each time (no pooled keep-alive socket): the question is whether the port still accepts.
          const refused = await new Promise<boolean>((ok) => {
            const probe = request({ host: "127.0.0.1", port, path: "/graphql?query=%7B__typename%7D", agent: false }, (res) => {
              res.resume();
              ok(false);
            });
            probe.on("error", () => ok(true));
            probe.end();
          });
          if (refused) return;
          await new Promise((r) => setTimeout(r, 100));
        }
      })(),
      10_000,
      "the server to stop accepting connections",
    );
    req.end(body.slice(5));
    const reply = await within(answered, 10_000, "the in-flight request's answer");
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ data: { __typename: "Query" } });
    expect(await within(p.exited, 15_000, "the server to exit after SIGTERM"), p.stdout).toBe(0);
  });

  it("past SHUTDOWN_TIMEOUT_MS the server exits 1, logging what was still running", async () => {
    const { p, port } = await startServer("server", { SHUTDOWN_TIMEOUT_MS: "1000" });
    // A request that never finishes arriving keeps the server from draining.
    const req = request({ host: "127.0.0.1", port, path: "/graphql", method: "POST", headers: { "content-type": "application/json", "content-length": "100" } });
    req.on("error", () => {});
    req.write("{");
    await new Promise((r) => setTimeout(r, 300));
    p.child.kill("SIGTERM");
    expect(await within(p.exited, 10_000, "the server to give up draining")).toBe(1);
    expect(p.stdout).toMatch(/still running: HTTP requests in flight/);
    req.destroy();
  });
});
