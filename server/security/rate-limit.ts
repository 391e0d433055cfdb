import type { Request as ExpressRequest, RequestHandler, Response as ExpressResponse } from "express";
import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Redis } from "ioredis";
import type { Logger } from "../../core/logger.ts";

export interface RateLimits {
  /** Length of one fixed window. */
  windowSeconds: number;
  /** Requests per window for all API keys of one institution together; 0: unlimited. */
  perInstitution: number;
  /** Requests per window from one client address without a valid API key; 0: unlimited. */
  perIp: number;
}

/** Counts a hit in the current window of `key`: the count so far and the milliseconds until the window ends. */
export interface RateLimitStore {
  hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
}

// One round trip, atomic: the first hit of a window starts its expiry; a key somehow left without one gets it back.
const HIT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`;

/** Fixed windows in Redis, shared by every server process that uses the same Redis. */
export function redisRateLimitStore(redis: Redis, prefix = "hallmark:rate-limit:"): RateLimitStore {
  return {
    async hit(key, windowMs) {
      const [count, resetMs] = (await redis.eval(HIT_SCRIPT, 1, prefix + key, windowMs)) as [number, number];
      return { count, resetMs };
    },
  };
}

/** Fixed windows in this process only: for a server started without Redis (tests, tools). */
export function memoryRateLimitStore(now: () => number = Date.now): RateLimitStore {
  const windows = new Map<string, { count: number; endsAt: number }>();
  return {
    async hit(key, windowMs) {
      const t = now();
      let w = windows.get(key);
      if (!w || w.endsAt <= t) {
        if (windows.size > 100_000) for (const [k, v] of windows) if (v.endsAt <= t) windows.delete(k);
        w = { count: 0, endsAt: t + windowMs };
        windows.set(key, w);
      }
      w.count++;
      return { count: w.count, resetMs: w.endsAt - t };
    },
  };
}

/** Who a request is counted against: an institution (by its API key) or, without a valid key, the client address. */
export type RateLimitSubject = { kind: "institution"; id: string } | { kind: "ip"; id: string };

interface Outcome {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/**
 * Yoga plugin: counts every GraphQL request against its subject's window and refuses those over the limit with
 * 429 RATE_LIMITED and `Retry-After`. Every counted response carries `RateLimit-Limit`, `RateLimit-Remaining` and
 * `RateLimit-Reset` (seconds). When the store fails (Redis down) requests pass: the limit protects the service, it
 * must not take it down.
 */
export function useRateLimit(opts: {
  limits: RateLimits;
  store: RateLimitStore;
  subject: (request: Request, serverContext: Record<string, unknown>) => Promise<RateLimitSubject>;
  logger: Logger;
}): Plugin {
  const { limits, store, logger } = opts;
  const outcomes = new WeakMap<Request, Outcome>();
  const windowMs = limits.windowSeconds * 1000;
  return {
    async onRequestParse({ request, serverContext }) {
      const subject = await opts.subject(request, serverContext as Record<string, unknown>);
      const limit = subject.kind === "institution" ? limits.perInstitution : limits.perIp;
      if (!limit) return;
      let hit: { count: number; resetMs: number };
      try {
        hit = await store.hit(`${subject.kind}:${subject.id}`, windowMs);
      } catch (err) {
        logger.warn({ err: String(err) }, "rate limit store unavailable; request let through");
        return;
      }
      const outcome = { limit, remaining: Math.max(0, limit - hit.count), resetSeconds: Math.max(1, Math.ceil(hit.resetMs / 1000)) };
      outcomes.set(request, outcome);
      if (hit.count > limit) {
        const who = subject.kind === "institution" ? "this institution" : "this address";
        throw new GraphQLError(`Rate limit of ${limit} requests per ${limits.windowSeconds}s exceeded for ${who}; retry in ${outcome.resetSeconds}s`, {
          extensions: {
            code: "RATE_LIMITED",
            retryAfterSeconds: outcome.resetSeconds,
            http: { status: 429, headers: { "Retry-After": String(outcome.resetSeconds) } },
          },
        });
      }
    },
    onResponse({ request, response }) {
      const outcome = outcomes.get(request);
      if (!outcome) return;
      response.headers.set("RateLimit-Limit", String(outcome.limit));
      response.headers.set("RateLimit-Remaining", String(outcome.remaining));
      response.headers.set("RateLimit-Reset", String(outcome.resetSeconds));
    },
  };
}

/**
 * Express middleware: the same fixed windows for the routes outside GraphQL, per client address, under `bucket`
 * (routes with a costlier answer get a bucket of their own with a lower limit). Over the limit: 429 RATE_LIMITED with
 * `Retry-After`, as JSON or a page by `Accept` (through `refuse`). As for GraphQL, a failing store lets requests pass.
 */
export function rateLimitRoutes(opts: {
  bucket: string;
  limit: number;
  windowSeconds: number;
  store: RateLimitStore;
  logger: Logger;
  refuse: (req: ExpressRequest, res: ExpressResponse, message: string) => void;
}): RequestHandler {
  const windowMs = opts.windowSeconds * 1000;
  return async (req, res, next) => {
    if (!opts.limit) return next();
    const ip = req.ip ?? req.socket.remoteAddress ?? "unknown";
    let hit: { count: number; resetMs: number };
    try {
      hit = await opts.store.hit(`${opts.bucket}:ip:${ip}`, windowMs);
    } catch (err) {
      opts.logger.warn({ err: String(err) }, "rate limit store unavailable; request let through");
      return next();
    }
    const resetSeconds = Math.max(1, Math.ceil(hit.resetMs / 1000));
    res.set({ "RateLimit-Limit": String(opts.limit), "RateLimit-Remaining": String(Math.max(0, opts.limit - hit.count)), "RateLimit-Reset": String(resetSeconds) });
    if (hit.count <= opts.limit) return next();
    res.set("Retry-After", String(resetSeconds));
    opts.refuse(req, res, `Rate limit of ${opts.limit} requests per ${opts.windowSeconds}s exceeded for this address; retry in ${resetSeconds}s`);
  };
}
