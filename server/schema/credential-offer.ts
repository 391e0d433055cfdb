import { eq } from "drizzle-orm";
import { certificates } from "../../core/db/schema.ts";
import { createCredentialOffer, OFFER_LIMITS, type NewCredentialOffer } from "../../core/oid4vci/offers.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { CertificateStateError, InvalidInputError, NotFoundError, withOperationErrors, notFound } from "../errors.ts";
import { qrCode } from "../pages/qr.ts";
import { holderRootOf } from "./holder.ts";
import { rawId } from "./ids.ts";

const CredentialOfferRef = builder.objectRef<NewCredentialOffer>("CredentialOffer").implement({
  description:
    "An OpenID for Verifiable Credential Issuance 1.0 credential offer (pre-authorized code flow) of one certificate's Open Badges 3.0 credential, for the holder's wallet to scan or open.",
  fields: (t) => ({
    uri: t.exposeString("uri", { description: "`openid-credential-offer://?credential_offer=…`: the deep link a wallet opens; the QR code holds it." }),
    offer: t.field({ type: "JSON", description: "The credential offer object the link carries (credential_issuer, credential_configuration_ids, grants).", resolve: (o) => o.offer }),
    qrSvg: t.string({ description: "The link as a QR code (inline SVG) for the wallet to scan.", resolve: async (o) => String(await qrCode(o.uri, "Scan with your wallet")) }),
    txCode: t.exposeString("txCode", {
      nullable: true,
      description: "The transaction code the wallet asks for, shown this once: hand it to the holder by another way than the offer. Null when none was asked.",
    }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", description: "The offer's pre-authorized code works until then, once." }),
  }),
});

/** Whether the caller may offer this certificate: its institution (ISSUE), or the holder who holds it. */
async function mayOffer(ctx: Context, certificateId: string): Promise<{ offeredBy: string; maxTtlMinutes: number }> {
  const [row] = await ctx.db.select({ institutionId: certificates.institutionId, owner: certificates.owner }).from(certificates).where(eq(certificates.id, certificateId));
  if (!row) throw notFound("certificate");
  if (ctx.caller && !ctx.caller.operator) {
    if (row.institutionId !== ctx.caller.institutionId) throw notFound("certificate");
    return { offeredBy: `institution:${ctx.caller.institutionId}`, maxTtlMinutes: OFFER_LIMITS.institutionMaxTtlMinutes };
  }
  const holder = await holderRootOf(ctx);
  if (!holder.accounts.includes(row.owner)) throw notFound("certificate");
  return { offeredBy: ctx.holder ? `holder:${ctx.holder}` : `holder-email:${ctx.emailHolder!.holderKey}`, maxTtlMinutes: OFFER_LIMITS.holderMaxTtlMinutes };
}

builder.mutationField("createCredentialOffer", (t) =>
  t.field({
    errors: { types: [InvalidInputError, NotFoundError, CertificateStateError] },
    type: CredentialOfferRef,
    description: `Makes a credential offer (OpenID for Verifiable Credential Issuance 1.0, pre-authorized code) of a VALID certificate: the institution's (an API key with ISSUE) or the signed-in holder's own. The wallet redeems it once at \`/oid4vci/token\` and receives the signed Open Badges 3.0 credential from \`/oid4vci/credential\`. Lifetime: ${OFFER_LIMITS.defaultTtlMinutes} minutes by default; at most ${OFFER_LIMITS.holderMaxTtlMinutes} minutes for a holder, 7 days for an institution.`,
    authScopes: { scope: "issue", holder: true, emailHolder: true },
    args: {
      certificateId: t.arg.id({ required: true, description: "The certificate." }),
      txCode: t.arg.boolean({ description: "Ask for a 6-digit transaction code as well (shown once in the answer, to be handed over apart). Default: false." }),
      expiresInMinutes: t.arg.int({ description: "How long the offer works." }),
    },
    resolve: (_root, args, ctx) =>
      withOperationErrors(async () => {
        const certificateId = rawId(args.certificateId);
        if (!certificateId) throw notFound("certificate");
        const { offeredBy, maxTtlMinutes } = await mayOffer(ctx, certificateId);
        return createCredentialOffer(
          { db: ctx.db, custody: ctx.custody },
          { certificateId, base: ctx.siwe.origin.replace(/\/+$/, ""), offeredBy, txCode: args.txCode ?? false, ttlMinutes: args.expiresInMinutes, maxTtlMinutes },
        );
      }),
  }),
);
