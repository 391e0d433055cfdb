import type { Request, RequestHandler } from "express";
import { Histogram, type Registry } from "prom-client";

export type HttpMetrics = Histogram<"method" | "route" | "status">;

export function createHttpMetrics(registry: Registry): HttpMetrics {
  return new Histogram({
    name: "hallmark_http_request_duration_seconds",
    help: "Time to answer an HTTP request on the public port, by method, route pattern and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
}

/**
 * Times every request and labels it with the express route pattern that answered it (`/verify/:id`), never the
 * URL: ids in labels would make a series per certificate. Handlers mounted without a route (GraphQL) are named
 * by their fixed mount path, given in `mounts`; anything else (a 404, a request refused before routing) is
 * `unmatched`.
 */
export function recordHttpLatency(metrics: HttpMetrics, mounts: readonly string[]): RequestHandler {
  return (req, res, next) => {
    const end = metrics.startTimer();
    res.once("finish", () => end({ method: req.method, route: routeOf(req, mounts), status: String(res.statusCode) }));
    next();
  };
}

function routeOf(req: Request, mounts: readonly string[]): string {
  // Every router is mounted at the root, so the route's own path is the whole pattern.
  const path = (req.route as { path?: string | string[] } | undefined)?.path;
  if (path !== undefined) return Array.isArray(path) ? path.join("|") : path;
  const url = req.originalUrl.split("?")[0]!;
  return mounts.find((m) => url === m || url.startsWith(`${m}/`)) ?? "unmatched";
}
