import { expect } from "vitest";

export type GraphQLBody<T = Record<string, unknown>> = {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
};

/** The selection every mutation in the tests adds, so a typed failure (a result union's `Error` member) is seen. */
export const ERROR_FIELDS = "... on Error { __typename code message field }";

export type TypedError = { __typename: string; code: string; message: string; field: string | null } & Record<string, unknown>;

/** The typed errors among a response's root fields (mutations answer expected failures as `Error` union members). */
export function typedErrors(data: unknown): TypedError[] {
  if (!data || typeof data !== "object") return [];
  return Object.values(data).filter(
    (v): v is TypedError => !!v && typeof v === "object" && typeof (v as TypedError).code === "string" && typeof (v as TypedError).__typename === "string" && (v as TypedError).__typename.endsWith("Error"),
  );
}

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
    /** The data, failing the test on any error, GraphQL error or typed. */
    async ok<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T> {
      const { body } = await raw<T>(query, variables);
      expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
      expect(typedErrors(body.data), JSON.stringify(body.data)).toEqual([]);
      return body.data as T;
    },
    /**
     * The first failure: a typed error (`typed: true`, its own fields in `extensions`) or else the first GraphQL
     * error; fails the test when there is none.
     */
    async fails(
      query: string,
      variables?: Record<string, unknown>,
    ): Promise<{ code: unknown; message: string; extensions: Record<string, unknown>; status: number; typed: boolean; typename?: string }> {
      const { status, body } = await raw(query, variables);
      const [typed] = typedErrors(body.data);
      if (typed) {
        expect(body.errors, "a typed error comes alone").toBeUndefined();
        const { __typename, message, ...fields } = typed;
        return { code: typed.code, message, extensions: fields, status, typed: true, typename: __typename };
      }
      expect(body.errors?.length, `expected an error, got ${JSON.stringify(body.data)}`).toBeGreaterThan(0);
      const e = body.errors![0]!;
      return { code: e.extensions?.code, message: e.message, extensions: e.extensions ?? {}, status, typed: false };
    },
  };
}

export type Failure = { code: unknown; message: string; field: unknown; typed: boolean; typename?: string; extensions: Record<string, unknown> };

/**
 * How a request made with a GraphQL client library failed: the typed error a mutation answered in its result
 * union (`typed: true`), or the GraphQL error the client threw. Fails the test when it succeeded.
 */
export async function failureOf(request: Promise<unknown>): Promise<Failure> {
  let data: unknown;
  try {
    data = await request;
  } catch (err) {
    const e = (err as { response?: { errors?: { message: string; extensions?: Record<string, unknown> }[] } }).response?.errors?.[0];
    if (!e) throw err;
    return { code: e.extensions?.code, message: e.message, field: e.extensions?.field, typed: false, extensions: e.extensions ?? {} };
  }
  const [typed] = typedErrors(data);
  expect(typed, `expected a failure, got ${JSON.stringify(data)}`).toBeDefined();
  const { __typename, message, ...fields } = typed!;
  return { code: typed!.code, message, field: typed!.field, typed: true, typename: __typename, extensions: fields };
}

/**
 * The `next` payloads of a GraphQL-over-SSE subscription (Yoga's distinct-connections mode), as they come: each the
 * data's `field`. `close` ends the stream; `done` settles when it has ended.
 */
export function subscribeOverSse(url: string, key: string, query: string, field: string) {
  const abort = new AbortController();
  const seen: any[] = [];
  const done = (async () => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query }),
      signal: abort.signal,
    });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return;
      buffer += chunk.value;
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
        if (data && /^event: next/m.test(block)) seen.push(JSON.parse(data).data?.[field]);
      }
    }
  })().catch(() => {});
  return { seen, close: () => abort.abort(), done };
}
