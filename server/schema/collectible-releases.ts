import { inArray } from "drizzle-orm";
import type { Database } from "../../core/db/index.ts";
import { editionOperations } from "../../core/db/schema.ts";
import { builder } from "../builder.ts";
import { OperationStatusEnum } from "./enums.ts";

type EditionOperationRow = typeof editionOperations.$inferSelect;

/** What a claim tells of each release of collectibles from custody (the institution reads it as `editionOperation`). */
export const CollectibleReleaseRef = builder.objectRef<EditionOperationRow>("CollectibleRelease").implement({
  description:
    "One edition's collectibles moving from custody to the holder's wallet (releaseFromCustody, whatever the edition's transfer policy; not a gift): QUEUED → SUBMITTED → CONFIRMED once none is left in custody.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The edition operation (kind RELEASE; its institution reads it as `editionOperation`)." }),
    status: t.field({ type: OperationStatusEnum, description: "Where the release stood when the claim was answered.", resolve: (o) => o.status }),
    items: t.exposeInt("total", { description: "Items of the edition the account received in custody." }),
    released: t.exposeInt("minted", { description: "Items seen released to the wallet on chain." }),
  }),
});

/** The releases by id, in the order given (a replayed claim's answer). */
export async function releasesByIds(db: Database, ids: string[]): Promise<EditionOperationRow[]> {
  const rows = ids.length ? await db.select().from(editionOperations).where(inArray(editionOperations.id, ids)) : [];
  return ids.map((id) => rows.find((r) => r.id === id)).filter((r): r is EditionOperationRow => !!r);
}
