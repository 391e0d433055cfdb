import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { runReadiness, type ReadinessCheck } from "../../core/health/readiness.ts";
import type { Logger } from "../../core/logger.ts";

export interface OpsServer {
  /** `http://host:port`, the port the listener got (OPS_PORT=0 picks a free one). */
  url: string;
  close(): Promise<void>;
}

/**
 * The operations listener: `/healthz` (the process answers), `/readyz` (every dependency answers; 503 naming the
 * ones that do not) and `/metrics` (Prometheus text). It listens on its own host and port, off the public API, so
 * what it tells (dependency errors, key addresses, queue sizes) reaches only the network ops teams scrape from.
 */
export async function startOpsServer(opts: {
  host: string;
  port: number;
  checks: readonly ReadinessCheck[];
  checkTimeoutMs: number;
  metrics: Registry;
  logger: Logger;
}): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    const json = (status: number, body: unknown) => send(status, "application/json; charset=utf-8", JSON.stringify(body));
    if (req.method !== "GET" && req.method !== "HEAD") return json(405, { error: "only GET" });
    if (path === "/healthz") return json(200, { status: "ok" });
    if (path === "/readyz") {
      void runReadiness(opts.checks, opts.checkTimeoutMs).then(
        (report) => {
          if (!report.ready) opts.logger.warn({ failing: report.failing }, "not ready");
          json(report.ready ? 200 : 503, { status: report.ready ? "ready" : "unavailable", failing: report.failing, checks: report.checks });
        },
        (err) => json(500, { error: String(err) }),
      );
      return;
    }
    if (path === "/metrics") {
      void opts.metrics.metrics().then(
        (text) => send(200, opts.metrics.contentType, text),
        (err) => json(500, { error: String(err) }),
      );
      return;
    }
    json(404, { error: "not found: /healthz, /readyz, /metrics" });
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(opts.port, opts.host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
