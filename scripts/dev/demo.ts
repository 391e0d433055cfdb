import { existsSync, readFileSync } from "node:fs";
import { eq } from "drizzle-orm";
import type { Wallet } from "ethers";
import { deployCertificateRegistry } from "../../core/chain/deploy.ts";
import type { Database } from "../../core/db/index.ts";
import { collections, institutions } from "../../core/db/schema.ts";
import { authenticateApiKey, createApiKey, createOperatorKey } from "../../server/auth/api-keys.ts";

export interface DevInfo {
  graphqlUrl: string;
  apiKey: string;
  /** A platform operator key (scope `operator`): registers and suspends institutions, sets quotas, grants chain roles. */
  operatorKey: string;
  collectionId: string;
  rpcUrl: string;
  chainId: number;
  institutionId: string;
  /** IssuerRegistry: the operator's registry the verifier trusts (ISSUER_REGISTRY_ADDRESS, or the dev stack's own). */
  contracts: { CertificateRegistry: string; IssuerRegistry?: string; CollectibleEditions?: string };
}

const DEMO_SLUG = "demo-university";

/**
 * Makes sure the demo institution, its certificate collection (a registry deployed through the same code
 * path as `npm run deploy`) and an API key exist; reuses them when the database already has them.
 */
export async function ensureDemo(opts: {
  db: Database;
  deployer: Wallet;
  issuers: string[];
  chainId: number;
  devInfoPath: string;
}): Promise<Omit<DevInfo, "graphqlUrl" | "rpcUrl">> {
  const { db } = opts;
  let [institution] = await db.select().from(institutions).where(eq(institutions.slug, DEMO_SLUG));
  if (!institution) {
    [institution] = await db.insert(institutions).values({ name: "Demo University", slug: DEMO_SLUG }).returning();
  }
  let [collection] = await db.select().from(collections).where(eq(collections.institutionId, institution!.id));
  if (!collection) {
    const deployment = await deployCertificateRegistry(opts.deployer, {
      name: "Demo University Diplomas",
      symbol: "DEMO",
      admin: opts.deployer.address,
      issuers: opts.issuers,
    });
    [collection] = await db
      .insert(collections)
      .values({
        institutionId: institution!.id,
        name: "Demo University Diplomas",
        symbol: "DEMO",
        chainId: opts.chainId,
        contractAddress: deployment.address,
        deployTxHash: deployment.txHash,
        deployBlock: deployment.blockNumber,
      })
      .returning();
  }
  // A key is shown once; in development the last one is kept in dev.json and reused while it still works.
  let apiKey: string | undefined;
  let operatorKey: string | undefined;
  if (existsSync(opts.devInfoPath)) {
    const previous = JSON.parse(readFileSync(opts.devInfoPath, "utf8")) as Partial<DevInfo>;
    if (previous.apiKey && (await authenticateApiKey(db, previous.apiKey))?.institutionId === institution!.id) {
      apiKey = previous.apiKey;
    }
    if (previous.operatorKey && (await authenticateApiKey(db, previous.operatorKey))?.operator) operatorKey = previous.operatorKey;
  }
  apiKey ??= (await createApiKey(db, { institutionId: institution!.id, name: "dev", scopes: ["read", "issue", "admin"] })).key;
  operatorKey ??= (await createOperatorKey(db, "dev operator")).key;
  return {
    apiKey,
    operatorKey,
    collectionId: collection!.id,
    chainId: opts.chainId,
    institutionId: institution!.id,
    contracts: { CertificateRegistry: collection!.contractAddress! },
  };
}
