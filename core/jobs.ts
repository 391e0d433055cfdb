import type { JobsOptions } from "bullmq";

/** One queue carries every chain operation; each job names its operation row, state lives in the database. */
export const OPERATIONS_QUEUE = "hallmark-operations";

export interface IssueCertificateJob {
  issuanceId: string;
}
export interface RevokeCertificateJob {
  revocationId: string;
}
/** Recovery, metadata correction, suspension or its lifting, of one certificate (`certificate_operations`). */
export interface CertificateOperationJob {
  operationId: string;
}

/** A platform operator's change on chain (issuer registry or certificate registry roles). */
export interface RegistryOperationJob {
  operationId: string;
}

export interface JobPayloads {
  "issue-certificate": IssueCertificateJob;
  "revoke-certificate": RevokeCertificateJob;
  "registry-operation": RegistryOperationJob;
  "certificate-operation": CertificateOperationJob;
}
export type JobName = keyof JobPayloads;

/** Outbox topics map one-to-one onto job names. */
export const OUTBOX_TOPICS = ["issue-certificate", "revoke-certificate", "registry-operation", "certificate-operation"] as const satisfies readonly JobName[];

/**
 * The job id derives from the operation id, so the relay may enqueue the same outbox row twice (after a
 * crash between enqueue and marking it dispatched) and BullMQ still holds one job.
 */
export function jobIdFor<N extends JobName>(name: N, payload: JobPayloads[N]): string {
  switch (name) {
    case "issue-certificate":
      return `issue-${(payload as IssueCertificateJob).issuanceId}`;
    case "revoke-certificate":
      return `revoke-${(payload as RevokeCertificateJob).revocationId}`;
    case "registry-operation":
      return `registry-${(payload as RegistryOperationJob).operationId}`;
    case "certificate-operation":
      return `certop-${(payload as CertificateOperationJob).operationId}`;
    default:
      throw new Error(`unknown job ${name satisfies never}`);
  }
}

/** Transient faults (RPC down, IPFS slow) retry with backoff; poison input fails at once via UnrecoverableError. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 12,
  backoff: { type: "exponential", delay: 500 },
  removeOnComplete: { age: 3600, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};
