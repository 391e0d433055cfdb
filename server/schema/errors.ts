import type { OperationErrorCode } from "../../core/operations/errors.ts";
import { builder } from "../builder.ts";
import {
  ApiError,
  CertificateStateError,
  ClaimCodeError,
  CollectionNotReadyError,
  ConflictError,
  EditionUnavailableError,
  IdempotencyConflictError,
  InstitutionNotActiveError,
  InvalidInputError,
  NotAllowedError,
  NotFoundError,
  QuotaExceededError,
} from "../errors.ts";
import { describedValues, OperationStatusEnum } from "./enums.ts";
import { OPERATION_STATUSES, type OperationStatus } from "../../core/db/schema.ts";

const CODES: Record<OperationErrorCode, string> = {
  BAD_USER_INPUT: "An input is malformed or out of range; `field` names it.",
  FILE_TOO_LARGE: "An uploaded file is larger than allowed.",
  UNSUPPORTED_MEDIA_TYPE: "An uploaded file is of a type not accepted.",
  NOT_FOUND: "Nothing the caller may see has this id.",
  IDEMPOTENCY_CONFLICT: "The idempotency key was used before for a different request.",
  QUOTA_EXCEEDED: "The request would pass one of the institution's quotas.",
  CERTIFICATE_NOT_ACTIVE: "The certificate is not in force.",
  CERTIFICATE_REVOKED: "The certificate is revoked, or being revoked.",
  CERTIFICATE_SUPERSEDED: "The certificate was superseded by a recovered one; act on that one.",
  INSTITUTION_SUSPENDED: "The institution is suspended by the platform operator.",
  INSTITUTION_PENDING: "The institution's registration on chain is not CONFIRMED yet.",
  EDITION_SOLD_OUT: "The edition has fewer items left than the request needs.",
  EDITION_NOT_READY: "The edition is not CONFIRMED on chain yet.",
  COLLECTION_NOT_READY: "The collection's contract is not CONFIRMED on chain yet, or its creation FAILED.",
  CLAIM_CODE_INVALID: "No claim code of this institution matches.",
  CLAIM_CODE_USED: "The claim code was redeemed already.",
  CLAIM_CODE_EXPIRED: "The claim code has expired.",
  CONFLICT: "Another operation on the same object is under way, or the object is in another state.",
  LAST_OWNER: "The institution's last OWNER cannot be removed or demoted.",
  ALREADY_CLAIMED: "The holder has claimed their certificates already.",
  FORBIDDEN: "The caller may not do this particular thing.",
  UNAUTHENTICATED: "The caller's proof of identity was refused.",
  RATE_LIMITED: "Too many requests of this kind for this address or client; `extensions.retryAfterSeconds` says when to try again.",
};

export const ErrorCodeEnum = builder.enumType("ErrorCode", {
  description: "Stable code of an expected failure. The same code appears in `extensions.code` when a failure is a GraphQL error.",
  values: describedValues(Object.keys(CODES) as OperationErrorCode[], CODES),
});

/** Every typed error answers `... on Error { code message field }`. */
export const ErrorInterface = builder.interfaceRef<ApiError>("Error").implement({
  description: "An expected failure, returned in a mutation's result union instead of its payload. Nothing of the request was recorded.",
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, description: "Stable code; branch on this (or on the type).", resolve: (e) => e.code }),
    message: t.string({ description: "What went wrong, for people.", resolve: (e) => e.message }),
    field: t.string({
      nullable: true,
      description: "Path of the input at fault (`input.recipient`'s is `recipient`; an item's `items.3.recipient`), when one is.",
      resolve: (e) => e.field,
    }),
  }),
});

/** An error type whose fields are the interface's. */
function errorType(cls: typeof ApiError, name: string, description: string): void {
  builder.objectType(cls, { name, description, interfaces: [ErrorInterface], fields: () => ({}) });
}

const detail = (key: string) => (e: ApiError) => {
  const value = e.details[key];
  return typeof value === "number" ? value : null;
};

errorType(InvalidInputError, "InvalidInputError", "The request is malformed or out of range (BAD_USER_INPUT, FILE_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE).");
errorType(NotFoundError, "NotFoundError", "Nothing the caller may see has this id; another institution's object is answered alike (NOT_FOUND).");
errorType(IdempotencyConflictError, "IdempotencyConflictError", "The idempotency key named an earlier, different request (IDEMPOTENCY_CONFLICT).");
builder.objectType(QuotaExceededError, {
  name: "QuotaExceededError",
  description: "The request would pass one of the institution's quotas; nothing of it was recorded (QUOTA_EXCEEDED).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    quota: t.string({ description: "Which quota: `issuancesPerMonth`, `maxBatchSize` or `storageBytes`.", resolve: (e) => String(e.details.quota ?? "") }),
    limit: t.float({ description: "The limit.", resolve: (e) => detail("limit")(e) ?? 0 }),
    used: t.float({ description: "Used so far in the quota's period.", resolve: (e) => detail("used")(e) ?? 0 }),
    requested: t.float({ description: "What this request needed.", resolve: (e) => detail("requested")(e) ?? 0 }),
  }),
});
errorType(CertificateStateError, "CertificateStateError", "The certificate's state rules the operation out (CERTIFICATE_REVOKED, CERTIFICATE_SUPERSEDED, CERTIFICATE_NOT_ACTIVE).");
errorType(InstitutionNotActiveError, "InstitutionNotActiveError", "The institution may not issue: not CONFIRMED on chain yet, or suspended (INSTITUTION_PENDING, INSTITUTION_SUSPENDED).");
builder.objectType(EditionUnavailableError, {
  name: "EditionUnavailableError",
  description: "The edition cannot give out items now (EDITION_NOT_READY) or has too few left (EDITION_SOLD_OUT).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    itemsLeft: t.int({ nullable: true, description: "Items left to give out, when sold out.", resolve: detail("remaining") }),
    itemsRequested: t.int({ nullable: true, description: "Items the request needed, when sold out.", resolve: detail("requested") }),
  }),
});
builder.objectType(CollectionNotReadyError, {
  name: "CollectionNotReadyError",
  description: "The collection's contract is not CONFIRMED on chain: its creation is under way or FAILED (COLLECTION_NOT_READY).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    status: t.field({
      type: OperationStatusEnum,
      description: "Where the collection's creation stands.",
      resolve: (e) => ((OPERATION_STATUSES as readonly string[]).includes(String(e.details.status)) ? (e.details.status as OperationStatus) : "QUEUED"),
    }),
  }),
});
errorType(ClaimCodeError, "ClaimCodeError", "The claim code is unknown, used or expired (CLAIM_CODE_INVALID, CLAIM_CODE_USED, CLAIM_CODE_EXPIRED).");
errorType(ConflictError, "ConflictError", "The request clashes with the object's current state (CONFLICT, LAST_OWNER, ALREADY_CLAIMED).");
errorType(NotAllowedError, "NotAllowedError", "The caller may not do this particular thing, or its proof was refused (FORBIDDEN, UNAUTHENTICATED).");

