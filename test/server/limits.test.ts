import { getIntrospectionQuery, parse, type GraphQLError, specifiedRules, validate, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../core/config.ts";
import { schema } from "../../server/schema/index.ts";
import { countTokens, measureOperation, queryCost, queryLimitsRule, useQueryLimits, type QueryLimits } from "../../server/security/limits.ts";
import { isPreflighted } from "../../server/security/http.ts";
import { memoryRateLimitStore } from "../../server/security/rate-limit.ts";

const limits: QueryLimits = loadConfig({ NODE_ENV: "test" }).graphql;

function measure(query: string) {
  const doc = parse(query);
  return measureOperation(schema, doc, doc.definitions.find((d) => d.kind === "OperationDefinition") as OperationDefinitionNode);
}
function cost(query: string, variables?: Record<string, unknown>) {
  return queryCost(schema, parse(query), undefined, variables);
}
function codes(query: string, l: QueryLimits = limits) {
  return validate(schema, parse(query), [...specifiedRules, queryLimitsRule(l)]).map((e) => e.extensions.code);
}

describe("query limits", () => {
  it("measures depth from the root field, leaves included", () => {
    expect(measure("{ viewer { name } }").depth).toBe(2);
    expect(measure("{ issuance(id: 1) { certificate { collection { name } } } }").depth).toBe(4);
  });

  it("costs objects times enclosing list sizes; leaves are free", () => {
    // viewer 1 + collections: 10 assumed items × 1
    expect(cost("{ viewer { name collections { id name } } }")).toBe(11);
    // 1 verification + 1 certificate + 10 attributes + 10 checks
    expect(cost('{ verify(id: "x") { verdict certificate { attributes { name } } checks { name } } }')).toBe(22);
  });

  it("scores a connection's edges and nodes by its first/last, the default page when absent, the largest for an unset variable", () => {
    const node = "edges { node { id collection { name } } }"; // per item: edge 1 + certificate 1 + collection 1
    expect(cost(`{ certificates(first: 100) { ${node} pageInfo { hasNextPage } totalCount } }`)).toBe(1 + 100 * 3);
    expect(cost(`{ certificates(last: 7) { ${node} } }`)).toBe(1 + 7 * 3);
    expect(cost(`{ certificates { ${node} } }`)).toBe(1 + 20 * 3);
    expect(cost(`query($n: Int) { certificates(first: $n) { ${node} } }`)).toBe(1 + 100 * 3);
    expect(cost(`query($n: Int) { certificates(first: $n) { ${node} } }`, { n: 5 })).toBe(1 + 5 * 3);
    // Lists inside multiply by the page (connections are root fields in this schema): per certificate 1, its
    // edge 1 and 10 assumed revocations, at least 100 × what one node costs (11).
    expect(cost(`{ certificates(first: 100) { edges { node { revocations { id } } } } }`)).toBe(1 + 100 * (1 + 1 + 10));
    expect(cost(`{ certificates(first: 100) { edges { node { revocations { id } } } } }`)).toBeGreaterThanOrEqual(100 * 11);
  });

  it("scores nodes(ids:) by the number of ids, what each holds included", () => {
    const ids = Array.from({ length: 100 }, (_, i) => `"id${i}"`).join(",");
    expect(cost(`{ nodes(ids: [${ids}]) { id } }`)).toBe(100);
    expect(cost(`{ nodes(ids: [${ids}]) { ... on Issuance { certificate { collection { name } } } } }`)).toBe(300);
    expect(cost(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: ["a", "b", "c"] })).toBe(3);
  });

  it("refuses just over maxCost with MAX_COST_EXCEEDED (cost and maxCost in extensions), passes at it", async () => {
    const plugin = useQueryLimits({ ...limits, maxCost: 301 });
    const run = (query: string) => {
      let result: { errors?: GraphQLError[] } | undefined;
      plugin.onExecute!({ args: { schema, document: parse(query), variableValues: {} }, setResultAndStopExecution: (r: typeof result) => (result = r) } as never);
      return result?.errors?.[0];
    };
    const page = (n: number) => `{ certificates(first: ${n}) { edges { node { id collection { name } } } } }`;
    expect(run(page(100))).toBeUndefined(); // 301
    const err = run(`{ a: certificates(first: 100) { edges { node { id collection { name } } } } b: viewer { id } }`); // 302
    expect(err?.extensions).toMatchObject({ code: "MAX_COST_EXCEEDED", cost: 302, maxCost: 301, http: { status: 400 } });
    expect(err?.message).toMatch(/up to 302 objects; at most 301 allowed/);
    // A fragment bomb is refused whole rather than expanded.
    let bomb = "fragment F0 on Collection { id }\n";
    for (let i = 1; i <= 40; i++) bomb += `fragment F${i} on Collection { ...F${i - 1} ...F${i - 1} }\n`;
    expect(run(`{ viewer { collections { ...F40 } } }\n${bomb}`)?.extensions).toMatchObject({ code: "MAX_COST_EXCEEDED" });
  });

  it("counts fragments once however often they are spread, and follows them for depth", () => {
    const q = `query { issuance(id: 1) { ...A } }
      fragment A on Issuance { certificate { ...B } collection { id } }
      fragment B on Certificate { collection { name } }`;
    expect(measure(q)).toMatchObject({ depth: 4 });
    expect(cost(q)).toBe(4);
    // A fragment bomb: each level spreads the previous twice. Measured in linear time, cost doubling per level.
    let bomb = "fragment F0 on Collection { id }\n";
    for (let i = 1; i <= 40; i++) bomb += `fragment F${i} on Collection { ...F${i - 1} ...F${i - 1} }\n`;
    const started = Date.now();
    expect(measure(`{ viewer { collections { ...F40 } } }\n${bomb}`).depth).toBe(3);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("counts aliases and directives as if fragments were inlined", () => {
    const m = measure(`query Q @skip(if: false) { a: viewer { b: name ...N ...N } } fragment N on Institution { c: slug @include(if: true) }`);
    expect(m.aliases).toBe(4);
    expect(m.directives).toBe(3);
  });

  it("leaves introspection out of depth and cost", () => {
    expect(measure(getIntrospectionQuery())).toMatchObject({ depth: 0 });
    expect(cost(getIntrospectionQuery())).toBe(0);
    expect(codes(getIntrospectionQuery())).toEqual([]);
    expect(countTokens(getIntrospectionQuery(), limits.maxTokens)).toBeLessThan(limits.maxTokens);
  });

  it("reports each limit with its own code", () => {
    const deep = `{ issuance(id: 1) { certificate { collection { name } } } }`;
    expect(codes(deep, { ...limits, maxDepth: 3 })).toEqual(["MAX_DEPTH_EXCEEDED"]);
    expect(codes(`{ a: viewer { id } b: viewer { id } }`, { ...limits, maxAliases: 1 })).toEqual(["MAX_ALIASES_EXCEEDED"]);
    expect(codes(`{ viewer @skip(if: false) { id @skip(if: false) } }`, { ...limits, maxDirectives: 1 })).toEqual(["MAX_DIRECTIVES_EXCEEDED"]);
    expect(codes(`{ __schema { queryType { name } } }`, { ...limits, introspection: false })).toEqual(["INTROSPECTION_DISABLED"]);
    expect(codes(`{ __typename }`, { ...limits, introspection: false })).toEqual([]);
  });

  it("stops counting tokens past the limit", () => {
    expect(countTokens("{ a b c }", 100)).toBe(5);
    expect(countTokens(`{ ${"a ".repeat(10_000)} }`, 100)).toBe(101);
  });

  it("defaults: introspection off in production unless GRAPHQL_INTROSPECTION=true", () => {
    const prod = { NODE_ENV: "production", DATABASE_URL: "postgres://x/y", REDIS_URL: "redis://x", CHAIN_RPC_URL: "http://x", SIGNER_PRIVATE_KEY: `0x${"1".repeat(64)}`, PUBLIC_URL: "https://x", CUSTODY_SECRET: "c".repeat(64) };
    expect(loadConfig(prod).graphql.introspection).toBe(false);
    expect(loadConfig({ ...prod, GRAPHQL_INTROSPECTION: "true" }).graphql.introspection).toBe(true);
    expect(loadConfig({ NODE_ENV: "development" }).graphql.introspection).toBe(true);
  });

  it("reads TRUST_PROXY as express's trust proxy setting", () => {
    expect(loadConfig({}).trustProxy).toBeUndefined();
    expect(loadConfig({ TRUST_PROXY: "true" }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: "loopback, 10.0.0.0/8" }).trustProxy).toBe("loopback, 10.0.0.0/8");
  });
});

describe("CSRF prevention", () => {
  it("takes a request as preflighted by a non-simple content type or a CSRF header", () => {
    const h = (init: Record<string, string>) => new Headers(init);
    expect(isPreflighted(h({ "content-type": "application/json" }))).toBe(true);
    expect(isPreflighted(h({ "content-type": "application/json; charset=utf-8" }))).toBe(true);
    expect(isPreflighted(h({}))).toBe(false);
    expect(isPreflighted(h({ "content-type": "text/plain" }))).toBe(false);
    expect(isPreflighted(h({ "content-type": "Multipart/Form-Data; boundary=x" }))).toBe(false);
    expect(isPreflighted(h({ "content-type": "application/x-www-form-urlencoded" }))).toBe(false);
    expect(isPreflighted(h({ "content-type": "not a type" }))).toBe(false);
    expect(isPreflighted(h({ "content-type": "text/plain", "x-graphql-csrf": "1" }))).toBe(true);
    expect(isPreflighted(h({ "apollo-require-preflight": "true" }))).toBe(true);
    expect(isPreflighted(h({ "x-graphql-csrf": "" }))).toBe(false);
  });
});

describe("in-memory rate limit store", () => {
  it("counts per key in fixed windows", async () => {
    let now = 1_000;
    const store = memoryRateLimitStore(() => now);
    expect(await store.hit("a", 60_000)).toEqual({ count: 1, resetMs: 60_000 });
    now += 10_000;
    expect(await store.hit("a", 60_000)).toEqual({ count: 2, resetMs: 50_000 });
    expect((await store.hit("b", 60_000)).count).toBe(1);
    now += 50_000;
    expect(await store.hit("a", 60_000)).toEqual({ count: 1, resetMs: 60_000 });
  });
});
