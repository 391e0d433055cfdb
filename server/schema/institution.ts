import { eq } from "drizzle-orm";
import { collections, institutions } from "../../core/db/schema.ts";
import { builder } from "../builder.ts";
import { describedValues, OperationStatusEnum } from "./enums.ts";
import { loaders, ownedRows } from "./loaders.ts";
import { connectionFields, paginate, SortOrderEnum } from "./pagination.ts";

export type InstitutionRow = typeof institutions.$inferSelect;
export type CollectionRow = typeof collections.$inferSelect;

export const InstitutionRef = builder.node(builder.objectRef<InstitutionRow>("Institution"), {
  // Institution data: a key of the institution reads it only with READ, wherever it is reached from.
  authScopes: { readData: true },
  description: "An issuing institution: a university, court, hospital or museum.",
  id: { resolve: (i) => i.id },
  // The caller's own institution only.
  loadMany: async (ids, ctx) => {
    const own = ids.includes(ctx.caller?.institutionId ?? "") ? await loaders(ctx).institution.load(ctx.caller!.institutionId) : null;
    return ids.map((id) => (id === own?.id ? own : null));
  },
  fields: (t) => ({
    // Which institution a key belongs to is not institution data: any of its keys may ask.
    id: t.exposeID("id", { description: "Stable identifier.", skipTypeScopes: true }),
    name: t.exposeString("name", { description: "Display name.", skipTypeScopes: true }),
    slug: t.exposeString("slug", { description: "URL-safe short name." }),
    collections: t.field({
      type: [CollectionRef],
      description: "The institution's certificate collections, oldest first.",
      resolve: (inst, _args, ctx) => loaders(ctx).collectionsOfInstitution.load(inst.id),
    }),
  }),
});

export const CollectionKindEnum = builder.enumType("CollectionKind", {
  description: "What a collection's contract holds.",
  values: describedValues(["CERTIFICATES", "ANCHORED"] as const, {
    CERTIFICATES: "A CertificateRegistry: one token per certificate, issued with issueCertificate, issueCertificates or the CSV importer.",
    ANCHORED: "A CertificateAnchor: Merkle roots of anchored batches (`npm run anchor`); certificates are not issued into it one by one.",
  }),
});

export const CollectionRef = builder.node(builder.objectRef<CollectionRow>("Collection"), {
  // Institution data: a key of the institution reads it only with READ, wherever it is reached from.
  authScopes: { readData: true },
  description:
    "A collection: one contract on chain, a certificate registry (CERTIFICATES) or an anchor for anchored batches (ANCHORED). One made by createCollection is an operation: QUEUED → SUBMITTED → CONFIRMED (its contract created and bound to the institution in the issuer registry) or FAILED.",
  id: { resolve: (c) => c.id },
  loadMany: (ids, ctx) => ownedRows(ctx, collections, ids),
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier; pass it as `collectionId` when issuing." }),
    name: t.exposeString("name", { description: "Name, also the default certificate title." }),
    symbol: t.exposeString("symbol", { description: "ERC-721 symbol." }),
    chainId: t.exposeInt("chainId", { description: "EVM chain id of the registry." }),
    kind: t.field({ type: CollectionKindEnum, description: "What its contract holds.", resolve: (c) => (c.kind === "ANCHORED" ? "ANCHORED" : "CERTIFICATES") }),
    status: t.field({
      type: OperationStatusEnum,
      description: "Where its contract's creation stands (never PINNED); certificates are issued into it once CONFIRMED, before that issuing answers COLLECTION_NOT_READY.",
      resolve: (c) => c.status,
    }),
    contractAddress: t.exposeString("contractAddress", {
      nullable: true,
      description: "Address of its contract: the one its mined creation made; null until then.",
    }),
    deployBlock: t.exposeInt("deployBlock", { nullable: true, description: "Block its contract was created in; null until then." }),
    txHash: t.exposeString("txHash", { nullable: true, description: "Hash of the transaction under way: its contract's creation, then its binding in the issuer registry." }),
    error: t.exposeString("error", { nullable: true, description: "Why its creation failed, when FAILED." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "Last state change." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the collection was created." }),
  }),
});

builder.objectField(CollectionRef, "institution", (t) =>
  t.field({
    type: InstitutionRef,
    description: "The institution that issues into it.",
    resolve: async (c, _args, ctx) => (await loaders(ctx).institution.load(c.institutionId))!,
  }),
);

builder.queryField("collections", (t) =>
  t.connection(
    {
      type: CollectionRef,
      description: "The caller's institution's collections, a page at a time (newest first unless `orderBy: ASC`).",
      authScopes: { scope: "read" },
      args: { orderBy: t.arg({ type: SortOrderEnum, defaultValue: "DESC", description: "By creation time, then id." }) },
      resolve: (_root, args, ctx) =>
        paginate<CollectionRow>({
          db: ctx.db,
          table: collections,
          where: eq(collections.institutionId, ctx.caller!.institutionId),
          order: args.orderBy ?? "DESC",
          args,
        }),
    },
    { name: "CollectionConnection", description: "A page of collections.", fields: connectionFields },
    { name: "CollectionEdge", description: "A collection and its cursor." },
  ),
);

builder.queryField("viewer", (t) =>
  t.field({
    type: InstitutionRef,
    description: "The institution the API key belongs to.",
    authScopes: { authenticated: true },
    resolve: async (_root, _args, ctx) => {
      const [row] = await ctx.db.select().from(institutions).where(eq(institutions.id, ctx.caller!.institutionId));
      return row!;
    },
  }),
);
