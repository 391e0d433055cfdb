import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import {
  anchoredBatches,
  anchoredRevocations,
  auditAnchors,
  certificateOperations,
  collections,
  editionMintBatches,
  editionOperations,
  editions,
  issuances,
  OPERATION_STATUSES,
  registryOperations,
  revocations,
  UNPINNED_STATUSES,
  type OperationStatus,
} from "../db/schema.ts";

/**
 * Every kind of operation Hallmark carries to the chain, in one place: its table and states, the job that moves
 * it (if any), whether its state changes are published (webhooks and live status), how it counts for queue
 * standing, which of its states are re-dispatched when stale, and what becomes of it when its transaction
 * reverts. Transitions, the outbox relay, the transaction monitor, standing, live status and the job list all
 * read this; a new kind is one entry, and an entry missing a piece does not compile (`satisfies` below).
 */
export const OPERATION_KINDS = {
  issuance: {
    table: issuances,
    statuses: OPERATION_STATUSES,
    /** The log line's name ("issuance PINNED"). A published kind is published under its key (`issuance.confirmed`). */
    label: "issuance",
    published: true,
    job: { name: "issue-certificate", idField: "issuanceId", idPrefix: "issue-" },
    /** The states in which a stale operation (no transaction yet) gets its job enqueued again. */
    redispatch: ["QUEUED"],
    /** Queue standing: work done per second assumed after a quiet minute (one batch of a hundred and more a block). */
    standing: { coldRate: 20 },
    /** A reverted batch hands its issuances back to the batcher once (estimation then isolates the cause). */
    release: { retryOnceAs: "PINNED" },
    /** The bulk issuance a row belongs to, told with its changes (live bulk progress). */
    bulkColumn: issuances.bulkId,
  },
  revocation: {
    table: revocations,
    statuses: UNPINNED_STATUSES,
    label: "revocation",
    published: true,
    job: { name: "revoke-certificate", idField: "revocationId", idPrefix: "revoke-" },
    redispatch: ["QUEUED"],
    standing: { coldRate: 2 },
    release: "fail",
  },
  certificateOperation: {
    table: certificateOperations,
    statuses: OPERATION_STATUSES,
    label: "certificateOperation",
    published: true,
    job: { name: "certificate-operation", idField: "operationId", idPrefix: "certop-" },
    redispatch: ["QUEUED", "PINNED"],
    standing: { coldRate: 2 },
    release: "fail",
  },
  registryOperation: {
    table: registryOperations,
    statuses: UNPINNED_STATUSES,
    label: "registry operation",
    // An operator's change: no institution endpoint hears of it.
    published: false,
    job: { name: "registry-operation", idField: "operationId", idPrefix: "registry-" },
    redispatch: ["QUEUED"],
    standing: { coldRate: 1 },
    // The registry confirmer reads the outcome back from the chain, a revert included.
    release: "byStage",
  },
  edition: {
    table: editions,
    statuses: OPERATION_STATUSES,
    label: "edition",
    published: true,
    /** Columns a transition sets that are not told to webhooks or live status (`chainTxId` never is). */
    internalColumns: ["contractId"],
    // Carried by the editions stages, which poll the table: no job.
    job: null,
    redispatch: [],
    standing: { coldRate: 1 },
    release: "fail",
  },
  editionOperation: {
    table: editionOperations,
    statuses: UNPINNED_STATUSES,
    label: "editionOperation",
    published: true,
    internalColumns: ["sent"],
    /** Read back from the row and told with every change: an airdrop's progress. */
    toldFromRow: ["minted", "total"],
    job: null,
    redispatch: [],
    // Items, not operations: many an airdrop's batch (core/operations/standing.ts counts its items).
    standing: { coldRate: 50 },
    // Its batches revert one by one; the airdrop stage settles the operation (a claim's voucher may have been spent).
    release: "byStage",
  },
  collection: {
    table: collections,
    statuses: UNPINNED_STATUSES,
    label: "collection",
    published: true,
    job: { name: "deploy-collection", idField: "collectionId", idPrefix: "collection-" },
    redispatch: ["QUEUED"],
    // Sent by the admin key alone, not in the issuing keys' queue: no place in line to tell.
    standing: null,
    // Two transactions (the creation, then the binding): the collection stage reads both outcomes.
    release: "byStage",
  },
  anchoredBatch: {
    table: anchoredBatches,
    statuses: UNPINNED_STATUSES,
    label: "anchoredBatch",
    published: true,
    job: { name: "anchor-batch", idField: "batchId", idPrefix: "anchor-" },
    redispatch: ["QUEUED"],
    // One transaction however many certificates: it waits its turn like a revocation.
    standing: { coldRate: 2 },
    // The anchored-batches stage reads the outcome (a reverted `issue(root)` fails the batch).
    release: "byStage",
  },
  anchoredRevocation: {
    table: anchoredRevocations,
    statuses: UNPINNED_STATUSES,
    label: "anchoredRevocation",
    published: true,
    job: { name: "revoke-anchored", idField: "revocationId", idPrefix: "anchored-revoke-" },
    redispatch: ["QUEUED"],
    standing: { coldRate: 2 },
    release: "byStage",
  },
  auditAnchor: {
    table: auditAnchors,
    statuses: UNPINNED_STATUSES,
    label: "auditAnchor",
    // The platform's own bookkeeping: institutions read it through the audit log, not as webhooks.
    published: false,
    // Made and sent by the audit-anchor stage, which polls its table: no job.
    job: null,
    redispatch: [],
    // Sent with the admin key, not in the issuing keys' queue.
    standing: null,
    // The stage reads the outcome and hands a reverted anchor's events to the next period.
    release: "byStage",
  },
} as const satisfies Record<string, OperationKindEntry>;

/** What an entry must say. */
export interface OperationKindEntry {
  table: OperationTable;
  statuses: readonly OperationStatus[];
  label: string;
  published: boolean;
  job: { name: string; idField: string; idPrefix: string } | null;
  redispatch: readonly OperationStatus[];
  /** null: does not wait its turn for the chain. */
  standing: { coldRate: number } | null;
  /**
   * What the transaction monitor does with the operations of a reverted transaction: hand them back once (to the
   * state given, without the transaction; FAILED the second time), fail them, or leave them to the kind's own stage.
   */
  release: { retryOnceAs: OperationStatus } | "fail" | "byStage";
  bulkColumn?: PgColumn;
  internalColumns?: readonly string[];
  toldFromRow?: readonly string[];
}

/** The columns every operation table has (core/db/schema.ts `operationColumns`, bar the transaction for airdrops). */
export type OperationTable = PgTable & {
  id: PgColumn;
  institutionId: PgColumn;
  status: PgColumn;
  error: PgColumn;
  createdAt: PgColumn;
  updatedAt: PgColumn;
};

type Kinds = typeof OPERATION_KINDS;
export type OperationKind = keyof Kinds;
export const OPERATION_KIND_NAMES = Object.keys(OPERATION_KINDS) as OperationKind[];

/** A kind's row as stored. */
export type OperationRowOf<K extends OperationKind> = Kinds[K]["table"]["$inferSelect"];
/** The states a kind goes through. */
export type StatusOf<K extends OperationKind> = Kinds[K]["statuses"][number] & OperationRowOf<K>["status"];
/** Columns a transition of this kind may set besides its status (`updatedAt` is always set). */
export type ColumnsOf<K extends OperationKind> = Partial<Omit<Kinds[K]["table"]["$inferInsert"], "id" | "institutionId" | "status" | "createdAt" | "updatedAt">>;

/** The kinds whose state changes go to webhooks and live status, by the names they are published under. */
export type PublishedKind = { [K in OperationKind]: Kinds[K]["published"] extends true ? K : never }[OperationKind];
/** The kinds moved by a queued job. */
export type JobKind = { [K in OperationKind]: Kinds[K]["job"] extends null ? never : K }[OperationKind];
/** The kinds that wait their turn for the chain (queue position and estimated confirmation). */
export type StandingKind = { [K in OperationKind]: Kinds[K]["standing"] extends null ? never : K }[OperationKind];

type JobOf<K extends JobKind> = NonNullable<Kinds[K]["job"]>;
/** Job name → its payload: the operation's id under the kind's field name. */
export type JobPayloads = { [K in JobKind as JobOf<K>["name"]]: { [F in JobOf<K>["idField"]]: string } };
export type JobName = keyof JobPayloads;

/**
 * Tables whose rows name the chain transaction carrying them: a transaction dropped and signed again under a new
 * nonce takes all of them along. An airdrop's batches are rows of their own, one per transaction.
 */
export const CHAIN_TX_TABLES: readonly (PgTable & { chainTxId: PgColumn; txHash: PgColumn; updatedAt: PgColumn })[] = [
  ...Object.values(OPERATION_KINDS)
    .map((k) => k.table as OperationTable)
    .filter((t): t is OperationTable & { chainTxId: PgColumn; txHash: PgColumn } => "chainTxId" in t),
  editionMintBatches,
];

export function isPublished(kind: OperationKind): kind is PublishedKind {
  return OPERATION_KINDS[kind].published;
}
