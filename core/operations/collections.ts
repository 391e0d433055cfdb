import { and, eq } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { isId } from "../db/ids.ts";
import { collections } from "../db/schema.ts";
import { OperationError } from "./errors.ts";

/** The institution's collection, or NOT_FOUND: another institution's collection is never revealed. */
export async function ownedCollection(db: Database, institutionId: string, collectionId: string) {
  if (!isId(collectionId)) throw new OperationError("NOT_FOUND", "collection not found", "collectionId");
  const [collection] = await db
    .select()
    .from(collections)
    .where(and(eq(collections.id, collectionId), eq(collections.institutionId, institutionId)));
  if (!collection) throw new OperationError("NOT_FOUND", "collection not found", "collectionId");
  return collection;
}
