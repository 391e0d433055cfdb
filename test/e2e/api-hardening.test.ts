import type { Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../server/app.ts";
import { startTestStack } from "../support/stack.ts";

const GQL_RESPONSE = "application/graphql-response+json";
type Body = { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };

// Limits lowered so that a few lines of GraphQL cross each of them; the defaults are in core/config.ts.
const LIMITS = {
  GRAPHQL_MAX_DEPTH: "3",
  GRAPHQL_MAX_COST: "50",
  GRAPHQL_MAX_ALIASES: "3",
  GRAPHQL_MAX_TOKENS: "200",
  GRAPHQL_MAX_DIRECTIVES: "3",
  GRAPHQL_MAX_BODY_BYTES: "65536",
  GRAPHQL_INTROSPECTION: "false",
};

describe("API limits and security", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let url: string;
  let auth: Record<string, string>;

  beforeAll(async () => {
    stack = await startTestStack(LIMITS);
    url = stack.devInfo.graphqlUrl;
    auth = { authorization: `Bearer ${stack.devInfo.apiKey}` };
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const post = (body: BodyInit, headers: Record<string, string> = {}, to = url) =>
    fetch(to, { method: "POST", headers: { "content-type": "application/json", accept: GQL_RESPONSE, ...auth, ...headers }, body });
  const postQuery = (query: string, headers: Record<string, string> = {}, to = url) => post(JSON.stringify({ query }), headers, to);
  const read = async (res: Response) => ({ status: res.status, body: (await res.json()) as Body });
  const codes = (body: Body) => body.errors?.map((e) => e.extensions?.code);

  /** Each limit answers 400 with its code, under either media type. */
  async function expectRefused(query: string, code: string) {
    for (const accept of [GQL_RESPONSE, "application/json"]) {
      const r = await read(await postQuery(query, { accept }));
      expect(r.status, `${code} under ${accept}`).toBe(400);
      expect(codes(r.body)).toContain(code);
      expect(r.body.data).toBeUndefined();
    }
  }

  describe("query limits", () => {
    it("lets an ordinary query through", async () => {
      const r = await read(await postQuery("{ viewer { name collections { id name } } }"));
      expect(r.status).toBe(200);
      expect(r.body.errors).toBeUndefined();
    });

    it("refuses a query nested deeper than GRAPHQL_MAX_DEPTH: MAX_DEPTH_EXCEEDED", async () => {
      await expectRefused(`{ issuance(id: "${crypto.randomUUID()}") { certificate { collection { name } } } }`, "MAX_DEPTH_EXCEEDED");
    });

    it("refuses a query costlier than GRAPHQL_MAX_COST: MAX_COST_EXCEEDED", async () => {
      // Each viewer { collections } is 1 + 10 assumed collections; webhooks 10 more: 4 × 11 + 10 = 54 > 50.
      const q = "{ viewer { collections { id } } a: viewer { collections { id } } b: viewer { collections { id } } c: viewer { collections { id } } webhooks { id } }";
      await expectRefused(q, "MAX_COST_EXCEEDED");
      const r = await read(await postQuery(q));
      expect(r.body.errors![0]!.extensions).toMatchObject({ cost: 54, maxCost: 50 });
    });

    it("refuses more aliases than GRAPHQL_MAX_ALIASES: MAX_ALIASES_EXCEEDED", async () => {
      await expectRefused("{ a: viewer { id } b: viewer { id } c: viewer { id } d: viewer { id } }", "MAX_ALIASES_EXCEEDED");
    });

    it("refuses more directives than GRAPHQL_MAX_DIRECTIVES: MAX_DIRECTIVES_EXCEEDED", async () => {
      await expectRefused("{ viewer { id @include(if: true) name @include(if: true) slug @include(if: true) @skip(if: false) } }", "MAX_DIRECTIVES_EXCEEDED");
    });

    it("refuses a document of more than GRAPHQL_MAX_TOKENS tokens before parsing it: MAX_TOKENS_EXCEEDED", async () => {
      await expectRefused(`{ viewer { ${"name ".repeat(300)} } }`, "MAX_TOKENS_EXCEEDED");
    });

    it("refuses introspection when GRAPHQL_INTROSPECTION=false, __typename still allowed: INTROSPECTION_DISABLED", async () => {
      await expectRefused("{ __schema { queryType { name } } }", "INTROSPECTION_DISABLED");
      await expectRefused('{ __type(name: "Query") { name } }', "INTROSPECTION_DISABLED");
      const r = await read(await postQuery("{ __typename }"));
      expect(r).toEqual({ status: 200, body: { data: { __typename: "Query" } } });
    });
  });

  describe("request shape", () => {
    it("refuses a body larger than GRAPHQL_MAX_BODY_BYTES with 413", async () => {
      const big = JSON.stringify({ query: "query($x: JSON) { __typename }", variables: { x: "a".repeat(70_000) } });
      const r = await read(await post(big));
      expect(r.status).toBe(413);
      expect(codes(r.body)).toEqual(["REQUEST_ENTITY_TOO_LARGE"]);
    });

    it("refuses a large body sent without Content-Length (chunked) with 413", async () => {
      const chunk = new TextEncoder().encode(`{"query":"{ __typename }","variables":{"x":"${"a".repeat(70_000)}"}}`);
      const stream = new ReadableStream({
        start(c) {
          c.enqueue(chunk);
          c.close();
        },
      });
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: GQL_RESPONSE }, body: stream, duplex: "half" } as RequestInit);
      expect(res.status).toBe(413);
    });

    it("refuses a batch (a JSON array body): BATCHING_NOT_SUPPORTED", async () => {
      const r = await read(await post(JSON.stringify([{ query: "{ __typename }" }, { query: "{ __typename }" }])));
      expect(r.status).toBe(400);
      expect(codes(r.body)).toEqual(["BATCHING_NOT_SUPPORTED"]);
    });
  });

  describe("CSRF prevention", () => {
    const simple = [
      ["text/plain", JSON.stringify({ query: "{ __typename }" })],
      ["application/x-www-form-urlencoded", "query=%7B__typename%7D"],
      ["multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"{ __typename }"}\r\n--x--\r\n'],
    ] as const;

    it("refuses what a browser sends cross-site without a preflight: CSRF_PREVENTED", async () => {
      for (const [type, body] of simple) {
        const r = await read(await fetch(url, { method: "POST", headers: { "content-type": type, ...auth }, body }));
        expect(r.status, type).toBe(400);
        expect(codes(r.body)).toEqual(["CSRF_PREVENTED"]);
      }
      const get = await read(await fetch(`${url}?query=${encodeURIComponent("{ __typename }")}`, { headers: { accept: "application/json" } }));
      expect(get.status).toBe(400);
      expect(codes(get.body)).toEqual(["CSRF_PREVENTED"]);
    });

    it("accepts the same requests with a CSRF header", async () => {
      for (const header of ["x-graphql-csrf", "apollo-require-preflight"]) {
        const get = await read(await fetch(`${url}?query=${encodeURIComponent("{ __typename }")}`, { headers: { accept: "application/json", [header]: "1" } }));
        expect(get, header).toEqual({ status: 200, body: { data: { __typename: "Query" } } });
      }
      const form = await read(await fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-graphql-csrf": "1" }, body: "query=%7B__typename%7D" }));
      expect(form).toEqual({ status: 200, body: { data: { __typename: "Query" } } });
    });
  });

  describe("rate limits", () => {
    // Two more servers on the same database and Redis, as two processes behind a load balancer would be.
    const servers: Server[] = [];
    const redisClients: Redis[] = [];
    const urls: string[] = [];
    let redis: Redis;
    const limits = { windowSeconds: 60, perInstitution: 3, perIp: 2, pagesPerIp: 0, credentialsPerIp: 0 };

    async function serve(client: Redis, config: Partial<typeof stack.config> = {}): Promise<string> {
      const app = createApp({
        config: { ...stack.config, rateLimit: limits, ...config },
        db: stack.db.db,
        ipfs: stack.ipfs,
        logger: stack.logger,
        provider: stack.provider,
        redis: client,
      });
      const server = app.listen(0, "127.0.0.1");
      await new Promise((ok) => server.once("listening", ok));
      servers.push(server);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    }

    beforeAll(async () => {
      redis = new Redis(stack.redisUrl, { maxRetriesPerRequest: 1 });
      redisClients.push(redis);
      for (let i = 0; i < 2; i++) {
        const client = new Redis(stack.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
        await client.connect();
        redisClients.push(client);
        urls.push(await serve(client));
      }
    });
    afterAll(async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((ok) => s.close(ok));
      }
      for (const c of redisClients) c.disconnect();
    });
    const clearCounts = async () => {
      const keys = await redis.keys("hallmark:rate-limit:*");
      if (keys.length) await redis.del(...keys);
    };

    it("counts an institution's requests across servers and answers 429 RATE_LIMITED with Retry-After over the limit", async () => {
      await clearCounts();
      const seen: (string | null)[] = [];
      for (const to of [urls[0]!, urls[1]!, urls[0]!]) {
        const res = await postQuery("{ viewer { name } }", {}, to);
        expect(res.status).toBe(200);
        expect(res.headers.get("ratelimit-limit")).toBe("3");
        seen.push(res.headers.get("ratelimit-remaining"));
        expect(Number(res.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
      }
      expect(seen).toEqual(["2", "1", "0"]);
      for (const accept of [GQL_RESPONSE, "application/json"]) {
        const res = await postQuery("{ viewer { name } }", { accept }, urls[1]!);
        expect(res.status).toBe(429);
        const retryAfter = Number(res.headers.get("retry-after"));
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect(res.headers.get("ratelimit-remaining")).toBe("0");
        const body = (await res.json()) as Body;
        expect(codes(body)).toEqual(["RATE_LIMITED"]);
        expect(body.errors![0]!.extensions!.retryAfterSeconds).toBe(retryAfter);
      }
    });

    it("counts requests without a valid API key per client address", async () => {
      await clearCounts();
      const anonymous = (key?: string) => postQuery("{ __typename }", { authorization: key ? `Bearer ${key}` : "" }, urls[0]!);
      expect((await anonymous()).status).toBe(200);
      // A wrong key is counted against the address too, so keys cannot be guessed at the institution limit's pace.
      expect((await anonymous("hm_AAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).status).toBe(401);
      const over = await anonymous();
      expect(over.status).toBe(429);
      expect(codes((await over.json()) as Body)).toEqual(["RATE_LIMITED"]);
      // The institution has its own count.
      expect((await postQuery("{ viewer { name } }", {}, urls[0]!)).status).toBe(200);
    });

    it("with TRUST_PROXY, counts per address the proxy names in X-Forwarded-For", async () => {
      await clearCounts();
      const to = await serve(redisClients[1]!, { trustProxy: "loopback" });
      const from = (ip: string) => postQuery("{ __typename }", { authorization: "", "x-forwarded-for": ip }, to);
      expect((await from("203.0.113.1")).status).toBe(200);
      expect((await from("203.0.113.1")).status).toBe(200);
      expect((await from("203.0.113.1")).status).toBe(429);
      expect((await from("203.0.113.2")).status).toBe(200);
    });

    it("the stack's own server counts in its Redis too", async () => {
      await clearCounts();
      const res = await postQuery("{ viewer { name } }");
      expect(res.headers.get("ratelimit-limit")).toBe(String(stack.config.rateLimit.perInstitution));
      expect(await redis.keys("hallmark:rate-limit:institution:*")).toHaveLength(1);
    });

    it("lets requests through when Redis cannot be reached", async () => {
      const dead = new Redis("redis://127.0.0.1:1", { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
      dead.on("error", () => {});
      redisClients.push(dead);
      const to = await serve(dead);
      for (let i = 0; i < 4; i++) expect((await postQuery("{ viewer { name } }", {}, to)).status).toBe(200);
    });
  });

  // Last: it breaks the database under the running stack.
  describe("error masking", () => {
    it("answers an internal error without its message, SQL, stack or addresses", async () => {
      await stack.db.db.execute(sql`ALTER TABLE collections RENAME TO collections_hidden`);
      try {
        const res = await postQuery("{ viewer { name collections { id } } }");
        const text = await res.text();
        const body = JSON.parse(text) as Body;
        expect(body.errors).toHaveLength(1);
        expect(body.errors![0]).toMatchObject({ message: "Unexpected error.", path: ["viewer", "collections"], extensions: { code: "INTERNAL_SERVER_ERROR" } });
        expect(Object.keys(body.errors![0]!.extensions!)).toEqual(["code"]);
        for (const leak of [/collections_hidden/i, /from/i, /select/i, /relation/i, /\.ts:\d+/, /stack/i, /127\.0\.0\.1/, /localhost/]) {
          expect(text, String(leak)).not.toMatch(leak);
        }
      } finally {
        await stack.db.db.execute(sql`ALTER TABLE collections_hidden RENAME TO collections`);
      }
    });
  });

  it("keeps an idle keep-alive connection open past Node's 5 s default, so a pooled client's next request is answered", async () => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    const answers: string[] = [];
    let buffer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf("\r\n\r\n"); end >= 0; end = buffer.indexOf("\r\n\r\n")) {
        const head = buffer.slice(0, end);
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) break;
        answers.push(head.split("\r\n")[0]!);
        buffer = buffer.slice(end + 4 + length);
      }
    });
    let closedAt: number | undefined;
    socket.on("close", () => (closedAt = Date.now()));
    try {
      const ask = () => socket.write(`GET /ipfs/not-a-cid HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`);
      await new Promise((ok) => socket.once("connect", ok));
      ask();
      await expect.poll(() => answers.length, { timeout: 5_000 }).toBe(1);
      await new Promise((ok) => setTimeout(ok, 6_000));
      expect(closedAt, "the server closed the idle connection").toBeUndefined();
      ask();
      await expect.poll(() => answers.length, { timeout: 5_000 }).toBe(2);
      expect(answers).toEqual(["HTTP/1.1 400 Bad Request", "HTTP/1.1 400 Bad Request"]);
    } finally {
      socket.destroy();
    }
  }, 20_000);
});
