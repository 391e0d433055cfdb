import { z } from "zod";
import { targetPolicy } from "./webhooks/target.ts";
import { parseSealingKeys } from "./custody/sealing-keys.ts";

/** Every setting the platform reads from the environment, parsed once at start. */
const schema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  HALLMARK_DATA_DIR: z.string().min(1).default(".data"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DATABASE_URL: z.url().optional(),
  REDIS_URL: z.url().optional(),
  IPFS_API_URL: z.url().optional(),
  CHAIN_RPC_URL: z.url().optional(),
  CHAIN_ID: z.coerce.number().int().positive().default(31337),
  CHAIN_PORT: z.coerce.number().int().min(0).max(65535).default(8545),
  CHAIN_CONFIRMATIONS: z.coerce.number().int().min(0).default(0),
  SIGNER_PRIVATE_KEY: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}(\s*,\s*0x[0-9a-fA-F]{64})*$/, "must be 32-byte hex private keys, separated by commas")
    .optional(),
  DEPLOYER_PRIVATE_KEY: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte hex private key").optional(),
  ADMIN_PRIVATE_KEY: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte hex private key").optional(),
  OPERATOR_API_KEY_HASH: z.string().regex(/^[0-9a-f]{64}$/, "must be the sha256 of the operator key, 64 lower-case hex digits").optional(),
  QUOTA_ISSUANCES_PER_MONTH: z.coerce.number().int().min(0).default(1_000_000),
  QUOTA_MAX_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(10_000),
  QUOTA_STORAGE_BYTES: z.coerce.number().int().min(0).default(10 * 1024 ** 3),
  ISSUER_REGISTRY_ADDRESS: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte hex address").optional(),
  COLLECTIBLE_CONTRACTS: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}(\s*,\s*0x[0-9a-fA-F]{40})*$/, "must be 20-byte hex addresses, separated by commas")
    .optional(),
  INDEXER_POLL_MS: z.coerce.number().int().positive().default(250),
  AUDIT_ANCHOR_INTERVAL_MS: z.coerce.number().int().min(1_000).default(3_600_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  WORKER_CONCURRENCY: z.coerce.number().int().positive().default(128),
  BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(150),
  BATCH_WINDOW_MS: z.coerce.number().int().min(0).default(100),
  MAX_IN_FLIGHT_PER_KEY: z.coerce.number().int().min(1).default(4),
  MEDIA_MAX_BYTES: z.coerce.number().int().min(1_024).default(20 * 1024 * 1024),
  TX_GAS_CAP: z.coerce.number().int().min(100_000).default(16_777_216),
  GRAPHIQL: z.enum(["true", "false"]).optional(),
  GRAPHQL_INTROSPECTION: z.enum(["true", "false"]).optional(),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).default(10),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).default(10_000),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).default(15),
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(1).default(1_000),
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(0).default(20),
  GRAPHQL_MAX_BODY_BYTES: z.coerce.number().int().min(1_024).default(16 * 1024 * 1024),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
  RATE_LIMIT_PER_INSTITUTION: z.coerce.number().int().min(0).default(1_200),
  RATE_LIMIT_PER_IP: z.coerce.number().int().min(0).default(300),
  RATE_LIMIT_PAGES_PER_IP: z.coerce.number().int().min(0).default(600),
  RATE_LIMIT_CREDENTIALS_PER_IP: z.coerce.number().int().min(0).default(30),
  CORS_ORIGINS: z
    .string()
    .refine(
      (v) => v.split(",").map((o) => o.trim()).filter(Boolean).every((o) => URL.canParse(o) && new URL(o).origin === o),
      "must be comma-separated origins (scheme://host[:port], no path or trailing slash)",
    )
    .optional(),
  TRUST_PROXY: z.string().optional(),
  WEBHOOK_TARGETS: z.enum(["public", "any"]).optional(),
  WEBHOOK_ALLOWED_HOSTS: z.string().optional(),
  WEBHOOK_MAX_ENDPOINTS: z.coerce.number().int().min(0).default(10),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).default(32),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  WEBHOOK_CIRCUIT_FAILURES: z.coerce.number().int().min(1).default(5),
  SMTP_URL: z
    .string()
    .refine((v) => URL.canParse(v) && ["smtp:", "smtps:"].includes(new URL(v).protocol), "must be an smtp:// or smtps:// URL (smtp://user:password@host:587)")
    .optional(),
  MAIL_FROM: z.string().min(3).optional(),
  HOLDER_EMAIL_CODES_PER_CLIENT: z.coerce.number().int().min(0).default(30),
  CUSTODY_SECRET: z.string().min(32, "must be at least 32 characters (e.g. `openssl rand -hex 32`)").optional(),
  SEALING_KEYS: z.string().optional(),
  OPS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  OPS_HOST: z.string().min(1).default("127.0.0.1"),
  OPS_CHECK_TIMEOUT_MS: z.coerce.number().int().min(50).default(2_000),
  CHAIN_HEAD_MAX_AGE_SECONDS: z.coerce.number().int().min(0).optional(),
  DNS_SERVERS: z
    .string()
    .regex(/^\s*[^\s,]+(\s*,\s*[^\s,]+)*\s*$/, "must be DNS server addresses (host or host:port, IPv6 as [addr]:port), separated by commas")
    .optional(),
  DOMAIN_PROOF_MAX_AGE_DAYS: z.coerce.number().int().min(1).default(30),
  DOMAIN_PROOF_RECHECK_HOURS: z.coerce.number().min(0).default(24),
});

/** The names of every environment variable the platform reads (for deployment files to be checked against). */
export const SETTING_NAMES: readonly string[] = Object.keys(schema.shape);

export interface Config {
  env: "development" | "test" | "production";
  dataDir: string;
  host: string;
  port: number;
  publicUrl?: string;
  logLevel: string;
  databaseUrl?: string;
  redisUrl?: string;
  ipfsApiUrl?: string;
  chain: {
    /** Absent: the dev stack runs an embedded EDR chain. */
    rpcUrl?: string;
    chainId: number;
    embeddedPort: number;
    confirmations: number;
    /** The worker's signing keys; each has its own nonce sequence. Empty: development keys on the embedded chain. */
    signerKeys: string[];
    maxInFlightPerKey: number;
    /** Most gas one transaction may ask for: EIP-7825's 2^24 on current Ethereum rules (EDR enforces it). */
    txGasCap: number;
    deployerKey?: string;
    /**
     * The key the worker signs the operator's registry changes with (OPERATOR_ROLE on the issuer registry, the
     * default admin of the certificate registries). ADMIN_PRIVATE_KEY, else DEPLOYER_PRIVATE_KEY; the dev stack
     * falls back to its deployer. Absent: those operations end FAILED, saying the key is missing.
     */
    adminKey?: string;
    /**
     * The platform operator's issuer registry, the one verifiers trust to say which institutions were active.
     * Absent: the dev stack finds the one its demo registry is linked to; elsewhere the issuer check is skipped and
     * verification never answers VALID.
     */
    issuerRegistry?: string;
    /** CollectibleEditions contracts whose items holders see on their page (the dev stack adds its demo's). */
    collectibleContracts: string[];
  };
  indexerPollMs: number;
  /** How often the worker anchors each institution's new audit events on chain (one Merkle root a period). */
  auditAnchorIntervalMs: number;
  /** How long SIGTERM/SIGINT may take to drain a process (requests, running jobs) before it exits 1. */
  shutdownTimeoutMs: number;
  workerConcurrency: number;
  /** An issue transaction leaves when it holds `size` certificates or its oldest has waited `windowMs`. */
  batch: { size: number; windowMs: number };
  graphiql: boolean;
  /** Largest image `POST /media` accepts (MEDIA_MAX_BYTES, default 20 MiB). */
  media: { maxBytes: number };
  /** Limits of one GraphQL request (see docs/operations.md "API limits and security"); introspection is off in production unless enabled. */
  graphql: {
    introspection: boolean;
    maxDepth: number;
    maxCost: number;
    maxAliases: number;
    maxTokens: number;
    maxDirectives: number;
    maxBodyBytes: number;
  };
  /** GraphQL requests per window, counted in Redis: per institution (all its API keys), per client address without a key. 0: unlimited. */
  /** `pagesPerIp`: every route outside GraphQL, per client address; `credentialsPerIp`: signed credential exports. */
  rateLimit: { windowSeconds: number; perInstitution: number; perIp: number; pagesPerIp: number; credentialsPerIp: number };
  /** Exact origins a browser may call the API from with credentials (CORS). */
  corsOrigins: string[];
  /** sha256 (hex) of a platform operator key accepted besides the operator keys in the database. */
  operatorKeyHash?: string;
  /** Default per-institution limits; the operator overrides them per institution (setQuota). */
  quotas: { issuancesPerMonth: number; maxBatchSize: number; storageBytes: number };
  /** Express's `trust proxy`: which proxies' X-Forwarded-For names the client address (per-address rate limit). Absent: none. */
  trustProxy?: boolean | number | string;
  /**
   * The secret custodial accounts of holders without a wallet are derived from (CUSTODY_SECRET). Absent outside
   * production: one is generated and kept under the data folder (`custody-secret`).
   */
  custodySecret?: string;
  /**
   * Outgoing e-mail (SMTP_URL, MAIL_FROM): sign-in codes for holders without a wallet. Without SMTP_URL, e-mail
   * sign-in is off (the dev stack runs a local sink and sets it).
   */
  mail: { smtpUrl?: string; from: string };
  /** Sign-in codes one client (address) may ask for in 15 minutes (HOLDER_EMAIL_CODES_PER_CLIENT; 0: no limit). */
  holderEmailCodesPerClient: number;
  /**
   * Webhook delivery. `targets`: `public` refuses internal addresses (loopback, private, link-local, CGNAT,
   * metadata…) at registration and at every delivery, except what `allowedHosts` names; the default outside
   * development and tests. `maxEndpoints`: active webhooks per institution. `concurrency`: deliveries in flight per
   * worker (one per endpoint). `timeoutMs`: one attempt's deadline. `circuitFailures`: consecutive failures that
   * pause an endpoint.
   */
  webhooks: { targets: "public" | "any"; allowedHosts?: string; maxEndpoints: number; concurrency: number; timeoutMs: number; circuitFailures: number };
  /**
   * The keys stored secrets are sealed under (SEALING_KEYS: `<id>` derived from the custody secret, or
   * `<id>=<64 hex>`, comma-separated, the first sealing). Absent: `v1`, derived from the custody secret.
   */
  sealingKeys?: string;
  /**
   * The operations listener (`/healthz`, `/readyz`, `/metrics`), on its own host and port, off the public API.
   * `port` absent: no listener. `checkTimeoutMs` bounds each readiness check and each metric read.
   * `chainHeadMaxAgeSeconds`: a worker is not ready while the newest block is older; 0 turns the check off (the
   * default on the embedded chain, which makes blocks only when sent transactions).
   */
  ops: { port?: number; host: string; checkTimeoutMs: number; chainHeadMaxAgeSeconds: number };
  /**
   * The DNS servers institutions' domain proofs are looked up at (DNS_SERVERS: `host` or `host:port`, IPv6 as
   * `[addr]:port`). Empty: this machine's resolvers.
   */
  dnsServers: string[];
  /**
   * A recorded domain proof counts for `maxAgeDays`; the worker checks every proven domain again when its latest
   * check is `recheckHours` old (0: never), recording the result, proven or not.
   */
  domainProofs: { maxAgeDays: number; recheckHours: number };
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Parses the environment, reporting every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as a shell user expects from `FOO= npm run dev`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.NODE_ENV === "production") {
    // Production never falls back to embedded services or development keys.
    for (const key of ["DATABASE_URL", "REDIS_URL", "CHAIN_RPC_URL", "SIGNER_PRIVATE_KEY", "PUBLIC_URL", "CUSTODY_SECRET"] as const) {
      if (!e[key]) problems.push(`${key}: required when NODE_ENV=production`);
    }
  }
  if (e.NODE_ENV === "production" && e.SMTP_URL && !e.MAIL_FROM) problems.push("MAIL_FROM: required when SMTP_URL is set in production");
  if (e.CHAIN_RPC_URL && !e.SIGNER_PRIVATE_KEY) {
    problems.push("SIGNER_PRIVATE_KEY: required when CHAIN_RPC_URL points at an external chain");
  }
  try {
    targetPolicy("public", e.WEBHOOK_ALLOWED_HOSTS);
  } catch (err) {
    problems.push(`WEBHOOK_ALLOWED_HOSTS: ${(err as Error).message} (host names, addresses and CIDR ranges, separated by commas)`);
  }
  if (e.SEALING_KEYS) {
    try {
      parseSealingKeys(e.SEALING_KEYS, () => Buffer.alloc(32));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    env: e.NODE_ENV,
    dataDir: e.HALLMARK_DATA_DIR,
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL,
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    ipfsApiUrl: e.IPFS_API_URL,
    chain: {
      rpcUrl: e.CHAIN_RPC_URL,
      chainId: e.CHAIN_ID,
      embeddedPort: e.CHAIN_PORT,
      confirmations: e.CHAIN_CONFIRMATIONS,
      signerKeys: e.SIGNER_PRIVATE_KEY ? e.SIGNER_PRIVATE_KEY.split(",").map((k) => k.trim()) : [],
      maxInFlightPerKey: e.MAX_IN_FLIGHT_PER_KEY,
      txGasCap: e.TX_GAS_CAP,
      deployerKey: e.DEPLOYER_PRIVATE_KEY,
      adminKey: e.ADMIN_PRIVATE_KEY ?? e.DEPLOYER_PRIVATE_KEY,
      issuerRegistry: e.ISSUER_REGISTRY_ADDRESS,
      collectibleContracts: e.COLLECTIBLE_CONTRACTS ? e.COLLECTIBLE_CONTRACTS.split(",").map((a) => a.trim()) : [],
    },
    indexerPollMs: e.INDEXER_POLL_MS,
    auditAnchorIntervalMs: e.AUDIT_ANCHOR_INTERVAL_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    workerConcurrency: e.WORKER_CONCURRENCY,
    batch: { size: e.BATCH_SIZE, windowMs: e.BATCH_WINDOW_MS },
    media: { maxBytes: e.MEDIA_MAX_BYTES },
    graphiql: e.GRAPHIQL ? e.GRAPHIQL === "true" : e.NODE_ENV !== "production",
    graphql: {
      introspection: e.GRAPHQL_INTROSPECTION ? e.GRAPHQL_INTROSPECTION === "true" : e.NODE_ENV !== "production",
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxCost: e.GRAPHQL_MAX_COST,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxDirectives: e.GRAPHQL_MAX_DIRECTIVES,
      maxBodyBytes: e.GRAPHQL_MAX_BODY_BYTES,
    },
    operatorKeyHash: e.OPERATOR_API_KEY_HASH,
    quotas: { issuancesPerMonth: e.QUOTA_ISSUANCES_PER_MONTH, maxBatchSize: e.QUOTA_MAX_BATCH_SIZE, storageBytes: e.QUOTA_STORAGE_BYTES },
    rateLimit: {
      windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
      perInstitution: e.RATE_LIMIT_PER_INSTITUTION,
      perIp: e.RATE_LIMIT_PER_IP,
      pagesPerIp: e.RATE_LIMIT_PAGES_PER_IP,
      credentialsPerIp: e.RATE_LIMIT_CREDENTIALS_PER_IP,
    },
    // None by default outside development: the pages call the API from its own origin, which needs no CORS.
    corsOrigins:
      e.CORS_ORIGINS !== undefined
        ? e.CORS_ORIGINS.split(",").map((o) => o.trim()).filter(Boolean)
        : e.NODE_ENV === "development"
          ? [`http://localhost:${e.PORT}`, `http://127.0.0.1:${e.PORT}`]
          : [],
    custodySecret: e.CUSTODY_SECRET,
    holderEmailCodesPerClient: e.HOLDER_EMAIL_CODES_PER_CLIENT,
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM ?? `Hallmark <no-reply@${e.PUBLIC_URL ? new URL(e.PUBLIC_URL).hostname : "localhost"}>` },
    webhooks: {
      targets: e.WEBHOOK_TARGETS ?? (e.NODE_ENV === "production" ? "public" : "any"),
      allowedHosts: e.WEBHOOK_ALLOWED_HOSTS,
      maxEndpoints: e.WEBHOOK_MAX_ENDPOINTS,
      concurrency: e.WEBHOOK_CONCURRENCY,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      circuitFailures: e.WEBHOOK_CIRCUIT_FAILURES,
    },
    sealingKeys: e.SEALING_KEYS,
    dnsServers: e.DNS_SERVERS ? e.DNS_SERVERS.split(",").map((s) => s.trim()) : [],
    domainProofs: { maxAgeDays: e.DOMAIN_PROOF_MAX_AGE_DAYS, recheckHours: e.DOMAIN_PROOF_RECHECK_HOURS },
    ops: {
      port: e.OPS_PORT,
      host: e.OPS_HOST,
      checkTimeoutMs: e.OPS_CHECK_TIMEOUT_MS,
      chainHeadMaxAgeSeconds: e.CHAIN_HEAD_MAX_AGE_SECONDS ?? (e.CHAIN_RPC_URL ? 60 : 0),
    },
    trustProxy: e.TRUST_PROXY === undefined ? undefined : e.TRUST_PROXY === "true" ? true : e.TRUST_PROXY === "false" ? false : /^\d+$/.test(e.TRUST_PROXY) ? Number(e.TRUST_PROXY) : e.TRUST_PROXY,
  };
}
