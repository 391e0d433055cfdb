import type { Router } from "express";
import type { Mailer } from "../core/mail/mailer.ts";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import type { Booted } from "../core/boot/index.ts";
import type { Config } from "../core/config.ts";
import { createLiveFeed, createLivePublisher } from "../core/live/index.ts";
import type { Logger } from "../core/logger.ts";
import { createApp } from "./app.ts";
import { startOps, type RunningOps } from "./ops/start-ops.ts";

/** How long an idle keep-alive connection stays open: longer than the common load balancers' 60 s. */
export const KEEP_ALIVE_MS = 65_000;

export interface ServingApi {
  server: Server;
  port: number;
  /** The ops listener (`/healthz`, `/readyz`, `/metrics`) when OPS_PORT is set; a no-op otherwise. */
  ops: RunningOps;
  /** Stops accepting connections and waits for the requests in flight; idle keep-alive connections are closed at once. */
  stopAccepting(): Promise<void>;
  /** Drops whatever connections are left (open subscriptions) and the server's Redis connections. */
  close(): Promise<void>;
}

/**
 * The API server on what boot opened: its rate limits counted in Redis, its subscriptions fed by the workers' live
 * status. `npm start` and the dev stack both serve through here.
 */
export async function serveApi(opts: {
  config: Config;
  logger: Logger;
  booted: Booted;
  issuerRegistry?: string;
  collectibleContracts: string[];
  /** What the ops listener reports: the API's own view ("api"), or the worker's too when it runs in this process ("all"). */
  opsRole: "api" | "all";
  /** The signing keys' addresses whose transactions in flight are reported. */
  signers: string[];
  /** Outgoing e-mail when not from SMTP_URL (the development stack's sink). */
  mailer?: Mailer;
  /** Routes only the development stack serves. */
  devRoutes?: Router;
}): Promise<ServingApi> {
  const { config, logger, booted } = opts;
  // A command that cannot run at once fails and the request passes.
  const serverRedis = new Redis(booted.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1_000 });
  serverRedis.on("error", (err) => logger.debug({ err: String(err) }, "server redis connection"));
  // Subscriptions hear the workers' state changes on a connection of their own (a subscriber sends nothing else).
  const liveRedis = new Redis(booted.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  liveRedis.on("error", (err) => logger.debug({ err: String(err) }, "server live status redis connection"));
  const live = createLiveFeed(liveRedis, logger);
  // State changes the server makes itself (approvals releasing operations) are published as the workers' are.
  const livePublisher = createLivePublisher({ redis: serverRedis, db: booted.db.db, logger });
  let server: Server | undefined;
  // Without PUBLIC_URL, institutions' DIDs are named after the address the server listens on.
  let listeningOrigin: string | undefined;
  let ops: RunningOps | undefined;
  const releaseRedis = async () => {
    await ops?.close().catch(() => {});
    await live.close().catch(() => {});
    await livePublisher.settled().catch(() => {});
    serverRedis.disconnect();
  };
  try {
    await serverRedis.connect();
    await liveRedis.connect();
    // Health, readiness and metrics on a port of their own (OPS_PORT); nothing when it is unset.
    ops = await startOps({ config, role: opts.opsRole, db: booted.db.db, redisUrl: booted.redisUrl, provider: booted.provider, ipfs: booted.ipfs, logger, signers: opts.signers });
    const app = createApp({
      config,
      db: booted.db.db,
      ipfs: booted.ipfs,
      logger,
      provider: booted.provider,
      issuerRegistry: opts.issuerRegistry,
      collectibleContracts: opts.collectibleContracts,
      redis: serverRedis,
      live,
      liveSink: livePublisher,
      custody: booted.custody,
      metrics: ops.httpMetrics,
      publicOrigin: () => config.publicUrl?.replace(/\/+$/, "") ?? listeningOrigin,
      mailer: opts.mailer,
      devRoutes: opts.devRoutes,
    });
    server = app.listen(config.port, config.host);
    // Load balancers and pooled clients keep idle connections for about a minute (AWS ALB 60 s, nginx upstream
    // keep-alive): with Node's 5 s default the server closes them first, and a request sent as one closes fails with
    // "socket hang up" (a 502 behind a balancer). The server outlasts them instead; a draining server still closes.
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.headersTimeout = KEEP_ALIVE_MS + 1_000;
    await new Promise<void>((ok, fail) => {
      server!.once("listening", ok);
      server!.once("error", fail);
    });
    const { port } = server.address() as AddressInfo;
    listeningOrigin = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  } catch (err) {
    server?.close();
    await releaseRedis();
    throw err;
  }
  const listening = server;
  const runningOps = ops!;
  let closing: Promise<void> | undefined;
  const stopAccepting = () =>
    (closing ??= new Promise<void>((ok) => {
      // A client holding a keep-alive connection (a load balancer, a pooled fetch) would otherwise keep sending to a
      // draining server: every answer from now on closes its connection.
      listening.on("request", (_req, res) => {
        if (!res.headersSent) res.setHeader("connection", "close");
      });
      listening.close(() => ok());
      listening.closeIdleConnections();
    }));
  return {
    server: listening,
    port: (listening.address() as AddressInfo).port,
    ops: runningOps,
    stopAccepting,
    async close() {
      const stopped = stopAccepting();
      listening.closeAllConnections();
      await stopped;
      await releaseRedis();
    },
  };
}
