import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack } from "../support/stack.ts";

// GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/): media types, methods and status codes.
const GQL_RESPONSE = "application/graphql-response+json";

type Body = { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };

describe("GraphQL over HTTP", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let url: string;
  let auth: Record<string, string>;

  beforeAll(async () => {
    stack = await startTestStack();
    url = stack.devInfo.graphqlUrl;
    auth = { authorization: `Bearer ${stack.devInfo.apiKey}` };
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json", ...auth, ...headers }, body });
  const postQuery = (query: string, headers: Record<string, string> = {}, variables?: object) => post(JSON.stringify({ query, variables }), headers);
  const get = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${url}?${new URLSearchParams(params)}`, { headers: { "x-graphql-csrf": "1", ...auth, ...headers } });
  const read = async (res: Response) => ({ status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as Body });
  const codes = (body: Body) => body.errors?.map((e) => e.extensions?.code);

  describe("media types", () => {
    it(`answers ${GQL_RESPONSE} to a client that accepts it`, async () => {
      const r = await read(await postQuery("{ viewer { name } }", { accept: `${GQL_RESPONSE}, application/json;q=0.9` }));
      expect(r.status).toBe(200);
      expect(r.type).toMatch(new RegExp(`^${GQL_RESPONSE.replace("+", "\\+")}`));
      expect(r.body.data).toEqual({ viewer: { name: expect.any(String) } });
    });

    it("answers application/json to a client that accepts only it, or anything (*/*, what fetch sends by default)", async () => {
      for (const headers of [{ accept: "application/json" }, { accept: "*/*" }]) {
        const r = await read(await postQuery("{ viewer { name } }", headers));
        expect(r.status).toBe(200);
        expect(r.type).toMatch(/^application\/json/);
      }
    });

    it("answers 406 to a client that accepts neither", async () => {
      const res = await postQuery("{ viewer { name } }", { accept: "application/xml" });
      expect(res.status).toBe(406);
    });

    it("refuses a body of an unsupported content type with 415", async () => {
      for (const type of ["application/xml", "text/plain"]) {
        const res = await fetch(url, { method: "POST", headers: { "content-type": type, "x-graphql-csrf": "1", ...auth }, body: "{ viewer { name } }" });
        const r = await read(res);
        expect(r.status, type).toBe(415);
        expect(codes(r.body)).toEqual(["UNSUPPORTED_MEDIA_TYPE"]);
      }
    });
  });

  describe("methods", () => {
    it("runs a query over GET", async () => {
      const r = await read(await get({ query: "query($n: Boolean!) { viewer { name @include(if: $n) } }", variables: JSON.stringify({ n: true }) }, { accept: GQL_RESPONSE }));
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ data: { viewer: { name: expect.any(String) } } });
    });

    it("refuses a mutation over GET with 405 and Allow: POST", async () => {
      const res = await get({ query: 'mutation { disableWebhook(id: "x") { ... on Webhook { id } ... on Error { __typename code message field } } }' }, { accept: GQL_RESPONSE });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
      expect(codes((await read(res)).body)).toEqual(["METHOD_NOT_ALLOWED"]);
      // The same under application/json: the method is wrong whatever the client accepts.
      expect((await get({ query: 'mutation { disableWebhook(id: "x") { ... on Webhook { id } ... on Error { __typename code message field } } }' }, { accept: "application/json" })).status).toBe(405);
    });

    it("serves GraphiQL to a browser's GET outside production, no CSRF header needed", async () => {
      const res = await fetch(url, { headers: { accept: "text/html" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await res.text()).toMatch(/graphiql/i);
    });

    it("refuses other methods with 405", async () => {
      const res = await fetch(url, { method: "PUT", headers: { "content-type": "application/json", ...auth }, body: JSON.stringify({ query: "{ viewer { name } }" }) });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toMatch(/GET.*POST|POST.*GET/);
    });
  });

  describe("status codes", () => {
    it(`answers 400 to an unparseable document under ${GQL_RESPONSE}, 200 under application/json`, async () => {
      const strict = await read(await postQuery("{ viewer { name ", { accept: GQL_RESPONSE }));
      expect(strict.status).toBe(400);
      expect(strict.body.data).toBeUndefined();
      expect(codes(strict.body)).toEqual(["GRAPHQL_PARSE_FAILED"]);
      const legacy = await read(await postQuery("{ viewer { name ", { accept: "application/json" }));
      expect(legacy.status).toBe(200);
      expect(codes(legacy.body)).toEqual(["GRAPHQL_PARSE_FAILED"]);
    });

    it(`answers 400 to an invalid document under ${GQL_RESPONSE}, 200 under application/json`, async () => {
      const strict = await read(await postQuery("{ viewer { nonsense } }", { accept: GQL_RESPONSE }));
      expect(strict.status).toBe(400);
      expect(codes(strict.body)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
      const legacy = await read(await postQuery("{ viewer { nonsense } }", { accept: "application/json" }));
      expect(legacy.status).toBe(200);
      expect(codes(legacy.body)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    });

    it("answers 400 to a body that is not JSON, or has no query", async () => {
      for (const accept of [GQL_RESPONSE, "application/json"]) {
        expect((await post("{ not json", { accept })).status, accept).toBe(400);
        const missing = await read(await post(JSON.stringify({ variables: {} }), { accept }));
        expect(missing.status, accept).toBe(400);
        expect(codes(missing.body)).toEqual(["BAD_REQUEST"]);
      }
    });

    it("answers 400 to variables that do not fit under " + GQL_RESPONSE, async () => {
      const r = await read(await postQuery("query($id: ID!) { issuance(id: $id) { id } }", { accept: GQL_RESPONSE }, {}));
      expect(r.status).toBe(400);
    });

    it("answers 200 with the error in the body when a field fails during execution", async () => {
      const r = await read(await postQuery('{ verify(id: "00000000-0000-4000-8000-000000000000") { verdict } }', { accept: GQL_RESPONSE }));
      expect(r.status).toBe(200);
      expect(codes(r.body)).toEqual(["NOT_FOUND"]);
    });

    it("answers 401 with WWW-Authenticate to an unknown API key", async () => {
      const res = await postQuery("{ viewer { name } }", { accept: GQL_RESPONSE, authorization: "Bearer hm_AAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      expect(codes((await read(res)).body)).toEqual(["UNAUTHENTICATED"]);
    });
  });
});
