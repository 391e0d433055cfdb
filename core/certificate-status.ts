import type { CertificateStatus } from "./db/schema.ts";

/**
 * A certificate's status as the API reports it. Expiry is never recorded (no transaction or event marks it): it is
 * derived from `validUntil` at the time of asking, as the registry's `status()` and the verification derive it.
 */
export const API_CERTIFICATE_STATUSES = ["VALID", "REVOKED", "SUSPENDED", "SUPERSEDED", "EXPIRED"] as const;
export type ApiCertificateStatus = (typeof API_CERTIFICATE_STATUSES)[number];

/**
 * The status at `now`, with the registry's precedence (`CertificateRegistry.status`): REVOKED and SUPERSEDED are
 * final and win; then EXPIRED once `validUntil` is past, even for a suspended certificate; then the recorded
 * SUSPENDED or VALID.
 */
export function certificateStatusAt(row: { status: CertificateStatus; validUntil: Date | null }, now: Date = new Date()): ApiCertificateStatus {
  if (row.status === "REVOKED" || row.status === "SUPERSEDED") return row.status;
  if (row.validUntil && row.validUntil.getTime() < now.getTime()) return "EXPIRED";
  return row.status;
}
