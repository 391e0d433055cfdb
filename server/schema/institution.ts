import { eq } from "drizzle-orm";
import { collections, institutions } from "../../core/db/schema.ts";
import { builder } from "../builder.ts";

export type InstitutionRow = typeof institutions.$inferSelect;
export type CollectionRow = typeof collections.$inferSelect;

export const InstitutionRef = builder.objectRef<InstitutionRow>("Institution").implement({
  description: "An issuing institution: a university, court, hospital or museum.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier." }),
    name: t.exposeString("name", { description: "Display name." }),
    slug: t.exposeString("slug", { description: "URL-safe short name." }),
    collections: t.field({
      type: [CollectionRef],
      description: "The institution's certificate collections, oldest first.",
      resolve: (inst, _args, ctx) =>
        ctx.db.select().from(collections).where(eq(collections.institutionId, inst.id)).orderBy(collections.createdAt),
    }),
  }),
});

export const CollectionRef = builder.objectRef<CollectionRow>("Collection").implement({
  description: "A certificate collection: one registry contract on chain.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier; pass it as `collectionId` when issuing." }),
    name: t.exposeString("name", { description: "Name, also the default certificate title." }),
    symbol: t.exposeString("symbol", { description: "ERC-721 symbol." }),
    chainId: t.exposeInt("chainId", { description: "EVM chain id of the registry." }),
    contractAddress: t.exposeString("contractAddress", { description: "Address of the registry contract." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the collection was created." }),
  }),
});

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
