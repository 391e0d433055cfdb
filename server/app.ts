import type { Provider } from "ethers";
import express, { type Express, type Request, type Response } from "express";
import { GraphQLError } from "graphql";
import { createYoga } from "graphql-yoga";
import type { Redis } from "ioredis";
import type { Config } from "../core/config.ts";
import type { Database } from "../core/db/index.ts";
import type { IpfsStore } from "../core/ipfs/index.ts";
import type { LiveFeed } from "../core/live/index.ts";
import type { Logger } from "../core/logger.ts";
import { createChainProvider } from "../core/chain/provider.ts";
import { credentialVerifierWith } from "../core/credentials/index.ts";
import { recordedIdentityProofs, dnsTxtLookup } from "../core/identity/domain-proof.ts";
import { localDidResolver, registryIssuerDids } from "../core/identity/issuer-identity.ts";
import { createVerifier, ipfsStoreSource, onChainIssuerRegistry, type ChainProviders } from "../core/verification/index.ts";
import { openCustody, type Custody } from "../core/custody/custody-secret.ts";
import { webhookSettingsOf } from "../core/webhooks/settings.ts";
import { requestCaller } from "./auth/request-caller.ts";
import { holderSessionToken, sessionOf } from "./auth/holder-auth.ts";
import { openSecret } from "../core/custody/sealed.ts";
import { smtpMailer, type Mailer } from "../core/mail/mailer.ts";
import { emailCodePolicy } from "../core/holders/email-sign-in.ts";
import type { Context } from "./context.ts";
import { ipfsGateway } from "./ipfs-gateway.ts";
import { mediaUploadRoutes } from "./media-upload.ts";
import { auditExportRoutes } from "./audit-export.ts";
import { recordHttpLatency, type HttpMetrics } from "./ops/http-metrics.ts";
import { contractMetadataRoutes } from "./pages/contract-metadata-routes.ts";
import { credentialRoutes } from "./pages/credential-routes.ts";
import { statusListRoutes } from "./pages/status-list-routes.ts";
import { oid4vciRoutes } from "./pages/oid4vci-routes.ts";
import { didRoutes } from "./pages/did-routes.ts";
import { galleryRoutes } from "./pages/gallery-routes.ts";
import { holderRoutes } from "./pages/holder-routes.ts";
import { verifyRoutes } from "./pages/verify-routes.ts";
import { anchoredRoutes } from "./pages/anchored-routes.ts";
import { schema } from "./schema/index.ts";
import { assignRequestId, errorHandler, notFound, sendError } from "./http-errors.ts";
import { corsAllowlist, graphiqlHeaders, securityHeaders } from "./security/headers.ts";
import type { LiveSink } from "../core/live/sink.ts";
import { securityPlugins } from "./security/index.ts";
import { useCompiledQueries } from "./compiled-queries.ts";
import { memoryRateLimitStore, rateLimitRoutes, redisRateLimitStore } from "./security/rate-limit.ts";

export interface ServerDeps {
  config: Config;
  db: Database;
  ipfs: IpfsStore;
  logger: Logger;
  /** JSON-RPC to the configured chain, for verification; made from `CHAIN_RPC_URL` when not given. */
  provider?: Provider;
  /** The issuer registry verification trusts, when not configured (the dev stack's own); see `config.chain.issuerRegistry`. */
  issuerRegistry?: string;
  /** Editions contracts shown on holders' pages besides `config.chain.collectibleContracts` (the dev stack's demo). */
  collectibleContracts?: string[];
  /** Where rate limits are counted, shared by every server process; without it each process counts its own. */
  redis?: Redis;
  /** Live state changes for GraphQL subscriptions (a Redis connection of its own; see `createLiveFeed`). */
  live?: LiveFeed;
  /** Where the server tells the state changes it makes itself (an approval releasing an operation); absent: none. */
  liveSink?: LiveSink;
  /** The custody secret's keys, when the process already made them (`openCustody`); else made here from config. */
  custody?: Custody;
  /** Where request latency is recorded (the ops listener's registry, `startOps`); absent: not recorded. */
  metrics?: HttpMetrics;
  /**
   * The origin institutions' platform-hosted DIDs are named after: PUBLIC_URL, else the address the server listens
   * on once it does (`serveApi`); absent here, PUBLIC_URL, else each request's own origin.
   */
  publicOrigin?: () => string | undefined;
  /** Outgoing e-mail; made from `config.mail` (SMTP_URL) when not given; neither: e-mail sign-in is off. */
  mailer?: Mailer;
  /** Routes only the development stack serves (its mailbox page); never set by `npm start`. */
  devRoutes?: express.Router;
}

export function createApp(deps: ServerDeps): Express {
  const provider = deps.provider ?? (deps.config.chain.rpcUrl ? createChainProvider(deps.config.chain.rpcUrl, deps.config.chain.chainId) : undefined);
  const chains: ChainProviders = (chainId) => (chainId === deps.config.chain.chainId ? provider : undefined);
  const documents = ipfsStoreSource(deps.ipfs);
  const issuerRegistry = deps.issuerRegistry ?? deps.config.chain.issuerRegistry;
  const collectibleContracts = [...new Set([...deps.config.chain.collectibleContracts, ...(deps.collectibleContracts ?? [])])];
  const issuers = issuerRegistry ? onChainIssuerRegistry(chains, { chainId: deps.config.chain.chainId, address: issuerRegistry }) : undefined;
  const identityProofs = recordedIdentityProofs(deps.db, { maxAgeDays: deps.config.domainProofs.maxAgeDays });
  const publicOrigin = deps.publicOrigin ?? (() => deps.config.publicUrl?.replace(/\/+$/, ""));
  const custody = deps.custody ?? openCustody(deps.config);
  const emailCodes = emailCodePolicy(deps.config.holderEmailCodesPerClient);
  const mailer = deps.mailer ?? (deps.config.mail.smtpUrl ? smtpMailer(deps.config.mail.smtpUrl, deps.config.mail.from) : undefined);
  // Its own institutions' DID documents come from the database: a posted credential never makes the server fetch.
  const credentials = credentialVerifierWith(localDidResolver(deps.db, publicOrigin, custody.keyring()));
  const verifier = createVerifier({
    db: deps.db,
    chains,
    documents,
    issuers,
    credentials,
    identityProofs,
    issuerDids: registryIssuerDids(deps.db, publicOrigin),
  });
  const dnsLookup = dnsTxtLookup({ servers: deps.config.dnsServers });
  const callers = requestCaller(deps.db, { operatorKeyHash: deps.config.operatorKeyHash });
  const webhooks = webhookSettingsOf(deps.config);
  const yoga = createYoga<{ req: Request; res: Response }, Context>({
    schema,
    plugins: [...securityPlugins({ config: deps.config, logger: deps.logger, callers, redis: deps.redis }), useCompiledQueries()],
    batching: false,
    multipart: false,
    maxRequestBodySize: deps.config.graphql.maxBodyBytes,
    graphqlEndpoint: "/graphql",
    graphiql: deps.config.graphiql,
    landingPage: false,
    // CORS is answered in front of every route, from the CORS_ORIGINS allowlist (Yoga's default echoes any origin).
    cors: false,
    maskedErrors: { isDev: deps.config.env === "development" },
    logging: false,
    context: async ({ request, req }): Promise<Context> => {
      const base = {
        db: deps.db,
        ipfs: deps.ipfs,
        logger: deps.logger,
        verifier,
        live: deps.live,
        liveSink: deps.liveSink,
        chain: provider,
        siwe: { origin: deps.config.publicUrl ?? new URL(request.url).origin, chainId: deps.config.chain.chainId },
        collectibleContracts,
        custody,
        webhooks,
        quotas: deps.config.quotas,
        identity: { publicOrigin: publicOrigin() ?? new URL(request.url).origin, dnsLookup, chainId: deps.config.chain.chainId, issuerRegistry },
        client: req?.ip ?? req?.socket.remoteAddress ?? "unknown",
        acceptLanguage: request.headers.get("accept-language") ?? undefined,
        emailCodes,
        mailer,
      };
      const holderToken = holderSessionToken(request.headers.get("authorization"));
      if (holderToken !== undefined) {
        const session = await sessionOf(deps.db, holderToken);
        if (session?.kind === "email") return { ...base, emailHolder: { holderKey: session.holderKey, email: openSecret(session.emailSealed, custody.keyring()) } };
        const holder = session?.address;
        if (!holder) {
          throw new GraphQLError("Invalid or expired holder session: sign in again", {
            extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": "Bearer" } } },
          });
        }
        return { ...base, holder };
      }
      const caller = await callers(request);
      if (caller === undefined) return base;
      if (!caller) {
        throw new GraphQLError("Invalid, expired or revoked API key", {
          extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": "Bearer" } } },
        });
      }
      return { ...base, caller };
    },
  });

  const app = express();
  app.disable("x-powered-by");
  if (deps.config.trustProxy !== undefined) app.set("trust proxy", deps.config.trustProxy);
  // Everything below, every route included, is answered through these: a route added later cannot forget them.
  if (deps.metrics) app.use(recordHttpLatency(deps.metrics, [yoga.graphqlEndpoint]));
  app.use(assignRequestId());
  app.use(securityHeaders());
  app.get("/healthz", (_req, res) => {
    res.json({ ok: true });
  });
  app.use(["/graphql", "/media"], corsAllowlist(deps.config.corsOrigins));
  const limits = deps.config.rateLimit;
  const store = deps.redis ? redisRateLimitStore(deps.redis, "hallmark:rate-limit:routes:") : memoryRateLimitStore();
  const refuse = (req: Request, res: Response, message: string) => sendError(req, res, 429, message, "RATE_LIMITED");
  const perClient = rateLimitRoutes({ bucket: "routes", limit: limits.pagesPerIp, windowSeconds: limits.windowSeconds, store, logger: deps.logger, refuse });
  // GraphQL counts its requests itself (per institution for API keys); see security/rate-limit.ts.
  app.use((req, res, next) => (req.path === yoga.graphqlEndpoint ? next() : perClient(req, res, next)));
  // A credential is signed on a cache miss: a tighter window of its own.
  app.use(
    "/certificates/:id/credential",
    rateLimitRoutes({ bucket: "credentials", limit: limits.credentialsPerIp, windowSeconds: limits.windowSeconds, store, logger: deps.logger, refuse }),
  );
  if (deps.config.graphiql) app.get(yoga.graphqlEndpoint, graphiqlHeaders());

  app.use(ipfsGateway(deps.ipfs));
  app.use(verifyRoutes({ verifier, publicUrl: deps.config.publicUrl }));
  app.use(anchoredRoutes({ db: deps.db, verifier, publicUrl: deps.config.publicUrl }));
  app.use(credentialRoutes({ db: deps.db, chains, documents, keyring: custody.keyring(), publicUrl: deps.config.publicUrl, publicOrigin }));
  app.use(oid4vciRoutes({ db: deps.db, chains, documents, keyring: custody.keyring(), custody, publicUrl: deps.config.publicUrl, publicOrigin }));
  app.use(statusListRoutes({ db: deps.db, keyring: custody.keyring(), publicUrl: deps.config.publicUrl, publicOrigin }));
  app.use(didRoutes({ db: deps.db, keyring: custody.keyring(), publicUrl: deps.config.publicUrl, publicOrigin }));
  app.use(
    holderRoutes({
      db: deps.db,
      verifier,
      chainId: deps.config.chain.chainId,
      publicUrl: deps.config.publicUrl,
      collectibles: { provider, ipfs: deps.ipfs, contracts: collectibleContracts },
      custody,
      mailer,
      emailCodes,
      logger: deps.logger,
    }),
  );
  app.use(auditExportRoutes({ db: deps.db, logger: deps.logger, callers }));
  app.use(mediaUploadRoutes({ db: deps.db, ipfs: deps.ipfs, quotas: deps.config.quotas, logger: deps.logger, callers, maxBytes: deps.config.media.maxBytes }));
  app.use(galleryRoutes({ chains, chainId: deps.config.chain.chainId, ipfs: deps.ipfs, publicUrl: deps.config.publicUrl, issuers, identityProofs }));
  app.use(contractMetadataRoutes({ db: deps.db, publicUrl: deps.config.publicUrl }));
  // Yoga is a Node request listener; express types it as neither middleware nor app.
  app.use(yoga.graphqlEndpoint, yoga as unknown as express.RequestHandler);
  if (deps.devRoutes) app.use(deps.devRoutes);
  app.use(notFound());
  app.use(errorHandler(deps.logger));
  return app;
}
