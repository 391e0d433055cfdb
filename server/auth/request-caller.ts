import type { Database } from "../../core/db/index.ts";
import type { Caller } from "./caller.ts";
import { authenticateApiKey } from "./api-keys.ts";

/**
 * The caller behind a request's `Authorization: Bearer <api key>`, looked up once per request (the rate limiter and
 * the GraphQL context both ask): `undefined` without the header, `null` for a key that is malformed, unknown,
 * revoked or expired.
 */
export type RequestCaller = (request: Request) => Promise<Caller | null | undefined>;

export function requestCaller(db: Database, opts: { operatorKeyHash?: string } = {}): RequestCaller {
  const seen = new WeakMap<Request, Promise<Caller | null | undefined>>();
  return (request) => {
    let found = seen.get(request);
    if (!found) {
      found = lookUp(db, request.headers.get("authorization"), opts.operatorKeyHash);
      seen.set(request, found);
    }
    return found;
  };
}

async function lookUp(db: Database, header: string | null, operatorKeyHash?: string): Promise<Caller | null | undefined> {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return (m && (await authenticateApiKey(db, m[1]!, { operatorKeyHash }))) || null;
}
