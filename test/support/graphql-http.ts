import { expect } from "vitest";

export type GraphQLBody<T = Record<string, unknown>> = {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
};

/** Posts GraphQL over HTTP with an optional bearer key, answering the status and body as they came. */
export function graphqlClient(url: string, key?: string) {
  async function raw<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: GraphQLBody<T> }> {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, body: (await res.json()) as GraphQLBody<T> };
  }
  return {
    raw,
    /** The data, failing the test on any error. */
    async ok<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T> {
      const { body } = await raw<T>(query, variables);
      expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
      return body.data as T;
    },
    /** The first error's code (and the whole error), failing the test when there is none. */
    async fails(query: string, variables?: Record<string, unknown>): Promise<{ code: unknown; message: string; extensions: Record<string, unknown>; status: number }> {
      const { status, body } = await raw(query, variables);
      expect(body.errors?.length, `expected an error, got ${JSON.stringify(body.data)}`).toBeGreaterThan(0);
      const e = body.errors![0]!;
      return { code: e.extensions?.code, message: e.message, extensions: e.extensions ?? {}, status };
    },
  };
}
