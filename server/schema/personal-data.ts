import {
  erasePersonalData,
  personalDataOf,
  setPublicHolderNames,
  type PersonalDataRecord,
} from "../../core/operations/personal-data.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { ConflictError, InvalidInputError, NotFoundError, withOperationErrors } from "../errors.ts";
import { CertificateRef, type CertificateRow } from "./certificate.ts";
import { rawId } from "./ids.ts";
import { CollectionRef, type CollectionRow } from "./institution.ts";

/** The holder's link: the verify page with the token that opens the certificate's personal data. */
export function shareUrl(ctx: Context, certificateId: string, token: string): string {
  return `${ctx.siwe.origin.replace(/\/+$/, "")}/verify/${certificateId}?share=${encodeURIComponent(token)}`;
}

const DisclosureRef = builder.objectRef<{ path: string; salt: string; value: string }>("PersonalDisclosure").implement({
  // Personal data: reached from an erasure's answer too, it still needs READ.
  authScopes: { readData: true },
  description: "A personal value and the salt that opens its commitment in the public document: sha256 of canonical JSON `{ salt, value }`.",
  fields: (t) => ({
    path: t.exposeString("path", { description: "`recipientName`, or `attributes/<name>`." }),
    salt: t.exposeString("salt", { description: "128-bit random salt (base64url)." }),
    value: t.exposeString("value", { description: "The personal value." }),
  }),
});

const PersonalDataRef = builder.objectRef<PersonalDataRecord & { certificateId: string }>("PersonalData").implement({
  authScopes: { readData: true },
  description:
    "A certificate's personal data, held only in Hallmark's database: the public document on IPFS and the digest on chain carry salted commitments to it. Erasing it leaves the certificate valid without it.",
  fields: (t) => ({
    recipientName: t.string({ nullable: true, description: "The holder's name; null once erased.", resolve: (p) => p.disclosures?.findLast((d) => d.path === "recipientName")?.value ?? null }),
    disclosures: t.field({ type: [DisclosureRef], description: "Every personal value with its salt; empty once erased.", resolve: (p) => p.disclosures ?? [] }),
    shareUrl: t.string({
      nullable: true,
      description: "The holder's link: the verify page showing the personal data and that it matches the certificate. Give it only to the holder; null once erased.",
      resolve: (p, _args, ctx) => (p.shareToken ? shareUrl(ctx, p.certificateId, p.shareToken) : null),
    }),
    erasedAt: t.expose("erasedAt", { type: "DateTime", nullable: true, description: "When it was erased." }),
    erasedBy: t.exposeString("erasedBy", { nullable: true, description: "Who erased it (the API key)." }),
    erasedReason: t.exposeString("erasedReason", { nullable: true, description: "Why, as given." }),
  }),
});

builder.objectField(CertificateRef, "personalData", (t) =>
  t.field({
    type: PersonalDataRef,
    nullable: true,
    authScopes: { scope: "read" },
    description: "The personal data the certificate's document commits to; null when it has none.",
    resolve: async (c: CertificateRow, _args, ctx) => {
      const record = await personalDataOf(ctx.db, c.id);
      return record ? { ...record, certificateId: c.id } : null;
    },
  }),
);

builder.objectField(CollectionRef, "publicHolderNames", (t) =>
  t.boolean({
    description: "Whether pages anyone can reach by token id (verify, print, gallery) show holders' names. Off unless set.",
    resolve: (c) => c.publicHolderNames,
  }),
);

const ErasePersonalDataInput = builder.inputType("ErasePersonalDataInput", {
  description: "A certificate whose personal data to erase (a holder's request under GDPR art. 17 / PIPL art. 47).",
  fields: (t) => ({
    certificateId: t.id({ required: true, description: "The certificate (its `id` or `nodeId`)." }),
    reason: t.string({ required: true, description: "Why, in words (kept with the erasure record; at most 500 characters)." }),
    idempotencyKey: t.string({ required: true, description: "Your key; sending it again answers the same erasure." }),
  }),
});

const ErasePersonalDataPayload = builder.objectRef<{ personalData: PersonalDataRecord & { certificateId: string } }>("ErasePersonalDataPayload").implement({
  description: "Result of erasePersonalData.",
  fields: (t) => ({ personalData: t.field({ type: PersonalDataRef, description: "The erasure record.", resolve: (p) => p.personalData }) }),
});

builder.mutationField("erasePersonalData", (t) =>
  t.field({
    errors: { types: [NotFoundError, InvalidInputError, ConflictError] },
    type: ErasePersonalDataPayload,
    description:
      "Deletes a certificate's personal data (its disclosures and the holder's link). The certificate stays valid: its public document only ever held salted commitments, which no one can open afterwards.",
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: ErasePersonalDataInput, required: true, description: "The certificate and why." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(async () => {
        const certificateId = rawId(input.certificateId, "Certificate") ?? String(input.certificateId);
        const record = await erasePersonalData(ctx.db, ctx.caller!.institutionId, `apiKey:${ctx.caller!.apiKeyId}`, {
          certificateId,
          reason: input.reason,
          idempotencyKey: input.idempotencyKey,
        });
        ctx.logger.info({ certificateId, apiKeyId: ctx.caller!.apiKeyId }, "personal data erased");
        return { personalData: { ...record, certificateId } };
      }),
  }),
);

const SetPublicHolderNamesInput = builder.inputType("SetPublicHolderNamesInput", {
  description: "Whether a collection's holders' names are shown on pages anyone can reach by token id.",
  fields: (t) => ({
    collectionId: t.id({ required: true, description: "The collection (its `id` or `nodeId`)." }),
    publicHolderNames: t.boolean({ required: true, description: "true: show names publicly until erased; false (the default): only the holder's link shows them." }),
  }),
});

const SetPublicHolderNamesPayload = builder.objectRef<{ collection: CollectionRow }>("SetPublicHolderNamesPayload").implement({
  description: "Result of setCollectionPublicHolderNames.",
  fields: (t) => ({ collection: t.field({ type: CollectionRef, description: "The collection.", resolve: (p) => p.collection }) }),
});

builder.mutationField("setCollectionPublicHolderNames", (t) =>
  t.field({
    errors: { types: [NotFoundError] },
    type: SetPublicHolderNamesPayload,
    description: "Chooses whether the collection's holders' names are public (shown by token id) or only behind the holder's link (the default).",
    authScopes: { scope: "admin" },
    args: { input: t.arg({ type: SetPublicHolderNamesInput, required: true, description: "The collection and the choice." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(async () => {
        const collection = await setPublicHolderNames(ctx.db, ctx.caller!.institutionId, rawId(input.collectionId, "Collection") ?? String(input.collectionId), input.publicHolderNames);
        return { collection };
      }),
  }),
);
