import { eq } from "drizzle-orm";
import { certificates, collections } from "../../core/db/schema.ts";
import { builder } from "../builder.ts";

import { CertificateStatusEnum, RevocationReasonEnum } from "./enums.ts";
import { ownedRow } from "./ids.ts";
import { CollectionRef } from "./institution.ts";

export type CertificateRow = typeof certificates.$inferSelect;

export const CertificateRef = builder.objectRef<CertificateRow>("Certificate").implement({
  description: "A certificate as recorded on chain: a non-transferable ERC-721 token (ERC-5192 locked).",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier; pass it as `certificateId` to revoke." }),
    tokenId: t.exposeString("tokenId", { description: "ERC-721 token id (uint256, as a decimal string)." }),
    owner: t.exposeString("owner", { description: "Holder address (EIP-55 checksummed)." }),
    metadataUri: t.exposeString("metadataUri", { description: "`ipfs://<cid>` of the certificate document." }),
    metadataCid: t.string({
      description: "CID of the certificate document; its bytes are served at `/ipfs/<cid>`.",
      resolve: (c) => c.metadataUri.replace(/^ipfs:\/\//, ""),
    }),
    digest: t.exposeString("digest", { description: "sha256 of the certificate document, as stored on chain." }),
    txHash: t.exposeString("txHash", { description: "Hash of the transaction that issued it." }),
    blockNumber: t.exposeInt("blockNumber", { description: "Block that includes the issuing transaction." }),
    status: t.field({ type: CertificateStatusEnum, description: "Current status.", resolve: (c) => c.status }),
    validUntil: t.expose("validUntil", { type: "DateTime", nullable: true, description: "Expiry; null when it never expires." }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true, description: "Block time of the revocation." }),
    revocationReason: t.field({
      type: RevocationReasonEnum,
      nullable: true,
      description: "Reason recorded on chain with the revocation.",
      resolve: (c) => (c.revocationReason as never) ?? null,
    }),
    revokedTxHash: t.exposeString("revokedTxHash", { nullable: true, description: "Hash of the revoking transaction." }),
    issuedAt: t.expose("createdAt", { type: "DateTime", description: "When Hallmark recorded the confirmation." }),
    collection: t.field({
      type: CollectionRef,
      description: "The collection (registry contract) it belongs to.",
      resolve: async (c, _args, ctx) => {
        const [row] = await ctx.db.select().from(collections).where(eq(collections.id, c.collectionId));
        return row!;
      },
    }),
    issuanceId: t.exposeID("issuanceId", { description: "The issuance operation that produced it." }),
  }),
});

builder.queryField("certificate", (t) =>
  t.field({
    type: CertificateRef,
    nullable: true,
    description: "A certificate of the caller's institution, by id.",
    authScopes: { scope: "read" },
    args: { id: t.arg.id({ required: true, description: "Certificate id." }) },
    resolve: (_root, { id }, ctx) => ownedRow(ctx, certificates, id, "certificate"),
  }),
);

/** The certificate an issuance produced, once confirmed. */
export async function certificateOfIssuance(ctx: { db: import("../../core/db/index.ts").Database }, issuanceId: string) {
  const [row] = await ctx.db.select().from(certificates).where(eq(certificates.issuanceId, issuanceId));
  return row ?? null;
}

