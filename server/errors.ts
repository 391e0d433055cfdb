import { GraphQLError } from "graphql";
import { OperationError, type OperationErrorCode } from "../core/operations/errors.ts";

/**
 * An expected failure of a request. A mutation that lists its class (the errors plugin's `errors.types`) answers
 * it as a typed member of its result union; anywhere else it is still a GraphQL error with the same
 * `extensions.code`, never masked as an internal error.
 */
export class ApiError extends GraphQLError {
  readonly code: OperationErrorCode;
  readonly field: string | null;
  /** Further facts (e.g. a quota's limit and usage), also carried in `extensions` for the untyped form. */
  readonly details: Record<string, unknown>;
  constructor(code: OperationErrorCode, message: string, field?: string | null, details: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...(field ? { field } : {}), ...details } });
    this.code = code;
    this.field = field ?? null;
    this.details = details;
  }
}

/** The request itself is malformed or out of range; `field` names the input at fault. */
export class InvalidInputError extends ApiError {}
/** The object named does not exist, or belongs to another institution (the two are answered alike). */
export class NotFoundError extends ApiError {}
/** The idempotency key was used before for a different request. */
export class IdempotencyConflictError extends ApiError {}
/** The request would pass one of the institution's quotas; nothing of it was recorded. */
export class QuotaExceededError extends ApiError {}
/** The certificate is revoked, superseded or otherwise not in a state that allows the operation. */
export class CertificateStateError extends ApiError {}
/** The institution may not issue yet (PENDING) or any more (SUSPENDED). */
export class InstitutionNotActiveError extends ApiError {}
/** The edition has not been created on chain yet, or has too few items left. */
export class EditionUnavailableError extends ApiError {}
/** The collection's contract is not CONFIRMED on chain yet (or its creation failed): `extensions.status` says where it stands. */
export class CollectionNotReadyError extends ApiError {}
/** A claim code that is unknown, already used or expired. */
export class ClaimCodeError extends ApiError {}
/** The operation clashes with the current state (another operation under way, the last owner, a claim already made). */
export class ConflictError extends ApiError {}
/** The caller may not do this particular thing (e.g. give a key scopes it lacks itself). */
export class NotAllowedError extends ApiError {}

const classOf: Record<OperationErrorCode, new (code: OperationErrorCode, message: string, field?: string | null, details?: Record<string, unknown>) => ApiError> = {
  BAD_USER_INPUT: InvalidInputError,
  FILE_TOO_LARGE: InvalidInputError,
  UNSUPPORTED_MEDIA_TYPE: InvalidInputError,
  NOT_FOUND: NotFoundError,
  IDEMPOTENCY_CONFLICT: IdempotencyConflictError,
  QUOTA_EXCEEDED: QuotaExceededError,
  CERTIFICATE_NOT_ACTIVE: CertificateStateError,
  CERTIFICATE_REVOKED: CertificateStateError,
  CERTIFICATE_SUPERSEDED: CertificateStateError,
  INSTITUTION_SUSPENDED: InstitutionNotActiveError,
  INSTITUTION_PENDING: InstitutionNotActiveError,
  EDITION_SOLD_OUT: EditionUnavailableError,
  EDITION_NOT_READY: EditionUnavailableError,
  COLLECTION_NOT_READY: CollectionNotReadyError,
  CLAIM_CODE_INVALID: ClaimCodeError,
  CLAIM_CODE_USED: ClaimCodeError,
  CLAIM_CODE_EXPIRED: ClaimCodeError,
  CONFLICT: ConflictError,
  LAST_OWNER: ConflictError,
  ALREADY_CLAIMED: ConflictError,
  FORBIDDEN: NotAllowedError,
  UNAUTHENTICATED: NotAllowedError,
  RATE_LIMITED: NotAllowedError,
};

/** The API's form of an expected failure raised by `core/`. */
export function apiError(err: OperationError): ApiError {
  return new classOf[err.code](err.code, err.message, err.field, err.details);
}

/** Runs a resolver, turning the expected failures `core/` raises into the API's typed errors. */
export async function withOperationErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw err instanceof OperationError ? apiError(err) : err;
  }
}

export function notFound(what: string): NotFoundError {
  return new NotFoundError("NOT_FOUND", `${what} not found`);
}

export function invalidInput(message: string, field?: string): InvalidInputError {
  return new InvalidInputError("BAD_USER_INPUT", message, field);
}
