import { eq } from "drizzle-orm";
import { collections, institutions } from "../../core/db/schema.ts";
import { builder } from "../builder.ts";
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

export const CollectionRef = builder.node(builder.objectRef<CollectionRow>("Collection"), {
  // Institution data: a key of the institution reads it only with READ, wherever it is reached from.
  authScopes: { readData: true },
  description: "A certificate collection: one registry contract on chain.",
  id: { resolve: (c) => c.id },
  loadMany: (ids, ctx) => ownedRows(ctx, collections, ids),
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier; pass it as `collectionId` when issuing." }),
    name: t.exposeString("name", { description: "Name, also the default certificate title." }),
    symbol: t.exposeString("symbol", { description: "ERC-721 symbol." }),
    chainId: t.exposeInt("chainId", { description: "EVM chain id of the registry." }),
    contractAddress: t.exposeString("contractAddress", { description: "Address of the registry contract." }),
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
