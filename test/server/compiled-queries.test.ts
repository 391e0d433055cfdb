import { GraphQLError, parse } from "graphql";
import { createSchema, createYoga } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { schema } from "../../server/schema/index.ts";
import { runsCompiled, useCompiledQueries } from "../../server/compiled-queries.ts";

const args = (query: string, variableValues?: Record<string, unknown>) => ({ schema, document: parse(query), variableValues });

describe("compiled queries", () => {
  it("compiles queries whose variables fit, and nothing else", () => {
    expect(runsCompiled(args("{ certificates(first: 100) { totalCount } }"))).toBe(true);
    expect(runsCompiled(args("query ($n: Int) { certificates(first: $n) { totalCount } }", { n: 5 }))).toBe(true);
    expect(runsCompiled(args("query ($n: Int) { certificates(first: $n) { totalCount } }", { n: "five" }))).toBe(false);
    expect(runsCompiled(args("query ($id: ID!) { certificate(id: $id) { id } }", {}))).toBe(false);
    expect(runsCompiled(args("mutation { __typename }"))).toBe(false);
    expect(runsCompiled(args("subscription { __typename }"))).toBe(false);
  });

  // A small schema of its own: what the compiled path answers is compared with graphql-js's answer for the same request.
  const yoga = (compiled: boolean) =>
    createYoga({
      schema: createSchema({
        typeDefs: `type Query { items(first: Int!): [Item!]! boom: Int oops: Int } type Item { n: Int! at: String! }`,
        resolvers: {
          Query: {
            items: (_: unknown, { first }: { first: number }) => Array.from({ length: first }, (_, n) => ({ n, at: new Date(n * 1000).toISOString() })),
            oops: () => {
              throw new Error("a detail the client must not see");
            },
            boom: () => {
              throw new GraphQLError("refused", { extensions: { code: "FORBIDDEN" } });
            },
          },
        },
      }),
      plugins: compiled ? [useCompiledQueries()] : [],
      maskedErrors: true,
      logging: false,
    });
  const answer = async (compiled: boolean, body: object) => {
    const res = await yoga(compiled).fetch("http://localhost/graphql", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };

  it("answers exactly as graphql-js: data, resolver errors with their codes, and refused variables", async () => {
    for (const body of [
      { query: "{ items(first: 3) { n at } }" },
      { query: "query Two {\n  items(first: 1) { n }\r\n  boom\n}" },
      { query: "query ($k: Int!) { items(first: $k) { n } boom }", variables: { k: 2 } },
      { query: "{ oops items(first: 1) { n } }" },
      { query: "query ($k: Int!) { items(first: $k) { n } }", variables: { k: "two" } },
    ]) {
      expect(await answer(true, body)).toEqual(await answer(false, body));
    }
    expect((await answer(true, { query: "{ boom }" })).body.errors[0].extensions.code).toBe("FORBIDDEN");
    expect(JSON.stringify((await answer(true, { query: "{ oops }" })).body)).not.toContain("detail");
  });
});
