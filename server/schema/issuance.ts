import { and, eq, gte, lt, type SQL } from "drizzle-orm";
import { collections, issuances } from "../../core/db/schema.ts";
import { requestIssuance } from "../../core/operations/issue.ts";
import { builder } from "../builder.ts";
import { CollectionNotReadyError, IdempotencyConflictError, InstitutionNotActiveError, NotFoundError, QuotaExceededError, withOperationErrors } from "../errors.ts";
import { CertificateRef } from "./certificate.ts";
import { OperationStatusEnum } from "./enums.ts";
import { ownedRow, rawId } from "./ids.ts";
import { CollectionRef } from "./institution.ts";
import { loaders, ownedRows } from "./loaders.ts";
import { connectionFields, holderAddress, paginate, SortOrderEnum } from "./pagination.ts";

type IssuanceRow = typeof issuances.$inferSelect;

export const IssuanceRef = builder.node(builder.objectRef<IssuanceRow>("Issuance"), {
  description: "The operation that issues one certificate: QUEUED → PINNED → SUBMITTED → CONFIRMED, or FAILED.",
  id: { resolve: (i) => i.id },
  loadMany: (ids, ctx) => ownedRows(ctx, issuances, ids),
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier." }),
    status: t.field({ type: OperationStatusEnum, description: "Where the operation stands.", resolve: (i) => i.status }),
    idempotencyKey: t.exposeString("idempotencyKey", { description: "The key the issuer sent with the request." }),
    recipient: t.exposeString("recipient", { description: "Holder address (EIP-55 checksummed)." }),
    requestId: t.exposeString("requestId", { description: "Single-use request id the contract checks (bytes32)." }),
    metadataCid: t.exposeString("metadataCid", { nullable: true, description: "CID of the pinned certificate document." }),
    metadataUri: t.string({
      nullable: true,
      description: "`ipfs://<cid>` of the pinned certificate document.",
      resolve: (i) => (i.metadataCid ? `ipfs://${i.metadataCid}` : null),
    }),
    digest: t.exposeString("digest", { nullable: true, description: "sha256 of the certificate document." }),
    txHash: t.exposeString("txHash", { nullable: true, description: "Hash of the issuing transaction, once signed." }),
    error: t.exposeString("error", { nullable: true, description: "Why the operation failed, when FAILED." }),
    fields: t.expose("document", { type: "JSON", description: "The certificate fields as validated and stored." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the request was accepted." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "Last state change." }),
    collection: t.field({
      type: CollectionRef,
      description: "The collection it issues into.",
      resolve: async (i, _args, ctx) => (await loaders(ctx).collection.load(i.collectionId))!,
    }),
    certificate: t.field({
      type: CertificateRef,
      nullable: true,
      description: "The certificate, once CONFIRMED.",
      resolve: (i, _args, ctx) => loaders(ctx).certificateOfIssuance.load(i.id),
    }),
  }),
});

export const AttributeInput = builder.inputType("CertificateAttributeInput", {
  description: "A named field shown on the certificate.",
  fields: (t) => ({
    name: t.string({ required: true, description: "Field name, e.g. `Degree`: its key, which `personalAttributes` and templates name." }),
    value: t.field({
      type: "LocalizedText",
      required: true,
      description: 'Field value, e.g. `MSc Computer Science`, or a language map (`{ "zh-CN": "计算机科学硕士", "en": "MSc Computer Science" }`); a personal attribute\'s value is one string.',
    }),
    label: t.field({ type: "LocalizedText", description: 'How the field is shown, when it differs from its name or comes in several languages (`{ "zh-CN": "学位", "en": "Degree" }`).' }),
  }),
});

/** The fields of one certificate, shared by the single and the bulk mutation. */
function certificateFields(t: Parameters<Parameters<typeof builder.inputType>[1]["fields"]>[0]) {
  return {
    recipient: t.string({ description: "Holder's Ethereum address (lower-case or EIP-55 checksummed); give this or `holderReference`, exactly one." }),
    holderReference: t.string({
      description:
        "For a holder without a wallet: your own reference for them (student number, e-mail; at most 320 characters, compared case- and width-insensitively). The certificate goes to a custodial account the platform derives for your institution and this reference (see `holderAccount`), or to the holder's wallet once they have claimed it. Never written on chain or to IPFS.",
    }),
    idempotencyKey: t.string({
      required: true,
      description: "Your unique key for this certificate; repeating a request with the same key returns the same issuance.",
    }),
    title: t.field({ type: "LocalizedText", description: "Certificate title, a string or a language map; defaults to the collection name." }),
    recipientName: t.string({ description: "Holder's name as printed on the certificate." }),
    description: t.field({ type: "LocalizedText", description: "Longer description, a string or a language map." }),
    validUntil: t.field({ type: "DateTime", description: "Expiry; omit for a certificate that never expires." }),
    attributes: t.field({ type: [AttributeInput], description: "Named fields shown on the certificate." }),
    personalAttributes: t.stringList({
      description:
        "Names of `attributes` that are personal data: like `recipientName`, the public document carries only a salted digest of each, and the value is shown only through the holder's link (`Certificate.personalData`) until erased.",
    }),
    data: t.field({ type: "JSON", description: "Institution-specific data (a JSON object, at most 16 KiB)." }),
    fields: t.field({
      type: "JSON",
      description:
        "Values of the collection's template fields, a JSON object of key → value, checked against `Collection.template` (an error's `field` is `fields.<key>`); only for a collection with a template.",
    }),
  };
}

export const IssueCertificateItemInput = builder.inputType("IssueCertificateItemInput", {
  description: "One certificate of a bulk issuance.",
  fields: (t) => certificateFields(t),
});

const IssueCertificateInput = builder.inputType("IssueCertificateInput", {
  description: "One certificate to issue.",
  fields: (t) => ({
    collectionId: t.id({ required: true, description: "Collection to issue into (its `id` or `nodeId`)." }),
    ...certificateFields(t),
  }),
});

const IssueCertificatePayload = builder
  .objectRef<{ issuance: IssuanceRow; created: boolean }>("IssueCertificatePayload")
  .implement({
    description: "Result of issueCertificate.",
    fields: (t) => ({
      issuance: t.field({ type: IssuanceRef, description: "The issuance, QUEUED when just created.", resolve: (p) => p.issuance }),
      created: t.exposeBoolean("created", { description: "False when the idempotency key named an earlier request." }),
    }),
  });

builder.objectField(CertificateRef, "issuance", (t) =>
  t.field({
    type: IssuanceRef,
    description: "The issuance operation that produced it.",
    resolve: async (c, _args, ctx) => (await loaders(ctx).issuance.load(c.issuanceId))!,
  }),
);

const IssuanceFilter = builder.inputType("IssuanceFilter", {
  description: "Narrows a list of issuances; every field given must hold.",
  fields: (t) => ({
    status: t.field({ type: OperationStatusEnum, description: "Only issuances in this state." }),
    holder: t.string({ description: "Only issuances to this recipient address (any letter case)." }),
    collectionId: t.id({ description: "Only issuances into this collection (its `id` or `nodeId`); NOT_FOUND when it is not the caller's." }),
    from: t.field({ type: "DateTime", description: "Only issuances requested at or after this instant." }),
    to: t.field({ type: "DateTime", description: "Only issuances requested before this instant." }),
  }),
});

builder.queryField("issuances", (t) =>
  t.connection(
    {
      type: IssuanceRef,
      description: "The caller's institution's issuances, a page at a time, in request order (newest first unless `orderBy: ASC`).",
      authScopes: { scope: "read" },
      args: {
        filter: t.arg({ type: IssuanceFilter, description: "Which issuances; all when omitted." }),
        orderBy: t.arg({ type: SortOrderEnum, defaultValue: "DESC", description: "By request time, then id." }),
      },
      resolve: async (_root, args, ctx) => {
        const f = args.filter;
        const where: (SQL | undefined)[] = [eq(issuances.institutionId, ctx.caller!.institutionId)];
        if (f?.status) where.push(eq(issuances.status, f.status));
        if (f?.holder) where.push(eq(issuances.recipient, holderAddress(f.holder)));
        if (f?.collectionId != null) where.push(eq(issuances.collectionId, (await ownedRow(ctx, collections, f.collectionId, "collection")).id));
        if (f?.from) where.push(gte(issuances.createdAt, f.from));
        if (f?.to) where.push(lt(issuances.createdAt, f.to));
        return paginate<IssuanceRow>({ db: ctx.db, table: issuances, where: and(...where), order: args.orderBy ?? "DESC", args });
      },
    },
    { name: "IssuanceConnection", description: "A page of issuances.", fields: connectionFields },
    { name: "IssuanceEdge", description: "An issuance and its cursor." },
  ),
);

builder.queryField("issuance", (t) =>
  t.field({
    type: IssuanceRef,
    nullable: true,
    description: "An issuance of the caller's institution, by id.",
    authScopes: { scope: "read" },
    args: { id: t.arg.id({ required: true, description: "Issuance id (`id` or `nodeId`)." }) },
    resolve: (_root, { id }, ctx) => ownedRow(ctx, issuances, id, "issuance"),
  }),
);

builder.mutationField("issueCertificate", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, QuotaExceededError, InstitutionNotActiveError, CollectionNotReadyError] },
    type: IssueCertificatePayload,
    description: "Accepts a certificate for issuance and returns at once with the issuance QUEUED.",
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: IssueCertificateInput, required: true, description: "The certificate to issue." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(() =>
        requestIssuance(ctx, ctx.caller!.institutionId, { ...input, collectionId: rawId(input.collectionId) ?? String(input.collectionId) }),
      ),
  }),
);
