import { createContextCache } from "@pothos/core";
import DataLoader from "dataloader";
import { actorOf } from "../auth/actor.ts";
import { and, asc, count, desc, eq, gt, inArray, lt, type SQL } from "drizzle-orm";
import { GraphQLError } from "graphql";
import { ANCHORED_CERTIFICATE_SCHEMA, anchoredStatusEntry, type AnchoredCertificate } from "../../core/anchoring/envelope.ts";
import { anchoredBatches, anchoredCertificates, anchoredRevocations, ANCHORED_CERTIFICATE_STATUSES, collections } from "../../core/db/schema.ts";
import {
  MAX_ANCHORED_ITEMS,
  ownedAnchoredCertificate,
  requestAnchoredBatch,
  requestAnchoredRevocation,
  type AnchoredBatch,
  type AnchoredCertificateRow,
  type AnchoredRevocation,
} from "../../core/operations/anchored.ts";
import { anchoredStatusListIndicesOf } from "../../core/status-lists/anchored-indices.ts";
import { statusListUrl } from "../../core/status-lists/purposes.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import {
  CertificateStateError,
  CollectionNotReadyError,
  ConflictError,
  IdempotencyConflictError,
  InstitutionNotActiveError,
  InvalidInputError,
  NotFoundError,
  QuotaExceededError,
  invalidInput,
  withOperationErrors,
} from "../errors.ts";
import { describedValues, OperationStatusEnum } from "./enums.ts";
import { ownedRow, rawId } from "./ids.ts";
import { CollectionRef } from "./institution.ts";
import { AttributeInput } from "./issuance.ts";
import { loaders, ownedRows } from "./loaders.ts";
import { connectionFields, pageOf, pageSize, paginate, SortOrderEnum, type Page, type PageArgs } from "./pagination.ts";

const AnchoredCertificateStatusEnum = builder.enumType("AnchoredCertificateStatus", {
  description: "An anchored certificate's standing as Hallmark recorded it from the anchor contract.",
  values: describedValues([...ANCHORED_CERTIFICATE_STATUSES], {
    VALID: "Anchored and not revoked (its document may still carry an expiry of its own).",
    REVOKED: "Revoked on chain: by its digest, or with its whole batch by the root.",
  }),
});

/**
 * The holder's file: the document, its digest, the root and the proof (the same file `npm run anchor` writes), and
 * beside them the certificate's entry in the collection's revocation status list (informative: outside the digest).
 */
function fileOf(
  certificate: AnchoredCertificateRow,
  batch: AnchoredBatch,
  collection: { id: string; chainId: number; contractAddress: string | null },
  status: { baseUrl: string; index: number | undefined },
): AnchoredCertificate {
  return {
    $schema: ANCHORED_CERTIFICATE_SCHEMA,
    document: certificate.document,
    anchor: { chainId: collection.chainId, contract: collection.contractAddress!, digest: certificate.digest, root: batch.root, proof: certificate.proof },
    ...(status.index !== undefined ? { credentialStatus: anchoredStatusEntry(statusListUrl(status.baseUrl, collection.id, "revocation"), status.index) } : {}),
  };
}

/** A page of files reads the certificates' status list positions in one query. */
const statusIndexLoader = createContextCache(
  (ctx: Context) =>
    new DataLoader<string, number | null>(async (ids) => {
      const found = await anchoredStatusListIndicesOf(ctx.db, ids);
      return ids.map((id) => found.get(id) ?? null);
    }, { cache: false }),
);

async function ownedBatchRow(ctx: Context, id: string): Promise<AnchoredBatch> {
  return ownedRow(ctx, anchoredBatches, rawId(id, "AnchoredBatch") ?? id, "anchored batch");
}

/** A page of certificates names one batch or a few: each is read once per request, not once per certificate. */
const batchLoader = createContextCache(
  (ctx: Context) =>
    new DataLoader<string, AnchoredBatch | null>(async (ids) => {
      const rows = await ctx.db
        .select()
        .from(anchoredBatches)
        .where(and(inArray(anchoredBatches.id, [...ids]), eq(anchoredBatches.institutionId, ctx.caller!.institutionId)));
      return ids.map((id) => rows.find((r) => r.id === id) ?? null);
      // Batched, never cached: a subscription's context outlives a batch's state.
    }, { cache: false }),
);

/** The batch of a certificate the caller could read: theirs, so it exists. */
async function batchOf(ctx: Context, certificate: AnchoredCertificateRow): Promise<AnchoredBatch> {
  const batch = await batchLoader(ctx).load(certificate.batchId);
  if (!batch) throw new GraphQLError("anchored batch not found", { extensions: { code: "NOT_FOUND" } });
  return batch;
}

export const AnchoredBatchRef = builder.node(builder.objectRef<AnchoredBatch>("AnchoredBatch"), {
  description:
    "Certificates anchored as one Merkle root on an ANCHORED collection's contract, with one transaction: QUEUED → SUBMITTED → CONFIRMED, or FAILED.",
  id: { resolve: (b) => b.id },
  loadMany: (ids, ctx) => ownedRows(ctx, anchoredBatches, ids),
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier." }),
    status: t.field({ type: OperationStatusEnum, description: "Where the anchoring stands.", resolve: (b) => b.status }),
    root: t.exposeString("root", { description: "The Merkle root (0x-hex) over the certificates' digests: what the anchor contract holds." }),
    size: t.exposeInt("size", { description: "Certificates in the batch." }),
    txHash: t.exposeString("txHash", { nullable: true, description: "Hash of the `issue(root)` transaction, once signed." }),
    blockNumber: t.int({ nullable: true, description: "The block the root was anchored in, once CONFIRMED.", resolve: (b) => b.blockNumber }),
    error: t.exposeString("error", { nullable: true, description: "Why the anchoring failed, when FAILED." }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true, description: "When the whole batch was revoked on chain (`revokeAnchoredBatch` CONFIRMED)." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the request was accepted." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "Last state change." }),
    collection: t.field({
      type: CollectionRef,
      description: "The ANCHORED collection whose contract holds the root.",
      resolve: async (b, _args, ctx) => (await loaders(ctx).collection.load(b.collectionId))!,
    }),
  }),
});

export const AnchoredCertificateRef = builder.node(builder.objectRef<AnchoredCertificateRow>("AnchoredCertificate"), {
  // Institution data (the holder's file carries the name): a key of the institution reads it only with READ.
  authScopes: { readData: true },
  description: "One certificate of an anchored batch: its document's id, digest and holder, its status, and the holder's file.",
  id: { resolve: (c) => c.id },
  loadMany: (ids, ctx) => ownedRows(ctx, anchoredCertificates, ids),
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier." }),
    documentId: t.exposeString("documentId", { description: "The document's own id (`certificate.id` in the file)." }),
    digest: t.exposeString("digest", { description: "sha256 of the canonical document (0x-hex): the Merkle leaf, and what `revoke(digest)` names." }),
    recipient: t.exposeString("recipient", { description: "The holder's address, as written in the document." }),
    position: t.exposeInt("position", { description: "Its leaf's position in the batch, from 0." }),
    status: t.field({ type: AnchoredCertificateStatusEnum, description: "VALID or REVOKED.", resolve: (c) => c.status }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true, description: "When its revocation (or its batch's) was confirmed." }),
    file: t.field({
      type: "JSON",
      nullable: true,
      description:
        "The holder's file (`$schema` https://hallmark.dev/schemas/anchored-certificate/v1: the document, its digest, the root and the proof, and beside them `credentialStatus`, its BitstringStatusListEntry in the collection's revocation list, informative since the chain decides), as `npm run anchor` writes it; what the verify page and `verifyDocument` check. Null until the batch is CONFIRMED. It carries the holder's name: hand it to the holder only.",
      resolve: async (c, _args, ctx) => {
        const batch = await batchOf(ctx, c);
        if (batch.status !== "CONFIRMED") return null;
        const collection = (await loaders(ctx).collection.load(batch.collectionId))!;
        const index = (await statusIndexLoader(ctx).load(c.id)) ?? undefined;
        return fileOf(c, batch, collection, { baseUrl: ctx.identity.publicOrigin, index });
      },
    }),
  }),
});

export const AnchoredRevocationRef = builder.node(builder.objectRef<AnchoredRevocation>("AnchoredRevocation"), {
  description: "The revocation of one anchored certificate (`revoke(digest)`) or of a whole batch (`revoke(root)`): QUEUED → SUBMITTED → CONFIRMED, or FAILED.",
  id: { resolve: (r) => r.id },
  loadMany: (ids, ctx) => ownedRows(ctx, anchoredRevocations, ids),
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier." }),
    status: t.field({ type: OperationStatusEnum, description: "Where the revocation stands.", resolve: (r) => r.status }),
    wholeBatch: t.boolean({ description: "True when the whole batch is revoked (by its root).", resolve: (r) => r.certificateId === null }),
    target: t.exposeString("target", { description: "What the contract is asked to revoke: the certificate's digest, or the batch's root." }),
    reason: t.exposeString("reason", { description: "Why, as the issuer wrote it." }),
    requestedBy: t.exposeString("requestedBy", { description: "Who asked: `apiKey:<id>`." }),
    txHash: t.exposeString("txHash", { nullable: true, description: "Hash of the revoking transaction, once signed (none when the target was revoked on chain already)." }),
    error: t.exposeString("error", { nullable: true, description: "Why it failed, when FAILED." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the request was accepted." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "Last state change." }),
  }),
});

/** A position cursor: the certificates of a batch share one creation time, so they are paged in leaf order. */
const positionCursor = (position: number) => Buffer.from(`position:${position}`).toString("base64url");

function positionOf(cursor: string, field: string): number {
  const m = /^position:(\d{1,9})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw new GraphQLError(`${field} is not a cursor of this connection`, { extensions: { code: "BAD_USER_INPUT", field } });
  return Number(m[1]);
}

/** A batch's certificates in leaf order, with Relay's first/after/last/before, as `paginate` pages by time. */
async function pageByPosition(ctx: Context, where: SQL | undefined, args: PageArgs): Promise<Page<AnchoredCertificateRow>> {
  const { size, fromEnd } = pageSize(args);
  const after = args.after != null ? positionOf(args.after, "after") : undefined;
  const before = args.before != null ? positionOf(args.before, "before") : undefined;
  const rows = await ctx.db
    .select()
    .from(anchoredCertificates)
    .where(and(where, after !== undefined ? gt(anchoredCertificates.position, after) : undefined, before !== undefined ? lt(anchoredCertificates.position, before) : undefined))
    .orderBy(fromEnd ? desc(anchoredCertificates.position) : asc(anchoredCertificates.position))
    .limit(size + 1);
  return pageOf(rows, {
    size,
    fromEnd,
    after: after !== undefined,
    before: before !== undefined,
    edge: (row) => ({ cursor: positionCursor(row.position), node: row }),
    totalCount: async () => (await ctx.db.select({ n: count() }).from(anchoredCertificates).where(where))[0]!.n,
  });
}

// Fields that point from one of these types to another, added once all three exist.
builder.objectFields(AnchoredBatchRef, (t) => ({
    revocations: t.field({
      type: [AnchoredRevocationRef],
      description: "Revocations requested in this batch (of single certificates and of the whole batch), oldest first: who, when, why and the transaction.",
      resolve: (b, _args, ctx) =>
        ctx.db.select().from(anchoredRevocations).where(eq(anchoredRevocations.batchId, b.id)).orderBy(anchoredRevocations.createdAt, anchoredRevocations.id),
    }),
}));
builder.objectFields(AnchoredCertificateRef, (t) => ({
    batch: t.field({
      type: AnchoredBatchRef,
      description: "The batch it was anchored in.",
      resolve: (c, _args, ctx) => batchOf(ctx, c),
    }),
}));
builder.objectFields(AnchoredRevocationRef, (t) => ({
    batch: t.field({ type: AnchoredBatchRef, description: "The batch.", resolve: (r, _args, ctx) => ownedBatchRow(ctx, r.batchId) }),
    certificate: t.field({
      type: AnchoredCertificateRef,
      nullable: true,
      description: "The certificate revoked; null when the whole batch is.",
      resolve: (r, _args, ctx) => (r.certificateId ? ownedRow(ctx, anchoredCertificates, r.certificateId, "anchored certificate") : null),
    }),
}));

builder.objectField(AnchoredBatchRef, "certificates", (t) =>
  t.connection(
    {
      type: AnchoredCertificateRef,
      description: "The batch's certificates, a page at a time.",
      args: { status: t.arg({ type: AnchoredCertificateStatusEnum, description: "Only certificates with this status." }) },
      resolve: (b, args, ctx) => {
        const where: (SQL | undefined)[] = [eq(anchoredCertificates.batchId, b.id), eq(anchoredCertificates.institutionId, ctx.caller!.institutionId)];
        if (args.status) where.push(eq(anchoredCertificates.status, args.status));
        return pageByPosition(ctx, and(...where), args) as never;
      },
    },
    { name: "AnchoredCertificateConnection", description: "A page of anchored certificates.", fields: connectionFields, authScopes: { readData: true } },
    { name: "AnchoredCertificateEdge", description: "An anchored certificate and its cursor.", authScopes: { readData: true } },
  ),
);

const AnchoredBatchFilter = builder.inputType("AnchoredBatchFilter", {
  description: "Narrows a list of anchored batches; every field given must hold.",
  fields: (t) => ({
    collectionId: t.id({ description: "Only batches of this collection (`id` or `nodeId`); NOT_FOUND when it is not the caller's." }),
    status: t.field({ type: OperationStatusEnum, description: "Only batches in this state." }),
  }),
});

builder.queryField("anchoredBatches", (t) =>
  t.connection(
    {
      type: AnchoredBatchRef,
      description: "The caller's institution's anchored batches, a page at a time (newest first unless `orderBy: ASC`).",
      authScopes: { scope: "read" },
      args: {
        filter: t.arg({ type: AnchoredBatchFilter, description: "Which batches; all when omitted." }),
        orderBy: t.arg({ type: SortOrderEnum, defaultValue: "DESC", description: "By request time, then id." }),
      },
      resolve: async (_root, args, ctx) => {
        const where: (SQL | undefined)[] = [eq(anchoredBatches.institutionId, ctx.caller!.institutionId)];
        if (args.filter?.status) where.push(eq(anchoredBatches.status, args.filter.status as AnchoredBatch["status"]));
        if (args.filter?.collectionId != null) where.push(eq(anchoredBatches.collectionId, (await ownedRow(ctx, collections, args.filter.collectionId, "collection")).id));
        return paginate<AnchoredBatch>({ db: ctx.db, table: anchoredBatches, where: and(...where), order: args.orderBy ?? "DESC", args });
      },
    },
    { name: "AnchoredBatchConnection", description: "A page of anchored batches.", fields: connectionFields },
    { name: "AnchoredBatchEdge", description: "An anchored batch and its cursor." },
  ),
);

builder.queryField("anchoredBatch", (t) =>
  t.field({
    type: AnchoredBatchRef,
    description: "An anchored batch of the caller's institution, by id (`id` or `nodeId`).",
    authScopes: { scope: "read" },
    args: { id: t.arg.id({ required: true, description: "Anchored batch id." }) },
    resolve: (_root, { id }, ctx) => ownedBatchRow(ctx, String(id)),
  }),
);

builder.queryField("anchoredRevocation", (t) =>
  t.field({
    type: AnchoredRevocationRef,
    description: "A revocation of an anchored certificate or batch of the caller's institution, by id (`id` or `nodeId`).",
    authScopes: { scope: "read" },
    args: { id: t.arg.id({ required: true, description: "Anchored revocation id." }) },
    resolve: (_root, { id }, ctx) => ownedRow(ctx, anchoredRevocations, rawId(id, "AnchoredRevocation") ?? String(id), "anchored revocation"),
  }),
);

const AnchoredCertificateTargetInput = {
  certificateId: "The anchored certificate's `id` or `nodeId`.",
  documentId: "Its document's id (`certificate.id` in the holder's file).",
  digest: "Its digest (0x-hex sha256 of the canonical document).",
};

builder.queryField("anchoredCertificate", (t) =>
  t.field({
    type: AnchoredCertificateRef,
    description: "An anchored certificate of the caller's institution, named by exactly one of its id, its document's id and its digest.",
    authScopes: { scope: "read" },
    args: {
      id: t.arg.id({ description: AnchoredCertificateTargetInput.certificateId }),
      documentId: t.arg.string({ description: AnchoredCertificateTargetInput.documentId }),
      digest: t.arg.string({ description: AnchoredCertificateTargetInput.digest }),
    },
    resolve: (_root, args, ctx) =>
      withOperationErrors(() =>
        ownedAnchoredCertificate(ctx.db, ctx.caller!.institutionId, {
          certificateId: args.id != null ? (rawId(args.id, "AnchoredCertificate") ?? String(args.id)) : null,
          documentId: args.documentId,
          digest: args.digest,
        }),
      ),
  }),
);

const AnchorCertificateItemInput = builder.inputType("AnchorCertificateItemInput", {
  description:
    "One certificate of an anchored batch: the certificate fields of `issueCertificates` items. The holder keeps the whole document in their file, so there is no holder reference, template or personal-attribute handling: the file carries the name in clear, and only its digest goes on chain.",
  fields: (t) => ({
    recipient: t.string({ required: true, description: "Holder's Ethereum address (lower-case or EIP-55 checksummed)." }),
    title: t.field({ type: "LocalizedText", description: "Certificate title, a string or a language map; defaults to the collection name." }),
    recipientName: t.string({ description: "Holder's name as printed on the certificate." }),
    description: t.field({ type: "LocalizedText", description: "Longer description, a string or a language map." }),
    validUntil: t.field({ type: "DateTime", description: "Expiry; omit for a certificate that never expires." }),
    attributes: t.field({ type: [AttributeInput], description: "Named fields shown on the certificate." }),
    data: t.field({ type: "JSON", description: "Institution-specific data (a JSON object, at most 16 KiB)." }),
  }),
});

const AnchorCertificatesInput = builder.inputType("AnchorCertificatesInput", {
  description: `Up to ${MAX_ANCHORED_ITEMS} certificates to anchor as one batch.`,
  fields: (t) => ({
    collectionId: t.id({ required: true, description: "An ANCHORED collection of the caller's, CONFIRMED (`id` or `nodeId`)." }),
    certificates: t.field({ type: [AnchorCertificateItemInput], required: true, description: "The certificates; one bad row refuses them all, naming each bad row (`certificates.<index>.<field>`)." }),
    idempotencyKey: t.string({ required: true, description: "Your unique key for this batch: sending it again with the same rows answers the same batch." }),
  }),
});

const AnchorCertificatesPayload = builder.objectRef<{ batch: AnchoredBatch; created: boolean }>("AnchorCertificatesPayload").implement({
  description: "Result of anchorCertificates.",
  fields: (t) => ({
    anchoredBatch: t.field({ type: AnchoredBatchRef, description: "The batch, QUEUED when just created; follow its `status`.", resolve: (p) => p.batch }),
    created: t.exposeBoolean("created", { description: "False when the idempotency key named a batch requested earlier." }),
  }),
});

builder.mutationField("anchorCertificates", (t) =>
  t.field({
    errors: { types: [InvalidInputError, NotFoundError, IdempotencyConflictError, QuotaExceededError, InstitutionNotActiveError, CollectionNotReadyError] },
    type: AnchorCertificatesPayload,
    description:
      "Anchors certificates as one batch: their documents are built now, one Merkle tree made over their digests, and the worker puts its root on the collection's anchor contract with one `issue(root)` through the nonce-managed sender: QUEUED → SUBMITTED → CONFIRMED (or FAILED), told by live status (`operationsUpdated`, kind ANCHORED_BATCH) and webhooks (`anchoredBatch.confirmed`, …). Each certificate counts against `issuancesPerMonth`; the batch against `maxBatchSize`. Once CONFIRMED, every certificate's `file` is its holder's.",
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: AnchorCertificatesInput, required: true, description: "The collection, the certificates and the idempotency key." }) },
    resolve: (_root, { input }, ctx) => {
      if (input.certificates.length > MAX_ANCHORED_ITEMS) throw invalidInput(`at most ${MAX_ANCHORED_ITEMS} certificates per anchored batch`, "certificates");
      return withOperationErrors(() =>
        requestAnchoredBatch(ctx, ctx.caller!.institutionId, {
          collectionId: rawId(input.collectionId) ?? String(input.collectionId),
          idempotencyKey: input.idempotencyKey,
          certificates: input.certificates,
        }),
      );
    },
  }),
);

const AnchoredRevocationPayload = builder.objectRef<{ revocation: AnchoredRevocation; created: boolean }>("AnchoredRevocationPayload").implement({
  description: "Result of revokeAnchoredCertificate and revokeAnchoredBatch.",
  fields: (t) => ({
    revocation: t.field({ type: AnchoredRevocationRef, description: "The revocation, QUEUED when just created (AWAITING_APPROVAL under an approval policy); follow its `status`.", resolve: (p) => p.revocation }),
    created: t.exposeBoolean("created", { description: "False when this names an earlier revocation (the same key, or the target's revocation already under way or done)." }),
  }),
});

const RevokeAnchoredCertificateInput = builder.inputType("RevokeAnchoredCertificateInput", {
  description: "One anchored certificate to revoke, named by exactly one of its id (`anchoredCertificateId`), its document's id and its digest. Revocation is permanent.",
  fields: (t) => ({
    anchoredCertificateId: t.id({ description: AnchoredCertificateTargetInput.certificateId }),
    documentId: t.string({ description: AnchoredCertificateTargetInput.documentId }),
    digest: t.string({ description: AnchoredCertificateTargetInput.digest }),
    reason: t.string({ required: true, description: "Why, in words (kept by Hallmark, not on chain)." }),
    idempotencyKey: t.string({ required: true, description: "Your unique key for this request." }),
  }),
});

const RevokeAnchoredBatchInput = builder.inputType("RevokeAnchoredBatchInput", {
  description: "A whole anchored batch to revoke: every certificate in it turns REVOKED. Revocation is permanent.",
  fields: (t) => ({
    anchoredBatchId: t.id({ required: true, description: "The anchored batch's `id` or `nodeId`." }),
    reason: t.string({ required: true, description: "Why, in words (kept by Hallmark, not on chain)." }),
    idempotencyKey: t.string({ required: true, description: "Your unique key for this request." }),
  }),
});

const REVOKE_ERRORS = [InvalidInputError, NotFoundError, IdempotencyConflictError, ConflictError, CertificateStateError];

builder.mutationField("revokeAnchoredCertificate", (t) =>
  t.field({
    errors: { types: REVOKE_ERRORS },
    type: AnchoredRevocationPayload,
    description:
      "Revokes one anchored certificate with `revoke(digest)` on its batch's anchor contract, through the nonce-managed sender: QUEUED → SUBMITTED → CONFIRMED (or FAILED), told by live status (kind ANCHORED_REVOCATION) and webhooks (`anchoredRevocation.confirmed`, …); the certificate turns REVOKED once CONFIRMED. The batch must be CONFIRMED (else CONFLICT). Under the REVOKE rule of the collection's approval policy it starts AWAITING_APPROVAL (webhook `anchoredRevocation.awaiting_approval`) and is QUEUED once enough members approve (then sent as `revokeWithApprovals(digest, approvalsHash)`), or ends REJECTED or EXPIRED without reaching the chain.",
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: RevokeAnchoredCertificateInput, required: true, description: "The certificate, why, and the idempotency key." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(() =>
        requestAnchoredRevocation(ctx.db, ctx.caller!.institutionId, `apiKey:${ctx.caller!.apiKeyId}`, {
          target: {
            certificateId: input.anchoredCertificateId != null ? (rawId(input.anchoredCertificateId, "AnchoredCertificate") ?? String(input.anchoredCertificateId)) : null,
            documentId: input.documentId,
            digest: input.digest,
          },
          reason: input.reason,
          idempotencyKey: input.idempotencyKey,
        }, actorOf(ctx.caller!)),
      ),
  }),
);

builder.mutationField("revokeAnchoredBatch", (t) =>
  t.field({
    errors: { types: REVOKE_ERRORS },
    type: AnchoredRevocationPayload,
    description:
      "Revokes a whole anchored batch with `revoke(root)` on its anchor contract, as revokeAnchoredCertificate does one certificate; every certificate of the batch turns REVOKED once CONFIRMED. Held under the collection's REVOKE approval rule as revokeAnchoredCertificate is.",
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: RevokeAnchoredBatchInput, required: true, description: "The batch, why, and the idempotency key." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(() =>
        requestAnchoredRevocation(ctx.db, ctx.caller!.institutionId, `apiKey:${ctx.caller!.apiKeyId}`, {
          target: { batchId: rawId(input.anchoredBatchId, "AnchoredBatch") ?? String(input.anchoredBatchId) },
          reason: input.reason,
          idempotencyKey: input.idempotencyKey,
        }, actorOf(ctx.caller!)),
      ),
  }),
);
