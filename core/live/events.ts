import type { IssuanceStatus, OperationStatus } from "../db/schema.ts";
import type { PublishedKind } from "../operations/kinds.ts";

/** The operations whose state changes travel live (and to webhooks): those the kinds registry publishes. */
export type LiveOperationKind = PublishedKind;

/**
 * What travels on the live channels: notices of state changes that have committed. They are hints for live
 * views (GraphQL subscriptions), sent at most once and possibly lost; the database stays the record.
 */

/** One operation as it entered `status`, with what the change made known. */
export interface OperationChange {
  id: string;
  /** The bulk issuance the issuance belongs to, if any. */
  bulkIssuanceId?: string | null;
  txHash?: string | null;
  error?: string | null;
  metadataCid?: string;
  digest?: string;
  /** The certificate, once an issuance is CONFIRMED. */
  certificateId?: string | null;
  /** An airdrop's items minted so far, and in all: told again, in SUBMITTED, as each batch is confirmed. */
  minted?: number;
  total?: number;
}

/** Operations of one institution that entered one state in one committed transaction. */
export interface OperationsChanged {
  type: "operations";
  institutionId: string;
  kind: LiveOperationKind;
  status: OperationStatus;
  /** When the change was made: the operations' `updatedAt` (ISO 8601). */
  at: string;
  operations: OperationChange[];
}

/** Where a bulk issuance stands, read after one of its items ended. */
export interface BulkProgressed {
  type: "bulk";
  institutionId: string;
  id: string;
  total: number;
  /** Items that ended: confirmed, failed, or rejected at the door. */
  done: number;
  failed: number;
  confirmed: number;
  rejected: number;
  byStatus: Record<IssuanceStatus, number>;
  /** When the counts were read (ISO 8601). */
  at: string;
}

export type LiveMessage = OperationsChanged | BulkProgressed;

/** A change as `transitionMany` and `markPinned` report it to the pipeline: per row, its institution. */
export interface StateChange {
  kind: LiveOperationKind;
  status: OperationStatus;
  at: Date;
  rows: { id: string; institutionId: string; bulkId?: string | null }[];
  /** What the change says beyond the status: the same for every row, or each row's own. */
  details: Record<string, unknown> | ((id: string) => Record<string, unknown>);
}

const PREFIX = "hallmark:live:";

/** The Redis channel of one institution's live messages; every message of that institution travels on it. */
export function institutionChannel(institutionId: string): string {
  return `${PREFIX}${institutionId}`;
}
