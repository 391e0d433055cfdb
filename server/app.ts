import type { Provider } from "ethers";
import express, { type Express, type Request, type Response } from "express";
import { GraphQLError } from "graphql";
import { createYoga } from "graphql-yoga";
import type { Config } from "../core/config.ts";
import type { Database } from "../core/db/index.ts";
import type { IpfsStore } from "../core/ipfs/index.ts";
import type { Logger } from "../core/logger.ts";
import { createChainProvider } from "../core/chain/provider.ts";
import { credentialVerifier } from "../core/credentials/index.ts";
import { createVerifier, ipfsStoreSource, onChainIssuerRegistry, type ChainProviders } from "../core/verification/index.ts";
import { authenticateApiKey } from "./auth/api-keys.ts";
import type { Context } from "./context.ts";
import { ipfsGateway } from "./ipfs-gateway.ts";
import { credentialRoutes } from "./pages/credential-routes.ts";
import { galleryRoutes } from "./pages/gallery-routes.ts";
import { holderRoutes } from "./pages/holder-routes.ts";
import { verifyRoutes } from "./pages/verify-routes.ts";
import { schema } from "./schema/index.ts";

export interface ServerDeps {
  config: Config;
  db: Database;
  ipfs: IpfsStore;
  logger: Logger;
  /** JSON-RPC to the configured chain, for verification; made from `CHAIN_RPC_URL` when not given. */
  provider?: Provider;
  /** The issuer registry verification trusts, when not configured (the dev stack's own); see `config.chain.issuerRegistry`. */
  issuerRegistry?: string;
}

export function createApp(deps: ServerDeps): Express {
  const provider = deps.provider ?? (deps.config.chain.rpcUrl ? createChainProvider(deps.config.chain.rpcUrl, deps.config.chain.chainId) : undefined);
  const chains: ChainProviders = (chainId) => (chainId === deps.config.chain.chainId ? provider : undefined);
  const documents = ipfsStoreSource(deps.ipfs);
  const issuerRegistry = deps.issuerRegistry ?? deps.config.chain.issuerRegistry;
  const issuers = issuerRegistry ? onChainIssuerRegistry(chains, { chainId: deps.config.chain.chainId, address: issuerRegistry }) : undefined;
  const verifier = createVerifier({ db: deps.db, chains, documents, issuers, credentials: credentialVerifier });
  const yoga = createYoga<{ req: Request; res: Response }, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    graphiql: deps.config.graphiql,
    landingPage: false,
    maskedErrors: { isDev: deps.config.env === "development" },
    logging: false,
    context: async ({ request }): Promise<Context> => {
      const base = { db: deps.db, ipfs: deps.ipfs, logger: deps.logger, verifier };
      const header = request.headers.get("authorization");
      if (!header) return base;
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      const caller = m ? await authenticateApiKey(deps.db, m[1]!) : undefined;
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
  app.get("/healthz", (_req, res) => {
    res.json({ ok: true });
  });
  app.use(ipfsGateway(deps.ipfs));
  app.use(verifyRoutes({ verifier, publicUrl: deps.config.publicUrl }));
  app.use(credentialRoutes({ db: deps.db, chains, documents, publicUrl: deps.config.publicUrl }));
  app.use(holderRoutes({ db: deps.db, verifier, chainId: deps.config.chain.chainId, publicUrl: deps.config.publicUrl }));
  app.use(galleryRoutes({ chains, chainId: deps.config.chain.chainId, ipfs: deps.ipfs, publicUrl: deps.config.publicUrl }));
  // Yoga is a Node request listener; express types it as neither middleware nor app.
  app.use(yoga.graphqlEndpoint, yoga as unknown as express.RequestHandler);
  return app;
}
