import { bulkIssuances } from "../../core/db/schema.ts";
import { bulkProgress, MAX_BULK_ITEMS, requestBulkIssuance, type BulkIssuance } from "../../core/operations/bulk-issue.ts";
import type { BatchItemResult } from "../../core/operations/issue.ts";
import type { ApprovalRequest } from "../../core/approvals/hold.ts";
import { actorOf } from "../auth/actor.ts";
import { builder } from "../builder.ts";
import { CollectionNotReadyError, IdempotencyConflictError, InstitutionNotActiveError, NotFoundError, QuotaExceededError, invalidInput, withOperationErrors } from "../errors.ts";
import { ownedRow, rawId } from "./ids.ts";
import { IssuanceRef, IssueCertificateItemInput } from "./issuance.ts";
import { ownedRows } from "./loaders.ts";

const BulkIssuanceRef = builder.node(builder.objectRef<BulkIssuance>("BulkIssuance"), {
  description: "Many certificates requested as one operation; each item is an ordinary issuance.",
  id: { resolve: (b) => b.id },
  loadMany: (ids, ctx) => ownedRows(ctx, bulkIssuances, ids),
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier." }),
    idempotencyKey: t.exposeString("idempotencyKey", { description: "The key the issuer sent with the request." }),
    total: t.exposeInt("total", { description: "Items in the request." }),
    rejected: t.exposeInt("rejected", { description: "Items refused at the door (bad input or idempotency conflict)." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the request was accepted." }),
    progress: t.field({
      type: BulkProgressRef,
      description: "How many items stand where, read now.",
      resolve: (b, _args, ctx) => bulkProgress(ctx.db, b),
    }),
  }),
});

const BulkProgressRef = builder
  .objectRef<Awaited<ReturnType<typeof bulkProgress>>>("BulkIssuanceProgress")
  .implement({
    description: "Progress of a bulk issuance: `done` of `total` items have ended (confirmed, failed or rejected).",
    fields: (t) => ({
      total: t.exposeInt("total", { description: "Items in the request." }),
      done: t.exposeInt("done", { description: "Items that have ended." }),
      queued: t.int({ description: "Items QUEUED.", resolve: (p) => p.byStatus.QUEUED }),
      pinned: t.int({ description: "Items PINNED.", resolve: (p) => p.byStatus.PINNED }),
      submitted: t.int({ description: "Items SUBMITTED.", resolve: (p) => p.byStatus.SUBMITTED }),
      confirmed: t.int({ description: "Items CONFIRMED.", resolve: (p) => p.byStatus.CONFIRMED }),
      failed: t.int({ description: "Items FAILED on the way.", resolve: (p) => p.byStatus.FAILED }),
      awaitingApproval: t.int({ description: "Items held by the collection's approval policy (BULK_ISSUANCE).", resolve: (p) => p.byStatus.AWAITING_APPROVAL }),
      rejectedByApprovers: t.int({ description: "Items whose approval was rejected or expired: never issued.", resolve: (p) => p.byStatus.REJECTED + p.byStatus.EXPIRED }),
      rejected: t.exposeInt("rejected", { description: "Items refused at the door." }),
    }),
  });

const ItemErrorRef = builder.objectRef<{ code: string; message: string; field?: string }>("ItemError").implement({
  description: "Why one item of a bulk request was refused.",
  fields: (t) => ({
    code: t.exposeString("code", { description: "Stable error code, as in `extensions.code`." }),
    message: t.exposeString("message", { description: "Human-readable explanation." }),
    field: t.exposeString("field", { nullable: true, description: "The item's field at fault." }),
  }),
});

const ItemResultRef = builder.objectRef<BatchItemResult>("BulkItemResult").implement({
  description: "The outcome of one item: its issuance, or the error that refused it.",
  fields: (t) => ({
    index: t.exposeInt("index", { description: "Position of the item in the request (from 0)." }),
    created: t.exposeBoolean("created", { description: "False when the item's idempotency key named an earlier issuance." }),
    issuance: t.field({ type: IssuanceRef, nullable: true, description: "The item's issuance.", resolve: (r) => r.issuance ?? null }),
    error: t.field({
      type: ItemErrorRef,
      nullable: true,
      description: "Why the item was refused.",
      resolve: (r) => (r.error ? { code: r.error.code, message: r.error.message, field: r.error.field } : null),
    }),
  }),
});

const IssueCertificatesPayload = builder
  .objectRef<{ bulk: BulkIssuance; results: BatchItemResult[]; approvalRequest?: ApprovalRequest }>("IssueCertificatesPayload")
  .implement({
    description: "Result of issueCertificates: the bulk operation and one result per item, in request order.",
    fields: (t) => ({
      bulkIssuance: t.field({ type: BulkIssuanceRef, description: "The bulk operation; follow its progress.", resolve: (p) => p.bulk }),
      results: t.field({ type: [ItemResultRef], description: "One result per item.", resolve: (p) => p.results }),
      approvalRequestId: t.id({
        nullable: true,
        description: "Under the collection's BULK_ISSUANCE rule: the approval request that releases every item (they wait AWAITING_APPROVAL).",
        resolve: (p) => p.approvalRequest?.id ?? null,
      }),
    }),
  });

const IssueCertificatesInput = builder.inputType("IssueCertificatesInput", {
  description: `Up to ${MAX_BULK_ITEMS} certificates for one collection.`,
  fields: (t) => ({
    collectionId: t.id({ required: true, description: "Collection to issue into (its `id` or `nodeId`)." }),
    idempotencyKey: t.string({ required: true, description: "Your unique key for the whole request; sending it again creates only what is missing." }),
    items: t.field({ type: [IssueCertificateItemInput], required: true, description: "The certificates, each with its own idempotency key." }),
  }),
});

builder.mutationField("issueCertificates", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, QuotaExceededError, InstitutionNotActiveError, CollectionNotReadyError] },
    type: IssueCertificatesPayload,
    description: `Accepts up to ${MAX_BULK_ITEMS} certificates at once. A bad item is reported in its result and never fails the others.`,
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: IssueCertificatesInput, required: true, description: "The collection and the certificates to issue." }) },
    resolve: (_root, { input }, ctx) => {
      if (input.items.length > MAX_BULK_ITEMS) {
        throw invalidInput(`at most ${MAX_BULK_ITEMS} items per request`, "items");
      }
      return withOperationErrors(() =>
        requestBulkIssuance(ctx, ctx.caller!.institutionId, {
          collectionId: rawId(input.collectionId) ?? String(input.collectionId),
          idempotencyKey: input.idempotencyKey,
          items: input.items,
        }, undefined, actorOf(ctx.caller!)),
      );
    },
  }),
);

builder.queryField("bulkIssuance", (t) =>
  t.field({
    type: BulkIssuanceRef,
    nullable: true,
    description: "A bulk issuance of the caller's institution, by id.",
    authScopes: { scope: "read" },
    args: { id: t.arg.id({ required: true, description: "Bulk issuance id (`id` or `nodeId`)." }) },
    resolve: (_root, { id }, ctx) => ownedRow(ctx, bulkIssuances, id, "bulk issuance"),
  }),
);
