/** Stable codes for expected failures; the API puts them in `extensions.code`. */
export type OperationErrorCode =
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "IDEMPOTENCY_CONFLICT"
  | "CERTIFICATE_NOT_ACTIVE"
  | "CERTIFICATE_REVOKED"
  | "CERTIFICATE_SUPERSEDED"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "QUOTA_EXCEEDED"
  | "INSTITUTION_SUSPENDED"
  | "INSTITUTION_PENDING"
  | "LAST_OWNER"
  | "CONFLICT"
  | "EDITION_SOLD_OUT"
  | "EDITION_NOT_READY"
  | "COLLECTION_NOT_READY"
  | "CLAIM_CODE_INVALID"
  | "CLAIM_CODE_USED"
  | "CLAIM_CODE_EXPIRED"
  | "ALREADY_CLAIMED"
  | "FILE_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "RATE_LIMITED";

/** An expected failure caused by the request, safe to show to the caller as it is. */
export class OperationError extends Error {
  readonly code: OperationErrorCode;
  readonly field?: string;
  /** Further facts for `extensions` (e.g. a quota's limit and usage). */
  readonly details?: Record<string, unknown>;
  constructor(code: OperationErrorCode, message: string, field?: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "OperationError";
    this.code = code;
    this.field = field;
    this.details = details;
  }
}
