import { and, eq, gte, inArray, lt, type SQL } from "drizzle-orm";
import { certificates, collections, revocations } from "../../core/db/schema.ts";
import { requestRevocation } from "../../core/operations/revoke.ts";
import { actorOf } from "../auth/actor.ts";
import { builder } from "../builder.ts";
import { CertificateStateError, ConflictError, IdempotencyConflictError, NotFoundError, withOperationErrors } from "../errors.ts";
import { CertificateRef } from "./certificate.ts";
import { OperationStatusEnum, RevocationReasonEnum } from "./enums.ts";
import { ownedRow, rawId } from "./ids.ts";
import { loaders, ownedRows } from "./loaders.ts";
import { connectionFields, holderAddress, paginate, SortOrderEnum } from "./pagination.ts";

type RevocationRow = typeof revocations.$inferSelect;

export const RevocationRef = builder.node(builder.objectRef<RevocationRow>("Revocation"), {
  description:
    "The operation that revokes one certificate: QUEUED → SUBMITTED → CONFIRMED, or FAILED. Under an approval policy it starts AWAITING_APPROVAL and becomes QUEUED once approved, or ends REJECTED or EXPIRED.",
  id: { resolve: (r) => r.id },
  loadMany: (ids, ctx) => ownedRows(ctx, revocations, ids),
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier." }),
    status: t.field({ type: OperationStatusEnum, description: "Where the operation stands.", resolve: (r) => r.status }),
    reason: t.exposeString("reason", { description: "The reason as the issuer wrote it." }),
    reasonCode: t.field({ type: RevocationReasonEnum, description: "RFC 5280 reason recorded on chain.", resolve: (r) => r.reasonCode as never }),
    txHash: t.exposeString("txHash", { nullable: true, description: "Hash of the revoking transaction, once signed." }),
    error: t.exposeString("error", { nullable: true, description: "Why the operation failed, when FAILED (or was rejected or expired)." }),
    approvalsHash: t.exposeString("approvalsHash", {
      nullable: true,
      description: "Under an approval policy, once approved: the approvals' hash, named on chain by the revoking transaction (`RevocationApproved`) and recorded in the audit log.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the request was accepted." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "Last state change." }),
    certificate: t.field({
      type: CertificateRef,
      description: "The certificate being revoked.",
      resolve: async (r, _args, ctx) => (await loaders(ctx).certificate.load(r.certificateId))!,
    }),
  }),
});

builder.objectField(CertificateRef, "revocations", (t) =>
  t.field({
    type: [RevocationRef],
    description: "Revocations requested for it, oldest first (failed ones included).",
    resolve: (c, _args, ctx) => loaders(ctx).revocationsOfCertificate.load(c.id),
  }),
);

const RevocationFilter = builder.inputType("RevocationFilter", {
  description: "Narrows a list of revocations; every field given must hold.",
  fields: (t) => ({
    status: t.field({ type: OperationStatusEnum, description: "Only revocations in this state." }),
    holder: t.string({ description: "Only revocations of certificates held by this address (any letter case)." }),
    collectionId: t.id({ description: "Only revocations of certificates of this collection (its `id` or `nodeId`); NOT_FOUND when it is not the caller's." }),
    from: t.field({ type: "DateTime", description: "Only revocations requested at or after this instant." }),
    to: t.field({ type: "DateTime", description: "Only revocations requested before this instant." }),
  }),
});

builder.queryField("revocations", (t) =>
  t.connection(
    {
      type: RevocationRef,
      description: "The caller's institution's revocations, a page at a time, in request order (newest first unless `orderBy: ASC`).",
      authScopes: { scope: "read" },
      args: {
        filter: t.arg({ type: RevocationFilter, description: "Which revocations; all when omitted." }),
        orderBy: t.arg({ type: SortOrderEnum, defaultValue: "DESC", description: "By request time, then id." }),
      },
      resolve: async (_root, args, ctx) => {
        const f = args.filter;
        const institutionId = ctx.caller!.institutionId;
        const where: (SQL | undefined)[] = [eq(revocations.institutionId, institutionId)];
        if (f?.status) where.push(eq(revocations.status, f.status));
        // Holder and collection are the certificate's.
        const ofCertificates: (SQL | undefined)[] = [];
        if (f?.holder) ofCertificates.push(eq(certificates.owner, holderAddress(f.holder)));
        if (f?.collectionId != null) {
          ofCertificates.push(eq(certificates.collectionId, (await ownedRow(ctx, collections, f.collectionId, "collection")).id));
        }
        if (ofCertificates.length) {
          const matching = ctx.db.select({ id: certificates.id }).from(certificates).where(and(eq(certificates.institutionId, institutionId), ...ofCertificates));
          where.push(inArray(revocations.certificateId, matching));
        }
        if (f?.from) where.push(gte(revocations.createdAt, f.from));
        if (f?.to) where.push(lt(revocations.createdAt, f.to));
        return paginate<RevocationRow>({ db: ctx.db, table: revocations, where: and(...where), order: args.orderBy ?? "DESC", args });
      },
    },
    { name: "RevocationConnection", description: "A page of revocations.", fields: connectionFields },
    { name: "RevocationEdge", description: "A revocation and its cursor." },
  ),
);

const RevokeCertificateInput = builder.inputType("RevokeCertificateInput", {
  description: "A certificate to revoke. Revocation is permanent.",
  fields: (t) => ({
    certificateId: t.id({ required: true, description: "The certificate's `id` or `nodeId`." }),
    reason: t.string({ required: true, description: "Why, in words (kept by Hallmark)." }),
    reasonCode: t.field({ type: RevocationReasonEnum, description: "RFC 5280 reason recorded on chain; default UNSPECIFIED." }),
    idempotencyKey: t.string({ description: "Your unique key for this request. Without one, revoking again returns the first revocation." }),
  }),
});

const RevokeCertificatePayload = builder
  .objectRef<{ revocation: RevocationRow; created: boolean }>("RevokeCertificatePayload")
  .implement({
    description: "Result of revokeCertificate.",
    fields: (t) => ({
      revocation: t.field({ type: RevocationRef, description: "The revocation operation.", resolve: (p) => p.revocation }),
      created: t.exposeBoolean("created", { description: "False when this names an earlier revocation." }),
      certificate: t.field({
        type: CertificateRef,
        description: "The certificate; its status turns REVOKED once the revocation is CONFIRMED.",
        resolve: async (p, _args, ctx) => (await loaders(ctx).certificate.load(p.revocation.certificateId))!,
      }),
    }),
  });

builder.queryField("revocation", (t) =>
  t.field({
    type: RevocationRef,
    nullable: true,
    description: "A revocation of the caller's institution, by id.",
    authScopes: { scope: "read" },
    args: { id: t.arg.id({ required: true, description: "Revocation id (`id` or `nodeId`)." }) },
    resolve: (_root, { id }, ctx) => ownedRow(ctx, revocations, id, "revocation"),
  }),
);

builder.mutationField("revokeCertificate", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, CertificateStateError, ConflictError] },
    type: RevokeCertificatePayload,
    description: "Revokes a certificate on chain; the certificate's status turns REVOKED when the revocation is CONFIRMED.",
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: RevokeCertificateInput, required: true, description: "The certificate to revoke and why." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(() =>
        requestRevocation(ctx.db, ctx.caller!.institutionId, { ...input, certificateId: rawId(input.certificateId) ?? String(input.certificateId) }, actorOf(ctx.caller!)),
      ),
  }),
);
