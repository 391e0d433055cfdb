import type { Request as ExpressRequest } from "express";
import type { Plugin } from "graphql-yoga";
import type { Redis } from "ioredis";
import type { Config } from "../../core/config.ts";
import type { Logger } from "../../core/logger.ts";
import type { RequestCaller } from "../auth/request-caller.ts";
import { useHttpGuards } from "./http.ts";
import { useQueryLimits } from "./limits.ts";
import { memoryRateLimitStore, redisRateLimitStore, useRateLimit } from "./rate-limit.ts";
import { useVariableErrorCodes } from "./variables.ts";

/**
 * The GraphQL endpoint's protections, in the order they run: CSRF prevention and protocol checks, the rate limit,
 * then the query limits; variables that do not fit their types are answered BAD_USER_INPUT. Request body size, batching and error masking are Yoga options set in `server/app.ts`.
 */
export function securityPlugins(deps: { config: Config; logger: Logger; callers: RequestCaller; redis?: Redis }): Plugin[] {
  const { config } = deps;
  if (!deps.redis && (config.rateLimit.perInstitution || config.rateLimit.perIp)) {
    deps.logger.warn("no Redis given to the server: rate limits are counted in this process only");
  }
  return [
    useHttpGuards(),
    useRateLimit({
      limits: config.rateLimit,
      store: deps.redis ? redisRateLimitStore(deps.redis) : memoryRateLimitStore(),
      logger: deps.logger,
      subject: async (request, serverContext) => {
        const caller = await deps.callers(request);
        if (caller) return { kind: "institution", id: caller.institutionId };
        const req = serverContext.req as ExpressRequest | undefined;
        return { kind: "ip", id: req?.ip ?? req?.socket.remoteAddress ?? "unknown" };
      },
    }),
    useQueryLimits(config.graphql),
    useVariableErrorCodes(),
  ];
}
