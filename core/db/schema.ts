import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { TRANSFER_POLICIES } from "../editions/transfer-policy.ts";

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();

/**
 * The columns every operation carried by a chain transaction has (core/operations/kinds.ts): its state among
 * `statuses`, the stored transaction carrying it and that transaction's hash, why it failed, and when it was
 * accepted and last changed.
 */
function operationColumns<const S extends readonly ["QUEUED", ...string[]]>(statuses: S) {
  return {
    status: text("status", { enum: statuses as unknown as [S[number], ...S[number][]] }).notNull().default("QUEUED" as S[number]),
    chainTxId: uuid("chain_tx_id"),
    txHash: text("tx_hash"),
    error: text("error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  };
}

export const INSTITUTION_STATUSES = ["PENDING", "ACTIVE", "SUSPENDED"] as const;
export type InstitutionStatus = (typeof INSTITUTION_STATUSES)[number];

export const institutions = pgTable("institutions", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  slug: text("slug").notNull().unique(),
  /** As the issuer registry on chain says, once the operation that changed it is confirmed; PENDING until registered. */
  status: text("status", { enum: INSTITUTION_STATUSES }).notNull().default("ACTIVE"),
  /** The DNS domain or DID bound to it in the issuer registry. */
  identity: text("identity"),
  /** Its id in the issuer registry (uint256 as decimal text), once registered there. */
  chainInstitutionId: text("chain_institution_id"),
  suspendedReason: text("suspended_reason"),
  /** The operator's key for registerInstitution, for retries. */
  idempotencyKey: text("idempotency_key").unique(),
  createdAt: createdAt(),
});

export const API_KEY_MAKERS = ["API_KEY", "OPERATOR", "UNKNOWN"] as const;
export type ApiKeyMaker = (typeof API_KEY_MAKERS)[number];

export const apiKeys = pgTable("api_keys", {
  id: uuid("id").primaryKey().defaultRandom(),
  institutionId: uuid("institution_id").notNull().references(() => institutions.id),
  name: text("name").notNull(),
  /** sha256 of the secret: the key itself is shown once and never stored. */
  keyHash: text("key_hash").notNull().unique(),
  prefix: text("prefix").notNull(),
  scopes: text("scopes").array().notNull().default(sql`ARRAY['read','issue']::text[]`),
  /** The member the key acts for: its scopes never exceed what the member's role allows now. */
  memberId: uuid("member_id"),
  /**
   * Who made it: API_KEY (another key of the institution, `createdByKeyId`, acting for `createdByMemberId` when it
   * had one), OPERATOR (the platform's CLI or scripts) or UNKNOWN (made before makers were recorded).
   */
  createdBy: text("created_by", { enum: API_KEY_MAKERS }).notNull().default("UNKNOWN"),
  /** The key that made it: revoking that key, or removing its member, revokes this one too. */
  createdByKeyId: uuid("created_by_key_id"),
  /** The member whose authority made it (the making key's member, or that key's own maker member). */
  createdByMemberId: uuid("created_by_member_id"),
  /** The creator's key for createApiKey, for retries (which never show the secret again). */
  idempotencyKey: text("idempotency_key"),
  createdAt: createdAt(),
  lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }),
  revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
  /** An ADMIN key made under an approval policy: it authenticates nothing until its approval request is approved. */
  pendingApprovalId: uuid("pending_approval_id"),
}, (t) => [
  uniqueIndex("api_keys_idempotency").on(t.institutionId, t.idempotencyKey),
  index("api_keys_created_by_key").on(t.createdByKeyId),
  index("api_keys_created_by_member").on(t.createdByMemberId),
]);

/**
 * The one vocabulary of operation states (core/operations/kinds.ts says which of them each kind goes through):
 * QUEUED (accepted) → PINNED (its document on IPFS) → SUBMITTED (its transaction signed and stored) → CONFIRMED
 * (seen on chain) | FAILED. Under an approval policy (core/approvals/) a request starts AWAITING_APPROVAL and moves
 * to QUEUED once enough members approve it, or ends REJECTED or EXPIRED without ever reaching the chain.
 */
export const OPERATION_STATUSES = ["QUEUED", "PINNED", "SUBMITTED", "CONFIRMED", "FAILED", "AWAITING_APPROVAL", "REJECTED", "EXPIRED"] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];
/** Issuances go through every state; the GraphQL enum of operation states is named after them. */
export const ISSUANCE_STATUSES = OPERATION_STATUSES;
export type IssuanceStatus = OperationStatus;
/** Registry operations: no document to pin. */
export const UNPINNED_STATUSES = ["QUEUED", "SUBMITTED", "CONFIRMED", "FAILED", "AWAITING_APPROVAL", "REJECTED", "EXPIRED"] as const satisfies readonly OperationStatus[];
/** The states in which an operation will never reach the chain. */
export const ENDED_UNSENT_STATUSES = ["FAILED", "REJECTED", "EXPIRED"] as const satisfies readonly OperationStatus[];
/** One airdrop transaction's states: it exists once sent. */
export const MINT_BATCH_STATUSES = ["SUBMITTED", "CONFIRMED", "FAILED"] as const satisfies readonly OperationStatus[];

export const COLLECTION_KINDS = ["CERTIFICATE", "ANCHORED"] as const;
export type CollectionKind = (typeof COLLECTION_KINDS)[number];

/**
 * An institution's collection: one contract on chain, a CertificateRegistry (CERTIFICATE) or a CertificateAnchor
 * (ANCHORED, for anchored batches). One created through the API is an operation (QUEUED → SUBMITTED → CONFIRMED |
 * FAILED): its contract's address and block are known only once its creation is mined, so they are null before and
 * required once CONFIRMED. Collections recorded by the deploy scripts are CONFIRMED from the start (the default).
 */
export const collections = pgTable(
  "collections",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    name: text("name").notNull(),
    symbol: text("symbol").notNull(),
    kind: text("kind", { enum: COLLECTION_KINDS }).notNull().default("CERTIFICATE"),
    chainId: integer("chain_id").notNull(),
    /** The contract the mined creation made; null until then. */
    contractAddress: text("contract_address"),
    deployTxHash: text("deploy_tx_hash"),
    deployBlock: bigint("deploy_block", { mode: "number" }),
    /** Whether pages derived from the chain (by token id, gallery) show holders' names; off unless the institution opts in. */
    publicHolderNames: boolean("public_holder_names").notNull().default(false),
    status: text("status", { enum: UNPINNED_STATUSES }).notNull().default("CONFIRMED"),
    /** The transaction under way: the creation, then the binding in the issuer registry. */
    chainTxId: uuid("chain_tx_id"),
    txHash: text("tx_hash"),
    error: text("error"),
    /** The caller's key for createCollection, for retries; null for collections recorded by the deploy scripts. */
    idempotencyKey: text("idempotency_key"),
    requestHash: text("request_hash"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("collections_idempotency").on(t.institutionId, t.idempotencyKey),
    index("collections_status").on(t.status),
    check("collections_confirmed_deployed", sql`status <> 'CONFIRMED' OR (contract_address IS NOT NULL AND deploy_block IS NOT NULL)`),
  ],
);

export const issuances = pgTable(
  "issuances",
  {
    id: uuid("id").primaryKey(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    collectionId: uuid("collection_id").notNull().references(() => collections.id),
    idempotencyKey: text("idempotency_key").notNull(),
    /** Hash of the request, to tell a retry of the same request from a different one under the same key. */
    requestHash: text("request_hash").notNull(),
    /** The single-use id, derived from the issuance id; the document names it, so its digest (the token id) is single-use. */
    requestId: text("request_id").notNull().unique(),
    recipient: text("recipient").notNull(),
    document: jsonb("document").$type<Record<string, unknown>>().notNull(),
    metadataCid: text("metadata_cid"),
    /** 0x-hex sha-256 of the pinned document: the certificate's token id; the indexer finds the issuance by it. */
    digest: text("digest"),
    /** The bulk issuance it was requested in, if any. */
    bulkId: uuid("bulk_id"),
    ...operationColumns(OPERATION_STATUSES),
  },
  (t) => [
    uniqueIndex("issuances_idempotency").on(t.institutionId, t.idempotencyKey),
    index("issuances_status").on(t.status),
    index("issuances_bulk").on(t.bulkId),
    index("issuances_digest").on(t.digest),
  ],
);

/** SUSPENDED: suspended by the issuer (reversible). SUPERSEDED: replaced for good by a reissued certificate (recovery). */
/**
 * The personal values a certificate document commits to (salt and value per field), kept here and never on IPFS or
 * chain: deleting them erases the data while the document, holding only salted digests, still verifies. The share
 * token is the holder's link; it dies with the disclosures. Erasure leaves the row as its record.
 */
export const personalDisclosures = pgTable("personal_disclosures", {
  issuanceId: uuid("issuance_id").primaryKey().references(() => issuances.id),
  institutionId: uuid("institution_id").notNull().references(() => institutions.id),
  /** `[{ path, salt, value }]`; null once erased. */
  disclosures: jsonb("disclosures").$type<{ path: string; salt: string; value: string }[]>(),
  shareToken: text("share_token"),
  erasedAt: timestamp("erased_at", { withTimezone: true, mode: "date" }),
  /** Who erased: the member or API key, as the audit trail names actors. */
  erasedBy: text("erased_by"),
  erasedReason: text("erased_reason"),
  eraseIdempotencyKey: text("erase_idempotency_key"),
  createdAt: createdAt(),
});

export const CERTIFICATE_STATUSES = ["VALID", "REVOKED", "SUSPENDED", "SUPERSEDED"] as const;
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
    /** The certificate this one replaced through a recovery (reissue on chain). */
    replacesId: uuid("replaces_id"),
    /** The certificate that replaced this one through a recovery; its status is then SUPERSEDED. */
    supersededById: uuid("superseded_by_id"),
    createdAt: createdAt(),
  },
  // By owner: a holder's certificates are looked up across institutions (holder page and API, custody claims).
  (t) => [
    uniqueIndex("certificates_token").on(t.collectionId, t.tokenId),
    index("certificates_owner").on(t.owner),
    // The status lists read only a collection's certificates that are not VALID: few, however large the collection.
    index("certificates_not_valid").on(t.collectionId).where(sql`status <> 'VALID'`),
    // An institution's certificates in keyset order: a page is read from the index in either direction (no sort of
    // every row), and its totalCount is an index-only count of the institution's entries.
    index("certificates_institution_page").on(t.institutionId, t.createdAt, t.id),
  ],
);

/**
 * Each certificate's position in its collection's W3C Bitstring Status Lists (one index, used in both the revocation
 * and the suspension list), drawn at random the first time a credential for it is exported and never changed: the
 * positions say nothing about the order of issue, and a credential already handed out keeps pointing at its bit.
 */
export const statusListIndices = pgTable(
  "status_list_indices",
  {
    certificateId: uuid("certificate_id").primaryKey().references(() => certificates.id),
    collectionId: uuid("collection_id").notNull().references(() => collections.id),
    statusListIndex: integer("status_list_index").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("status_list_indices_position").on(t.collectionId, t.statusListIndex), check("status_list_indices_non_negative", sql`status_list_index >= 0`)],
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
    /** Under an approval policy: the approvals' hash, set when the threshold is met and named on chain with the revocation. */
    approvalsHash: text("approvals_hash"),
    ...operationColumns(OPERATION_STATUSES),
  },
  (t) => [
    uniqueIndex("revocations_idempotency").on(t.institutionId, t.idempotencyKey),
    // At most one revocation per certificate that has not ended unsent (failed, rejected or expired).
    uniqueIndex("revocations_active").on(t.certificateId).where(sql`status not in ('FAILED', 'REJECTED', 'EXPIRED')`),
    // A page's histories read every revocation of its certificates, ended ones included: the index above omits those.
    index("revocations_certificate").on(t.certificateId),
  ],
);

export const CERTIFICATE_OPERATION_KINDS = ["RECOVER", "CORRECT_METADATA", "SUSPEND", "UNSUSPEND"] as const;
export type CertificateOperationKind = (typeof CERTIFICATE_OPERATION_KINDS)[number];

/**
 * An operation on an existing certificate: QUEUED → PINNED (RECOVER and CORRECT_METADATA, once their new document
 * is on IPFS) → SUBMITTED → CONFIRMED (the indexer saw the contract's event) | FAILED. At most one is under way per
 * certificate, so they reach the chain in the order they were asked for.
 */
export const certificateOperations = pgTable(
  "certificate_operations",
  {
    id: uuid("id").primaryKey(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    certificateId: uuid("certificate_id").notNull().references(() => certificates.id),
    kind: text("kind", { enum: CERTIFICATE_OPERATION_KINDS }).notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    requestHash: text("request_hash").notNull(),
    reason: text("reason"),
    /** RECOVER: the holder's new address. */
    newHolder: text("new_holder"),
    /** RECOVER and CORRECT_METADATA: the fields of the new document (as an issuance's `document`). */
    fields: jsonb("fields").$type<Record<string, unknown>>(),
    /** RECOVER: the issuance id the new certificate is recorded under, and the contract's request id derived from it. */
    newIssuanceId: uuid("new_issuance_id"),
    requestId: text("request_id").unique(),
    metadataCid: text("metadata_cid"),
    digest: text("digest"),
    /** RECOVER: the new certificate, once CONFIRMED. */
    resultCertificateId: uuid("result_certificate_id"),
    ...operationColumns(OPERATION_STATUSES),
  },
  (t) => [
    uniqueIndex("certificate_operations_idempotency").on(t.institutionId, t.idempotencyKey),
    // One operation under way per certificate.
    uniqueIndex("certificate_operations_active").on(t.certificateId).where(sql`status in ('AWAITING_APPROVAL', 'QUEUED', 'PINNED', 'SUBMITTED')`),
    index("certificate_operations_certificate").on(t.certificateId),
    index("certificate_operations_status").on(t.status),
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
  /**
   * Why the key cannot pay for its transactions, as its worker last found (null: it can). Kept here so that every
   * process (the API's operator queries, /readyz, metrics) reports what the worker holding the key knows.
   */
  cannotPayReason: text("cannot_pay_reason"),
  /** When the worker last checked whether the key can pay. */
  fundsCheckedAt: timestamp("funds_checked_at", { withTimezone: true, mode: "date" }),
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
    /** The contract called; null for a contract creation (its address follows from the signer and nonce). */
    to: text("to"),
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
 * The secret is stored sealed (`core/custody/sealed.ts`): a copy of the database alone signs nothing.
 */
export const institutionKeys = pgTable("institution_keys", {
  institutionId: uuid("institution_id").primaryKey().references(() => institutions.id),
  did: text("did").notNull().unique(),
  publicKeyMultibase: text("public_key_multibase").notNull(),
  secretKeyMultibase: text("secret_key_multibase").notNull(),
  createdAt: createdAt(),
});

export const ISSUER_KEY_STATUSES = ["CURRENT", "RETIRED", "COMPROMISED"] as const;
export type IssuerKeyStatus = (typeof ISSUER_KEY_STATUSES)[number];

/**
 * Every key an institution's did:web document lists, current or not: a rotation retires the current key (it stays
 * in the document, so what it signed still verifies) and makes a new one; a key marked COMPROMISED leaves the
 * document, so what it signed no longer verifies. One CURRENT key per institution. The secret is sealed, as above.
 */
export const issuerKeys = pgTable(
  "issuer_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    publicKeyMultibase: text("public_key_multibase").notNull().unique(),
    secretKeyMultibase: text("secret_key_multibase").notNull(),
    status: text("status", { enum: ISSUER_KEY_STATUSES }).notNull().default("CURRENT"),
    retiredAt: timestamp("retired_at", { withTimezone: true, mode: "date" }),
    compromisedAt: timestamp("compromised_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("issuer_keys_one_current").on(t.institutionId).where(sql`${t.status} = 'CURRENT'`)],
);

/**
 * Each check of an institution's domain (a DNS TXT record at `_hallmark.<domain>` naming the chain, the issuer
 * registry and its entry there), proven or not, as the operator ran it: the latest one is the institution's proof.
 */
export const domainProofs = pgTable(
  "domain_proofs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    domain: text("domain").notNull(),
    method: text("method", { enum: ["DNS_TXT"] }).notNull(),
    chainId: integer("chain_id").notNull(),
    issuerRegistry: text("issuer_registry").notNull(),
    chainInstitutionId: text("chain_institution_id").notNull(),
    proven: boolean("proven").notNull(),
    /** The TXT record that proved it; absent when none did. */
    record: text("record"),
    reason: text("reason").notNull(),
    checkedAt: timestamp("checked_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("domain_proofs_institution").on(t.institutionId, t.checkedAt)],
);

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
  /** The account that signed in with Ethereum; null for a holder signed in by e-mail. */
  address: text("address"),
  /** A holder signed in by e-mail: the keyed hash of the address (`holderKeyOf`), which finds their custodial accounts. */
  holderKey: text("holder_key"),
  /** The e-mail address, sealed (`core/custody/sealed.ts`), to show the holder whom they are signed in as. */
  emailSealed: text("email_sealed"),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  createdAt: createdAt(),
});

/**
 * One-time sign-in codes sent by e-mail. Only a keyed hash of the code (and of the address) is kept; a code signs in
 * once, before it expires, and dies after a few wrong guesses. A row is written for every request, known address
 * or not, so counting them rate-limits per address and per client alike.
 */
export const holderEmailCodes = pgTable(
  "holder_email_codes",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    holderKey: text("holder_key").notNull(),
    codeHash: text("code_hash").notNull(),
    /** sha256 of the requesting client's address: the per-client limit counts these. */
    clientHash: text("client_hash").notNull(),
    attempts: integer("attempts").notNull().default(0),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [index("holder_email_codes_holder").on(t.holderKey, t.createdAt), index("holder_email_codes_client").on(t.clientHash, t.createdAt)],
);

/**
 * OpenID for Verifiable Credential Issuance (1.0) offers, pre-authorized code flow: one certificate's credential for
 * one wallet. The pre-authorized code, the optional transaction code and the access token are kept as hashes only;
 * the code is spent at the token endpoint, the access token at the credential endpoint.
 */
export const credentialOffers = pgTable(
  "credential_offers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    certificateId: uuid("certificate_id").notNull().references(() => certificates.id),
    preAuthorizedCodeHash: text("pre_authorized_code_hash").notNull().unique(),
    txCodeHash: text("tx_code_hash"),
    /** Who made the offer: `institution:<id>`, `holder:<address>` or `holder-email:<id>`, for the log. */
    offeredBy: text("offered_by").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    /** Wrong transaction codes given so far; past the limit the offer is dead. */
    txCodeAttempts: integer("tx_code_attempts").notNull().default(0),
    redeemedAt: timestamp("redeemed_at", { withTimezone: true, mode: "date" }),
    accessTokenHash: text("access_token_hash").unique(),
    accessTokenExpiresAt: timestamp("access_token_expires_at", { withTimezone: true, mode: "date" }),
    issuedAt: timestamp("issued_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
);

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
  /** HMAC-SHA256 key, sealed (`sealSecret`); shown to the institution once. */
  secret: text("secret").notNull(),
  createdAt: createdAt(),
  disabledAt: timestamp("disabled_at", { withTimezone: true, mode: "date" }),
  /** Attempts that failed in a row, whatever the event; reset by a success. */
  consecutiveFailures: integer("consecutive_failures").notNull().default(0),
  lastFailureAt: timestamp("last_failure_at", { withTimezone: true, mode: "date" }),
  lastError: text("last_error"),
  lastSuccessAt: timestamp("last_success_at", { withTimezone: true, mode: "date" }),
  /** While in the future the circuit is open: nothing is sent until then, when one delivery probes the receiver. */
  circuitOpenUntil: timestamp("circuit_open_until", { withTimezone: true, mode: "date" }),
});

/** CANCELLED: its webhook was disabled before it was delivered. */
export const WEBHOOK_DELIVERY_STATUSES = ["PENDING", "DELIVERED", "FAILED", "CANCELLED"] as const;

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

/** Platform operator credentials: not tied to any institution; their only scope is `operator`. */
export const operatorKeys = pgTable("operator_keys", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  /** sha256 of the secret, as for API keys. */
  keyHash: text("key_hash").notNull().unique(),
  prefix: text("prefix").notNull(),
  createdAt: createdAt(),
  lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
  revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
});

export const MEMBER_ROLES = ["OWNER", "ISSUER", "VIEWER"] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/** People of an institution, named by an Ethereum address (they sign in with SIWE) or an e-mail address. */
export const members = pgTable(
  "members",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    /** EIP-55 checksummed. */
    address: text("address"),
    /** Lower-cased. */
    email: text("email"),
    role: text("role", { enum: MEMBER_ROLES }).notNull(),
    idempotencyKey: text("idempotency_key"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("members_address").on(t.institutionId, t.address),
    uniqueIndex("members_email").on(t.institutionId, t.email),
    uniqueIndex("members_idempotency").on(t.institutionId, t.idempotencyKey),
    index("members_owners").on(t.institutionId).where(sql`role = 'OWNER'`),
    check("members_identity", sql`(address IS NULL) <> (email IS NULL)`),
  ],
);

/** The operator's per-institution limits; a null column falls back to the configured default. */
export const institutionQuotas = pgTable("institution_quotas", {
  institutionId: uuid("institution_id").primaryKey().references(() => institutions.id),
  issuancesPerMonth: integer("issuances_per_month"),
  maxBatchSize: integer("max_batch_size"),
  storageBytes: bigint("storage_bytes", { mode: "number" }),
  updatedAt: updatedAt(),
});

/**
 * Usage counters: `issuances` per calendar month (period `YYYY-MM`, UTC) and `storage_bytes` for all time
 * (period `all`). Raised in the transaction that records the work, by a conditional upsert that refuses to pass
 * the limit, so concurrent requests cannot overshoot.
 */
export const quotaUsage = pgTable(
  "quota_usage",
  {
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    metric: text("metric", { enum: ["issuances", "storage_bytes"] }).notNull(),
    period: text("period").notNull(),
    used: bigint("used", { mode: "number" }).notNull().default(0),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("quota_usage_key").on(t.institutionId, t.metric, t.period)],
);

export const REGISTRY_OPERATION_KINDS = [
  "REGISTER_INSTITUTION",
  "SUSPEND_INSTITUTION",
  "REACTIVATE_INSTITUTION",
  "GRANT_ROLE",
  "REVOKE_ROLE",
] as const;
export type RegistryOperationKind = (typeof REGISTRY_OPERATION_KINDS)[number];

/**
 * The platform operator's changes on chain: the issuer registry's institutions and the certificate registries'
 * roles. QUEUED → SUBMITTED → CONFIRMED | FAILED, carried out by the worker with the admin key.
 */
export const registryOperations = pgTable(
  "registry_operations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    kind: text("kind", { enum: REGISTRY_OPERATION_KINDS }).notNull(),
    idempotencyKey: text("idempotency_key").notNull().unique(),
    requestHash: text("request_hash").notNull(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    collectionId: uuid("collection_id").references(() => collections.id),
    /** What the call needs besides the ids: reason, role, account. */
    params: jsonb("params").$type<Record<string, string>>().notNull().default({}),
    ...operationColumns(UNPINNED_STATUSES),
  },
  (t) => [index("registry_operations_status").on(t.status), index("registry_operations_institution").on(t.institutionId)],
);

/** Images (and other media) institutions uploaded to IPFS through `POST /media`: what the bytes are, not what the upload said. */
export const media = pgTable(
  "media",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    cid: text("cid").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    mediaType: text("media_type").notNull(),
    width: integer("width"),
    height: integer("height"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("media_institution_cid").on(t.institutionId, t.cid)],
);

/**
 * Each institution's CollectibleEditions contract, deployed by the worker on its first edition. The voucher key holds
 * the contract's issuer role only to sign claim vouchers (EIP-712); it never sends a transaction.
 */
export const editionContracts = pgTable("edition_contracts", {
  id: uuid("id").primaryKey().defaultRandom(),
  institutionId: uuid("institution_id").notNull().unique().references(() => institutions.id),
  chainId: integer("chain_id").notNull(),
  contractAddress: text("contract_address").notNull(),
  /** The ERC-721 name, which is also the EIP-712 domain name vouchers are signed under. */
  name: text("name").notNull(),
  deployTxHash: text("deploy_tx_hash"),
  deployBlock: bigint("deploy_block", { mode: "number" }).notNull(),
  voucherSignerKey: text("voucher_signer_key").notNull(),
  createdAt: createdAt(),
});

/**
 * An institution's editions contract while its creation is signed but not yet mined: written in the database
 * transaction that signs the creation (so the voucher key it names is stored, sealed, no later than the signature),
 * and replaced by its `edition_contracts` row, in one transaction, once the creation is mined. The stored creation
 * itself is found by its purpose (`editionsContractPurpose`): a re-signed replacement keeps it.
 */
export const editionContractCreations = pgTable("edition_contract_creations", {
  id: uuid("id").primaryKey().defaultRandom(),
  institutionId: uuid("institution_id").notNull().unique().references(() => institutions.id),
  chainId: integer("chain_id").notNull(),
  name: text("name").notNull(),
  voucherSignerKey: text("voucher_signer_key").notNull(),
  createdAt: createdAt(),
});

/**
 * A collectible edition and the operation that creates it on chain: QUEUED (metadata built) → PINNED → SUBMITTED
 * (createEdition sent) → CONFIRMED (EditionCreated seen; `chainEditionId` set) | FAILED. `reserved` counts items
 * promised by accepted airdrops and claim codes, so a sold-out edition is refused before anything is queued;
 * `minted` counts ItemMinted events seen.
 */
export const editions = pgTable(
  "editions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    idempotencyKey: text("idempotency_key").notNull(),
    requestHash: text("request_hash").notNull(),
    name: text("name").notNull(),
    /** The metadata document's exact bytes (canonical JSON), pinned by the worker. */
    metadataJson: text("metadata_json").notNull(),
    metadataCid: text("metadata_cid"),
    maxSupply: integer("max_supply").notNull(),
    transferPolicy: text("transfer_policy", { enum: TRANSFER_POLICIES }).notNull(),
    lockupSeconds: integer("lockup_seconds").notNull().default(0),
    maxGifts: integer("max_gifts").notNull().default(0),
    reserved: integer("reserved").notNull().default(0),
    minted: integer("minted").notNull().default(0),
    contractId: uuid("contract_id").references(() => editionContracts.id),
    chainEditionId: text("chain_edition_id"),
    ...operationColumns(OPERATION_STATUSES),
  },
  (t) => [uniqueIndex("editions_idempotency").on(t.institutionId, t.idempotencyKey), index("editions_status").on(t.status)],
);

export const EDITION_OPERATION_KINDS = ["AIRDROP", "CLAIM", "RELEASE"] as const;
export type EditionOperationKind = (typeof EDITION_OPERATION_KINDS)[number];

/**
 * Items minted to holders: an airdrop (up to 10,000 holders, sent in batches under the gas cap) or one redeemed
 * claim code. QUEUED → SUBMITTED (a batch sent) → CONFIRMED (every item seen in ItemMinted) | FAILED.
 * Or a RELEASE: a claimed custodial account's items of the edition moved to the holder's wallet (`holders[0]`) by
 * releaseFromCustody; `custodian` is the account, `total` the items expected, `minted` those seen released
 * (CustodyReleased); CONFIRMED once the account holds none of the edition's items in custody.
 */
export const editionOperations = pgTable(
  "edition_operations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    editionId: uuid("edition_id").notNull().references(() => editions.id),
    kind: text("kind", { enum: EDITION_OPERATION_KINDS }).notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    requestHash: text("request_hash").notNull(),
    holders: jsonb("holders").$type<string[]>().notNull(),
    total: integer("total").notNull(),
    /** Holders sent in batches so far (a prefix of `holders`). */
    sent: integer("sent").notNull().default(0),
    minted: integer("minted").notNull().default(0),
    claimCodeId: uuid("claim_code_id"),
    /** RELEASE: the custodial account the items leave. */
    custodian: text("custodian"),
    status: text("status", { enum: OPERATION_STATUSES }).notNull().default("QUEUED"),
    error: text("error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("edition_operations_idempotency").on(t.institutionId, t.idempotencyKey), index("edition_operations_status").on(t.status)],
);

/** One airdrop transaction of an operation: holders[start, start + count). */
export const editionMintBatches = pgTable(
  "edition_mint_batches",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    operationId: uuid("operation_id").notNull().references(() => editionOperations.id),
    start: integer("start").notNull(),
    count: integer("count").notNull(),
    status: text("status", { enum: MINT_BATCH_STATUSES }).notNull().default("SUBMITTED"),
    chainTxId: uuid("chain_tx_id").notNull(),
    txHash: text("tx_hash").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("edition_mint_batches_tx").on(t.txHash), index("edition_mint_batches_operation").on(t.operationId)],
);

/**
 * Single-use claim codes: only sha256 of the code is kept (the code is shown once). `voucherCode` is the bytes32 the
 * code's EIP-712 voucher names on chain (keccak256 of the code), so a voucher redeemed on chain marks the code used.
 */
export const claimCodes = pgTable(
  "claim_codes",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    editionId: uuid("edition_id").notNull().references(() => editions.id),
    codeHash: text("code_hash").notNull().unique(),
    voucherCode: text("voucher_code").notNull().unique(),
    /** The createClaimCodes request's idempotency key. */
    requestKey: text("request_key").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    redeemedAt: timestamp("redeemed_at", { withTimezone: true, mode: "date" }),
    redeemedBy: text("redeemed_by"),
    createdAt: createdAt(),
  },
  (t) => [index("claim_codes_request").on(t.institutionId, t.requestKey)],
);

export const TEMPLATE_FIELD_TYPES = ["TEXT", "NUMBER", "DATE", "BOOLEAN", "ENUM"] as const;
export type TemplateFieldType = (typeof TEMPLATE_FIELD_TYPES)[number];

/** One field a collection's certificates carry, as validated by setCollectionTemplate. */
export interface TemplateField {
  key: string;
  label: string;
  type: TemplateFieldType;
  required: boolean;
  /** ENUM: the allowed values. */
  enumValues?: string[];
  /** TEXT: the longest value allowed, in characters. */
  maxLength?: number;
  /** TEXT: an anchored regular expression (a restricted, backtracking-safe subset) the value must match. */
  pattern?: string;
  /** Shown on the certificate as an attribute under its label; otherwise kept in the document's `data`. */
  shown: boolean;
  /** Personal data: the public document carries only a salted digest of the value (see core/metadata/personal-data.ts). */
  personal?: boolean;
}

/**
 * Certificate templates, one row per version: the current template of a collection is its highest version, and
 * an empty field list means none. Issuance into a collection with a template validates its `fields` against it.
 */
export const collectionTemplates = pgTable(
  "collection_templates",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    collectionId: uuid("collection_id").notNull().references(() => collections.id),
    version: integer("version").notNull(),
    fields: jsonb("fields").$type<TemplateField[]>().notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    requestHash: text("request_hash").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("collection_templates_version").on(t.collectionId, t.version),
    uniqueIndex("collection_templates_idempotency").on(t.institutionId, t.idempotencyKey),
  ],
);

/**
 * A holder an institution names by its own reference (student number, e-mail) rather than an address. The platform
 * holds their certificates in a custodial account derived from its custody secret, the institution and the
 * reference; only a keyed hash of the reference is kept. Once claimed, the holder's own wallet receives them.
 */
export const custodialHolders = pgTable(
  "custodial_holders",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    /** HMAC of the normalized reference under the custody secret: equal references match, the reference is not kept. */
    referenceHash: text("reference_hash").notNull(),
    custodialAddress: text("custodial_address").notNull(),
    /** The holder's wallet once claimed; later issuances to the reference go straight to it. */
    claimedAddress: text("claimed_address"),
    claimedAt: timestamp("claimed_at", { withTimezone: true, mode: "date" }),
    /**
     * The keyed hash of the reference alone (`holderKeyOf`), the same at every institution: a holder signed in by
     * e-mail finds all their accounts by it. Null for accounts recorded before it existed, until that e-mail signs in.
     */
    holderKey: text("holder_key"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("custodial_holders_reference").on(t.institutionId, t.referenceHash),
    uniqueIndex("custodial_holders_address").on(t.custodialAddress),
    index("custodial_holders_holder_key").on(t.holderKey),
  ],
);

/** A single-use code an institution hands its holder to claim a custodial account; only its hash is kept. */
export const holderClaims = pgTable(
  "holder_claims",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    holderId: uuid("holder_id").notNull().references(() => custodialHolders.id),
    codeHash: text("code_hash").notNull().unique(),
    idempotencyKey: text("idempotency_key").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true, mode: "date" }),
    usedBy: text("used_by"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("holder_claims_idempotency").on(t.institutionId, t.idempotencyKey)],
);

/**
 * The idempotency record of a mutation that has no operation row of its own to carry its key (webhooks, keys,
 * members, quotas, custody claims): written in the same transaction as the change, so a retry with the same key
 * finds either nothing (the change rolled back) or the result to answer again. `scope` is whose key it is
 * (`institution:<id>`, `operator`, `holder:<address>`); `result` names what the change produced.
 */
export const idempotentRequests = pgTable(
  "idempotent_requests",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    scope: text("scope").notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    operation: text("operation").notNull(),
    requestHash: text("request_hash").notNull(),
    result: jsonb("result").$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("idempotent_requests_key").on(t.scope, t.idempotencyKey)],
);

export const ANCHORED_CERTIFICATE_STATUSES = ["VALID", "REVOKED"] as const;
export type AnchoredCertificateStatus = (typeof ANCHORED_CERTIFICATE_STATUSES)[number];

/**
 * An anchored batch (core/operations/anchored.ts): many certificate documents under one Merkle root, put on the
 * collection's CertificateAnchor with one `issue(root)` (QUEUED → SUBMITTED → CONFIRMED | FAILED). The tree is built
 * when the request is accepted, so the root, and every holder's proof, are fixed before anything is signed.
 */
export const anchoredBatches = pgTable(
  "anchored_batches",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    collectionId: uuid("collection_id").notNull().references(() => collections.id),
    idempotencyKey: text("idempotency_key").notNull(),
    requestHash: text("request_hash").notNull(),
    /** 0x-hex Merkle root over the documents' digests: what the anchor contract holds. */
    root: text("root").notNull(),
    size: integer("size").notNull(),
    /** The block the root was anchored in, once CONFIRMED. */
    blockNumber: bigint("block_number", { mode: "number" }),
    /** When the whole batch was revoked (`revoke(root)` confirmed). */
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    ...operationColumns(UNPINNED_STATUSES),
  },
  (t) => [
    uniqueIndex("anchored_batches_idempotency").on(t.institutionId, t.idempotencyKey),
    // One root per anchor contract: the contract refuses a second `issue` of it anyway.
    uniqueIndex("anchored_batches_root").on(t.collectionId, t.root),
    index("anchored_batches_status").on(t.status),
  ],
);

/**
 * One certificate of an anchored batch: its document (the holder's file is rebuilt from it, its digest and the
 * batch's proof), kept so it can be handed out again. The document carries the holder's name in clear, as the
 * files the CLI writes do: it is never pinned or put on chain, only its digest is a leaf.
 */
export const anchoredCertificates = pgTable(
  "anchored_certificates",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    batchId: uuid("batch_id").notNull().references(() => anchoredBatches.id),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    /** Position in the batch (the leaf's index), from 0. */
    position: integer("position").notNull(),
    /** The document's own id (`certificate.id`). */
    documentId: text("document_id").notNull(),
    /** 0x-hex sha256 of the canonical document: the leaf, and what `revoke(digest)` names. */
    digest: text("digest").notNull(),
    recipient: text("recipient").notNull(),
    document: jsonb("document").$type<Record<string, unknown>>().notNull(),
    proof: jsonb("proof").$type<string[]>().notNull(),
    status: text("status", { enum: ANCHORED_CERTIFICATE_STATUSES }).notNull().default("VALID"),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("anchored_certificates_position").on(t.batchId, t.position),
    uniqueIndex("anchored_certificates_document").on(t.institutionId, t.documentId),
    index("anchored_certificates_digest").on(t.digest),
    // The revocation status list reads only the revoked ones: its cost follows them, not the size of the batches.
    index("anchored_certificates_revoked").on(t.batchId).where(sql`status <> 'VALID'`),
  ],
);

/**
 * Each anchored certificate's position in its ANCHORED collection's W3C Bitstring Status List (revocation only:
 * anchored certificates cannot be suspended), drawn at random when its batch is accepted, in the same transaction,
 * because the holder's file names it and that file is fixed at issue. Never changed; unique within the collection.
 */
export const anchoredStatusListIndices = pgTable(
  "anchored_status_list_indices",
  {
    certificateId: uuid("certificate_id").primaryKey().references(() => anchoredCertificates.id),
    collectionId: uuid("collection_id").notNull().references(() => collections.id),
    statusListIndex: integer("status_list_index").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("anchored_status_list_indices_position").on(t.collectionId, t.statusListIndex),
    check("anchored_status_list_indices_non_negative", sql`status_list_index >= 0`),
  ],
);

/**
 * The revocation of one anchored certificate (`revoke(digest)`) or of a whole batch (`revoke(root)`), with who asked,
 * why, and the transaction: QUEUED → SUBMITTED → CONFIRMED | FAILED. At most one per target that has not failed.
 */
export const anchoredRevocations = pgTable(
  "anchored_revocations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    batchId: uuid("batch_id").notNull().references(() => anchoredBatches.id),
    /** The certificate revoked; null when the whole batch is. */
    certificateId: uuid("certificate_id").references(() => anchoredCertificates.id),
    /** The bytes32 the contract is asked to revoke: the certificate's digest, or the batch's root. */
    target: text("target").notNull(),
    reason: text("reason").notNull(),
    /** Who asked: the API key, as `apiKey:<id>` (as erasures name their actor). */
    requestedBy: text("requested_by").notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    requestHash: text("request_hash").notNull(),
    ...operationColumns(UNPINNED_STATUSES),
  },
  (t) => [
    uniqueIndex("anchored_revocations_idempotency").on(t.institutionId, t.idempotencyKey),
    // A revocation that ended without reaching the chain (FAILED, REJECTED, EXPIRED) leaves its target free.
    uniqueIndex("anchored_revocations_active").on(t.batchId, t.target).where(sql`status not in ('FAILED', 'REJECTED', 'EXPIRED')`),
    index("anchored_revocations_batch").on(t.batchId),
  ],
);

export const APPROVAL_ACTIONS = [
  "REVOKE",
  "RECOVER",
  "CORRECT_METADATA",
  "SUSPEND",
  "BULK_ISSUANCE",
  "EDITION_CREATION",
  "AIRDROP",
  "ADMIN_API_KEY",
  "POLICY_CHANGE",
] as const;
export type ApprovalAction = (typeof APPROVAL_ACTIONS)[number];

/**
 * An institution's approval policy, per collection (null: the institution's default, which also covers what has
 * no collection: ADMIN keys, and policy changes themselves). Each rule names an action, how many distinct members
 * must approve, which roles may approve, and for bulk actions from how many items the rule applies.
 */
export interface ApprovalRule {
  action: ApprovalAction;
  required: number;
  approverRoles: MemberRole[];
  /** BULK_ISSUANCE and AIRDROP: the rule applies to requests of more than this many items. */
  aboveItems?: number | null;
}

export const approvalPolicies = pgTable(
  "approval_policies",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    collectionId: uuid("collection_id").references(() => collections.id),
    rules: jsonb("rules").$type<ApprovalRule[]>().notNull(),
    /** How long a request waits for approval before it ends EXPIRED. */
    ttlSeconds: integer("ttl_seconds").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("approval_policies_collection").on(t.institutionId, t.collectionId).where(sql`collection_id is not null`),
    uniqueIndex("approval_policies_default").on(t.institutionId).where(sql`collection_id is null`),
  ],
);

export const APPROVAL_REQUEST_STATUSES = ["AWAITING_APPROVAL", "APPROVED", "REJECTED", "EXPIRED"] as const;
export type ApprovalRequestStatus = (typeof APPROVAL_REQUEST_STATUSES)[number];

/**
 * A request held for approval: the operation it holds (its kind and id, AWAITING_APPROVAL until this ends), who
 * asked, the threshold and roles the policy set when it was asked, and what to release once approved (the outbox
 * entries the request would otherwise have written at once, or the policy to apply).
 */
export const approvalRequests = pgTable(
  "approval_requests",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    collectionId: uuid("collection_id").references(() => collections.id),
    action: text("action", { enum: APPROVAL_ACTIONS }).notNull(),
    /** The operation kind (core/operations/kinds.ts) held, or `apiKey` / `approvalPolicy`. */
    subjectKind: text("subject_kind").notNull(),
    subjectId: uuid("subject_id"),
    requestedByMemberId: uuid("requested_by_member_id"),
    requestedByKeyId: uuid("requested_by_key_id"),
    requestHash: text("request_hash").notNull(),
    required: integer("required").notNull(),
    approverRoles: text("approver_roles").array().notNull(),
    status: text("status", { enum: APPROVAL_REQUEST_STATUSES }).notNull().default("AWAITING_APPROVAL"),
    /** The outbox entries to write on approval. */
    release: jsonb("release").$type<{ topic: string; payload: Record<string, unknown> }[]>().notNull().default([]),
    /** POLICY_CHANGE: the policy to apply on approval. */
    payload: jsonb("payload").$type<Record<string, unknown>>(),
    /** sha256 of the approvals (core/approvals/approvals-hash.ts), once APPROVED. */
    approvalsHash: text("approvals_hash"),
    rejectionReason: text("rejection_reason"),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    decidedAt: timestamp("decided_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [
    index("approval_requests_waiting").on(t.institutionId, t.createdAt).where(sql`status = 'AWAITING_APPROVAL'`),
    index("approval_requests_expiry").on(t.expiresAt).where(sql`status = 'AWAITING_APPROVAL'`),
    index("approval_requests_subject").on(t.subjectId),
  ],
);

/** One member's decision on an approval request: a member decides once. */
export const approvals = pgTable(
  "approvals",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    requestId: uuid("request_id").notNull().references(() => approvalRequests.id),
    memberId: uuid("member_id").notNull().references(() => members.id),
    keyId: uuid("key_id").notNull(),
    decision: text("decision", { enum: ["APPROVE", "REJECT"] }).notNull(),
    reason: text("reason"),
    /** The decider's key for the call: sent again with the same decision, it answers the request as it stands. */
    idempotencyKey: text("idempotency_key"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("approvals_once").on(t.requestId, t.memberId)],
);

/**
 * The append-only audit log: one row per administrative action, chained per institution (`prevHash` is the
 * previous event's `hash`, `seq` counts from 1) and written in the transaction of the change it records. Rows are
 * only ever inserted; the anchoring stage sets `anchorId` and `leafIndex` once, which are not part of the hash.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    seq: bigint("seq", { mode: "number" }).notNull(),
    kind: text("kind").notNull(),
    /** `member:<id>`, `apiKey:<id>`, `operator`, `worker`. */
    actorMemberId: uuid("actor_member_id"),
    actorKeyId: text("actor_key_id"),
    actor: text("actor").notNull(),
    subjectKind: text("subject_kind"),
    subjectId: text("subject_id"),
    data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
    requestHash: text("request_hash"),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
    anchorId: uuid("anchor_id"),
    leafIndex: integer("leaf_index"),
  },
  (t) => [
    uniqueIndex("audit_events_chain").on(t.institutionId, t.seq),
    index("audit_events_unanchored").on(t.institutionId, t.seq).where(sql`anchor_id is null`),
    index("audit_events_at").on(t.institutionId, t.at),
  ],
);

/** Where each institution's audit chain ends: locked by every append, so appends of one institution are serial. */
export const auditHeads = pgTable("audit_heads", {
  institutionId: uuid("institution_id").primaryKey().references(() => institutions.id),
  seq: bigint("seq", { mode: "number" }).notNull(),
  hash: text("hash").notNull(),
});

/**
 * A Merkle root over one institution's audit events `firstSeq..lastSeq`, anchored on chain by the issuer registry's
 * `anchorAuditLog`: QUEUED → SUBMITTED → CONFIRMED | FAILED, sent by the audit-anchor stage with the admin key.
 */
export const auditAnchors = pgTable(
  "audit_anchors",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    institutionId: uuid("institution_id").notNull().references(() => institutions.id),
    firstSeq: bigint("first_seq", { mode: "number" }).notNull(),
    lastSeq: bigint("last_seq", { mode: "number" }).notNull(),
    root: text("root").notNull(),
    /** The contract it was anchored on and the block, once CONFIRMED. */
    contractAddress: text("contract_address"),
    blockNumber: bigint("block_number", { mode: "number" }),
    ...operationColumns(UNPINNED_STATUSES),
  },
  // One anchor per range that has not failed (a failed one hands its events back to the next period's).
  (t) => [index("audit_anchors_status").on(t.status), uniqueIndex("audit_anchors_range").on(t.institutionId, t.firstSeq).where(sql`status <> 'FAILED'`)],
);
