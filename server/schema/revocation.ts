import { eq } from "drizzle-orm";
import { certificates, revocations } from "../../core/db/schema.ts";
import { requestRevocation } from "../../core/operations/revoke.ts";
import { builder } from "../builder.ts";
import { withOperationErrors } from "../errors.ts";
import { CertificateRef } from "./certificate.ts";
import { OperationStatusEnum, RevocationReasonEnum } from "./enums.ts";
import { ownedRow } from "./ids.ts";

type RevocationRow = typeof revocations.$inferSelect;

export const RevocationRef = builder.objectRef<RevocationRow>("Revocation").implement({
  description: "The operation that revokes one certificate: QUEUED → SUBMITTED → CONFIRMED, or FAILED.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier." }),
    status: t.field({ type: OperationStatusEnum, description: "Where the operation stands.", resolve: (r) => r.status }),
    reason: t.exposeString("reason", { description: "The reason as the issuer wrote it." }),
    reasonCode: t.field({ type: RevocationReasonEnum, description: "RFC 5280 reason recorded on chain.", resolve: (r) => r.reasonCode as never }),
    txHash: t.exposeString("txHash", { nullable: true, description: "Hash of the revoking transaction, once signed." }),
    error: t.exposeString("error", { nullable: true, description: "Why the operation failed, when FAILED." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the request was accepted." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "Last state change." }),
    certificate: t.field({
      type: CertificateRef,
      description: "The certificate being revoked.",
      resolve: async (r, _args, ctx) => (await ctx.db.select().from(certificates).where(eq(certificates.id, r.certificateId)))[0]!,
    }),
  }),
});

const RevokeCertificateInput = builder.inputType("RevokeCertificateInput", {
  description: "A certificate to revoke. Revocation is permanent.",
  fields: (t) => ({
    certificateId: t.id({ required: true, description: "The certificate's id." }),
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
        resolve: async (p, _args, ctx) =>
          (await ctx.db.select().from(certificates).where(eq(certificates.id, p.revocation.certificateId)))[0]!,
      }),
    }),
  });

builder.queryField("revocation", (t) =>
  t.field({
    type: RevocationRef,
    nullable: true,
    description: "A revocation of the caller's institution, by id.",
    authScopes: { scope: "read" },
    args: { id: t.arg.id({ required: true, description: "Revocation id." }) },
    resolve: (_root, { id }, ctx) => ownedRow(ctx, revocations, id, "revocation"),
  }),
);

builder.mutationField("revokeCertificate", (t) =>
  t.field({
    type: RevokeCertificatePayload,
    description: "Revokes a certificate on chain; the certificate's status turns REVOKED when the revocation is CONFIRMED.",
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: RevokeCertificateInput, required: true, description: "The certificate to revoke and why." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(() =>
        requestRevocation(ctx.db, ctx.caller!.institutionId, { ...input, certificateId: String(input.certificateId) }),
      ),
  }),
);
