import type { JobsOptions } from "bullmq";
import { OPERATION_KINDS, OPERATION_KIND_NAMES, type JobKind, type JobName, type JobPayloads } from "./operations/kinds.ts";

export type { JobName, JobPayloads } from "./operations/kinds.ts";

/** One queue carries every chain operation; each job names its operation row, state lives in the database. */
export const OPERATIONS_QUEUE = "hallmark-operations";

export type IssueCertificateJob = JobPayloads["issue-certificate"];
export type RevokeCertificateJob = JobPayloads["revoke-certificate"];
/** Recovery, metadata correction, suspension or its lifting, of one certificate (`certificate_operations`). */
export type CertificateOperationJob = JobPayloads["certificate-operation"];
/** A platform operator's change on chain (issuer registry or certificate registry roles). */
export type RegistryOperationJob = JobPayloads["registry-operation"];
/** The creation of a collection's contract (`collections`). */
export type DeployCollectionJob = JobPayloads["deploy-collection"];
/** An anchored batch's `issue(root)` (`anchored_batches`), and an anchored certificate's or batch's revocation. */
export type AnchorBatchJob = JobPayloads["anchor-batch"];
export type RevokeAnchoredJob = JobPayloads["revoke-anchored"];

const JOB_KINDS = OPERATION_KIND_NAMES.filter((k): k is JobKind => OPERATION_KINDS[k].job !== null);

/** Outbox topics map one-to-one onto job names. */
export const OUTBOX_TOPICS: readonly JobName[] = JOB_KINDS.map((k) => OPERATION_KINDS[k].job.name);

/** The job that moves one operation of a kind: its name and payload. */
export function jobFor<K extends JobKind>(kind: K, id: string): { name: JobName; data: JobPayloads[JobName] } {
  const job = OPERATION_KINDS[kind].job;
  return { name: job.name, data: { [job.idField]: id } as JobPayloads[JobName] };
}

/**
 * The job id derives from the operation id, so the relay may enqueue the same outbox row twice (after a
 * crash between enqueue and marking it dispatched) and BullMQ still holds one job.
 */
export function jobIdFor<N extends JobName>(name: N, payload: JobPayloads[N]): string {
  const kind = JOB_KINDS.find((k) => OPERATION_KINDS[k].job.name === name);
  if (!kind) throw new Error(`unknown job ${name}`);
  const { idField, idPrefix } = OPERATION_KINDS[kind].job;
  return `${idPrefix}${(payload as Record<string, string>)[idField]}`;
}

/** Transient faults (RPC down, IPFS slow) retry with backoff; poison input fails at once via UnrecoverableError. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 12,
  backoff: { type: "exponential", delay: 500 },
  removeOnComplete: { age: 3600, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};
