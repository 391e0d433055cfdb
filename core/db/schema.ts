import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();

export const institutions = pgTable("institutions", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  slug: text("slug").notNull().unique(),
  createdAt: createdAt(),
});

export const apiKeys = pgTable("api_keys", {
  id: uuid("id").primaryKey().defaultRandom(),
  institutionId: uuid("institution_id").notNull().references(() => institutions.id),
  name: text("name").notNull(),
  /** sha256 of the secret: the key itself is shown once and never stored. */
  keyHash: text("key_hash").notNull().unique(),
  prefix: text("prefix").notNull(),
  scopes: text("scopes").array().notNull().default(sql`ARRAY['read','issue']::text[]`),
  createdAt: createdAt(),
  lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }),
  revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
});

export const collections = pgTable("collections", {
  id: uuid("id").primaryKey().defaultRandom(),
  institutionId: uuid("institution_id").notNull().references(() => institutions.id),
  name: text("name").notNull(),
  symbol: text("symbol").notNull(),
  kind: text("kind", { enum: ["CERTIFICATE"] }).notNull().default("CERTIFICATE"),
  chainId: integer("chain_id").notNull(),
  contractAddress: text("contract_address").notNull(),
  deployTxHash: text("deploy_tx_hash"),
  deployBlock: bigint("deploy_block", { mode: "number" }).notNull(),
  createdAt: createdAt(),
});

export const ISSUANCE_STATUSES = ["QUEUED", "PINNED", "SUBMITTED", "CONFIRMED", "FAILED"] as const;
export type IssuanceStatus = (typeof ISSUANCE_STATUSES)[number];

export const issuances = pgTable(
  "issuances",
  {
    id: uuid("id").primaryKey(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    collectionId: uuid("collection_id").notNull().references(() => collections.id),
    idempotencyKey: text("idempotency_key").notNull(),
    /** Hash of the request, to tell a retry of the same request from a different one under the same key. */
    requestHash: text("request_hash").notNull(),
    /** The single-use id the contract checks; derived from the issuance id. */
    requestId: text("request_id").notNull().unique(),
    recipient: text("recipient").notNull(),
    document: jsonb("document").$type<Record<string, unknown>>().notNull(),
    status: text("status", { enum: ISSUANCE_STATUSES }).notNull().default("QUEUED"),
    metadataCid: text("metadata_cid"),
    digest: text("digest"),
    chainTxId: uuid("chain_tx_id"),
    txHash: text("tx_hash"),
    error: text("error"),
    /** The bulk issuance it was requested in, if any. */
    bulkId: uuid("bulk_id"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("issuances_idempotency").on(t.institutionId, t.idempotencyKey),
    index("issuances_status").on(t.status),
    index("issuances_bulk").on(t.bulkId),
  ],
);

export const CERTIFICATE_STATUSES = ["VALID", "REVOKED"] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

export const certificates = pgTable(
  "certificates",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    issuanceId: uuid("issuance_id").notNull().unique().references(() => issuances.id),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    collectionId: uuid("collection_id").notNull().references(() => collections.id),
    tokenId: text("token_id").notNull(),
    owner: text("owner").notNull(),
    metadataUri: text("metadata_uri").notNull(),
    digest: text("digest").notNull(),
    validUntil: timestamp("valid_until", { withTimezone: true, mode: "date" }),
    txHash: text("tx_hash").notNull(),
    blockNumber: bigint("block_number", { mode: "number" }).notNull(),
    status: text("status", { enum: CERTIFICATE_STATUSES }).notNull().default("VALID"),
    revocationReason: text("revocation_reason"),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    revokedTxHash: text("revoked_tx_hash"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("certificates_token").on(t.collectionId, t.tokenId)],
);

export const revocations = pgTable(
  "revocations",
  {
    id: uuid("id").primaryKey(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    certificateId: uuid("certificate_id").notNull().references(() => certificates.id),
    idempotencyKey: text("idempotency_key").notNull(),
    requestHash: text("request_hash").notNull(),
    reason: text("reason").notNull(),
    reasonCode: text("reason_code").notNull(),
    status: text("status", { enum: ISSUANCE_STATUSES }).notNull().default("QUEUED"),
    chainTxId: uuid("chain_tx_id"),
    txHash: text("tx_hash"),
    error: text("error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("revocations_idempotency").on(t.institutionId, t.idempotencyKey),
    // At most one revocation per certificate that has not failed.
    uniqueIndex("revocations_active").on(t.certificateId).where(sql`status <> 'FAILED'`),
  ],
);

/** Written in the same transaction as the operation it announces; the relay turns rows into queue jobs. */
export const outbox = pgTable(
  "outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    topic: text("topic").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    dispatchedAt: timestamp("dispatched_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [index("outbox_pending").on(t.id).where(sql`dispatched_at IS NULL`)],
);

/** The next nonce of each signing key, taken under a row lock. */
export const signerNonces = pgTable("signer_nonces", {
  signer: text("signer").primaryKey(),
  chainId: integer("chain_id").notNull(),
  nextNonce: bigint("next_nonce", { mode: "number" }).notNull(),
});

export const CHAIN_TX_STATUSES = ["SIGNED", "SENT", "MINED", "REVERTED", "DROPPED"] as const;

/** Every transaction is stored signed, with its hash, before it is broadcast. */
export const chainTxs = pgTable(
  "chain_txs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    chainId: integer("chain_id").notNull(),
    signer: text("signer").notNull(),
    nonce: bigint("nonce", { mode: "number" }).notNull(),
    to: text("to").notNull(),
    purpose: text("purpose").notNull(),
    rawTx: text("raw_tx").notNull(),
    txHash: text("tx_hash").notNull().unique(),
    status: text("status", { enum: CHAIN_TX_STATUSES }).notNull().default("SIGNED"),
    blockNumber: bigint("block_number", { mode: "number" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("chain_txs_signer_nonce").on(t.chainId, t.signer, t.nonce)],
);

export const indexerCursors = pgTable("indexer_cursors", {
  name: text("name").primaryKey(),
  lastBlock: bigint("last_block", { mode: "number" }).notNull(),
  updatedAt: updatedAt(),
});

/**
 * Each institution's key for signing exported credentials (Ed25519, named by its did:key), made on first use.
 * The secret is stored as is: a deployment that needs more moves it to a KMS behind `institutionSigningKey`.
 */
export const institutionKeys = pgTable("institution_keys", {
  institutionId: uuid("institution_id").primaryKey().references(() => institutions.id),
  did: text("did").notNull().unique(),
  publicKeyMultibase: text("public_key_multibase").notNull(),
  secretKeyMultibase: text("secret_key_multibase").notNull(),
  createdAt: createdAt(),
});

/** Sign-In with Ethereum (EIP-4361) messages handed to holders; each nonce signs in once, before it expires. */
export const holderSignIns = pgTable("holder_sign_ins", {
  nonce: text("nonce").primaryKey(),
  address: text("address").notNull(),
  /** The exact text the holder is asked to sign: the server checks the signature against it, never parses theirs. */
  message: text("message").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  usedAt: timestamp("used_at", { withTimezone: true, mode: "date" }),
  createdAt: createdAt(),
});

/** A signed-in holder's browser session; the cookie carries a secret whose sha256 is kept here. */
export const holderSessions = pgTable("holder_sessions", {
  tokenHash: text("token_hash").primaryKey(),
  address: text("address").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  createdAt: createdAt(),
});

/** One request that issues many certificates; its items are ordinary issuances carrying its id. */
export const bulkIssuances = pgTable(
  "bulk_issuances",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    collectionId: uuid("collection_id").notNull().references(() => collections.id),
    idempotencyKey: text("idempotency_key").notNull(),
    total: integer("total").notNull(),
    rejected: integer("rejected").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("bulk_issuances_idempotency").on(t.institutionId, t.idempotencyKey)],
);

/** An institution's webhook: every state change of its operations is POSTed there, signed with `secret`. */
export const webhookEndpoints = pgTable("webhook_endpoints", {
  id: uuid("id").primaryKey().defaultRandom(),
  institutionId: uuid("institution_id").notNull().references(() => institutions.id),
  url: text("url").notNull(),
  /** HMAC-SHA256 key; shown to the institution once. */
  secret: text("secret").notNull(),
  createdAt: createdAt(),
  disabledAt: timestamp("disabled_at", { withTimezone: true, mode: "date" }),
});

export const WEBHOOK_DELIVERY_STATUSES = ["PENDING", "DELIVERED", "FAILED"] as const;

/** One event for one endpoint; the event id is the receiver's deduplication key. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    endpointId: uuid("endpoint_id").notNull().references(() => webhookEndpoints.id),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    status: text("status", { enum: WEBHOOK_DELIVERY_STATUSES }).notNull().default("PENDING"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    lastError: text("last_error"),
    createdAt: createdAt(),
    deliveredAt: timestamp("delivered_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_event").on(t.endpointId, t.eventId),
    index("webhook_deliveries_due").on(t.nextAttemptAt).where(sql`status = 'PENDING'`),
  ],
);
