/** Stable codes for expected failures; the API puts them in `extensions.code`. */
export type OperationErrorCode =
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "IDEMPOTENCY_CONFLICT"
  | "CERTIFICATE_NOT_ACTIVE"
  | "UNAUTHENTICATED"
  | "FORBIDDEN";

/** An expected failure caused by the request, safe to show to the caller as it is. */
export class OperationError extends Error {
  readonly code: OperationErrorCode;
  readonly field?: string;
  constructor(code: OperationErrorCode, message: string, field?: string) {
    super(message);
    this.name = "OperationError";
    this.code = code;
    this.field = field;
  }
}
