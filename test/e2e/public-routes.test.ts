import { request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../server/app.ts";
import { startTestStack } from "../support/stack.ts";

/**
 * The class, not the instance: every route the express app registers (its own and those of mounted routers) is found
 * from the route table and must answer with the security headers, be rate-limited per client, and answer malformed
 * or unknown ids without internals. A route added later is walked too.
 */

interface Route {
  method: string;
  path: string;
}

type Layer = { route?: { path: string | string[]; methods: Record<string, boolean> }; handle?: { stack?: Layer[] }; name?: string };

/** Express 5's route table: routes on the app and, recursively, in routers it mounts with `app.use`. */
function routeTable(app: Express): Route[] {
  const out: Route[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const method of Object.keys(layer.route.methods)) for (const path of paths) out.push({ method: method.toUpperCase(), path });
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}

/** A concrete URL for a route, with every parameter filled by `fill`. */
function urlOf(path: string, fill: (name: string) => string): string {
  return path.replace(/[:*]([A-Za-z]+)/g, (_m, name: string) => fill(name));
}

const MALFORMED: Record<string, string> = { id: "not-an-id", cid: "not-a-cid", contract: "0xnope", editionId: "x1", path: "x", collectionId: "not-a-uuid", slug: "Not_A_Slug", digest: "0xnope" };
const UNKNOWN: Record<string, string> = {
  id: randomUUID(),
  cid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
  contract: "0x000000000000000000000000000000000000dEaD",
  editionId: "987654321",
  path: "nothing-here",
  collectionId: randomUUID(),
  purpose: "revocation",
  slug: "no-such-institution",
  digest: `0x${"ab".repeat(32)}`,
};

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request from a chosen loopback address, so several clients can be told apart by the server. */
function send(base: string, route: Route, url: string, from: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const post = route.method === "POST";
    const body = post ? (route.path === "/graphql" ? JSON.stringify({ query: "{ __typename }" }) : "{}") : undefined;
    const req = httpRequest(
      `${base}${url}`,
      {
        method: route.method,
        localAddress: from,
        // The CSRF header lets GraphQL count the request (without it the request is refused before any counting).
        headers: { accept: "application/json", "x-graphql-csrf": "1", ...(post ? { "content-type": "application/json" } : {}) },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${route.method} ${url} timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** What an error answer must never contain: stack frames, SQL, file paths, driver messages. */
const INTERNALS = /(\bat \S+ \(|\bat \S+:\d+|\.ts:\d+|node_modules|\/work\/|select |insert into|invalid input syntax|"stack"|Error: )/i;

const LIMIT = 3;

describe("every public route, from the app's route table", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let app: Express;
  let server: Server;
  let base: string;
  let routes: Route[];
  let client = 0;
  /** A fresh pair of loopback addresses per check, so counters never carry over between routes. */
  const nextClient = () => {
    client++;
    return [`127.0.${1 + (client >> 8)}.${client & 255 || 1}`, `127.1.${1 + (client >> 8)}.${client & 255 || 1}`] as const;
  };

  beforeAll(async () => {
    stack = await startTestStack();
    app = createApp({
      config: {
        ...stack.config,
        env: "development",
        corsOrigins: ["https://allowed.example"],
        rateLimit: { windowSeconds: 60, perInstitution: LIMIT, perIp: LIMIT, pagesPerIp: LIMIT, credentialsPerIp: LIMIT },
      },
      db: stack.db.db,
      ipfs: stack.ipfs,
      logger: stack.logger,
      provider: stack.provider,
    });
    server = app.listen(0, "127.0.0.1");
    await new Promise((ok) => server.once("listening", ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    routes = routeTable(app);
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
    await stack?.cleanup();
  });

  it("finds the routes of the app and of every mounted router", () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    for (const expected of ["GET /verify/:id", "GET /certificates/:id/credential", "GET /certificates/:id/print", "GET /holder", "POST /media", "GET /gallery/:contract/:editionId", "GET /ipfs/:cid", "GET /contracts/:chainId/:contract/contract.json", "GET /status-lists/:collectionId/:purpose"]) {
      expect(names).toContain(expected);
    }
    expect(routes.length).toBeGreaterThan(10);
  });

  it("answers every route, and what no route answers, with the browser hardening headers", async () => {
    const [from] = nextClient();
    for (const route of [...routes, { method: "GET", path: "/no/such/page" }]) {
      const answer = await send(base, route, urlOf(route.path, (n) => UNKNOWN[n] ?? "1"), from);
      const where = `${route.method} ${route.path} (${answer.status})`;
      expect(answer.headers["x-content-type-options"], where).toBe("nosniff");
      expect(String(answer.headers["content-security-policy"]), where).toMatch(/frame-ancestors 'none'/);
      expect(String(answer.headers["content-security-policy"]), where).toMatch(/default-src 'none'/);
      expect(answer.headers["x-frame-options"], where).toBe("DENY");
      expect(answer.headers["referrer-policy"], where).toBe("no-referrer");
      expect(answer.headers["x-request-id"], where).toBeTruthy();
    }
  });

  it("rate-limits every route per client: 429 with Retry-After past the limit, another client unaffected", async () => {
    // The health check is left to load balancers, which probe it constantly.
    for (const route of routes.filter((r) => r.path !== "/healthz")) {
      const [hammer, other] = nextClient();
      const url = urlOf(route.path, (n) => UNKNOWN[n] ?? "1");
      const where = `${route.method} ${route.path}`;
      for (let i = 0; i < LIMIT; i++) expect((await send(base, route, url, hammer)).status, `${where} #${i + 1}`).not.toBe(429);
      const over = await send(base, route, url, hammer);
      expect(over.status, where).toBe(429);
      expect(Number(over.headers["retry-after"]), where).toBeGreaterThan(0);
      expect(over.body, where).not.toMatch(INTERNALS);
      expect((await send(base, route, url, other)).status, `${where}, another client`).not.toBe(429);
    }
  });

  it("answers malformed ids 400 and unknown ones 404 (or the route's own refusal), never 500 nor internals", async () => {
    for (const route of routes.filter((r) => /[:*]/.test(r.path))) {
      for (const [kind, values] of [["malformed", MALFORMED], ["unknown", UNKNOWN]] as const) {
        const [from] = nextClient();
        const answer = await send(base, route, urlOf(route.path, (n) => values[n] ?? "1"), from);
        const where = `${route.method} ${route.path} with ${kind} ids: ${answer.status} ${answer.body.slice(0, 200)}`;
        expect(answer.status, where).toBeLessThan(500 + (answer.status === 503 ? 100 : 0));
        if (answer.status < 300) continue;
        expect([400, 404, 301, 303, 308], where).toContain(answer.status);
        if (kind === "malformed") expect([400, 301], where).toContain(answer.status);
        expect(answer.body, where).not.toMatch(INTERNALS);
      }
    }
  });

  it("takes chainId:contract:tokenId on the credential route: an unknown token is 404 with a clean JSON body", async () => {
    const [from] = nextClient();
    const route = { method: "GET", path: "/certificates/:id/credential" };
    const ref = `${stack.config.chain.chainId}:${stack.devInfo.contracts.CertificateRegistry}:999999`;
    const answer = await send(base, route, `/certificates/${encodeURIComponent(ref)}/credential`, from);
    expect(answer.status, answer.body).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect(answer.body).not.toMatch(INTERNALS);
  });

  it("CORS: only allowlisted origins get credentials; a preflight from any other origin gets no grant", async () => {
    const preflight = (origin: string) =>
      fetch(`${base}/graphql`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    const evil = await preflight("https://evil.example");
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    expect(evil.headers.get("access-control-allow-credentials")).toBeNull();
    const good = await preflight("https://allowed.example");
    expect(good.status).toBe(204);
    expect(good.headers.get("access-control-allow-origin")).toBe("https://allowed.example");
    expect(good.headers.get("access-control-allow-credentials")).toBe("true");
    const post = await fetch(`${base}/graphql`, { method: "POST", headers: { origin: "https://evil.example", "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) });
    expect(post.headers.get("access-control-allow-origin")).toBeNull();
  });
});
