import { and, eq } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { isId } from "../db/ids.ts";
import { collections, outbox, type CollectionKind } from "../db/schema.ts";
import { assertMayIssue } from "./may-issue.ts";
import { OperationError } from "./errors.ts";
import { assertSameRequest, requestHash } from "./idempotency.ts";
import { parseIdempotencyKey } from "./validate.ts";

export type Collection = typeof collections.$inferSelect;
/** A collection whose contract exists on chain (every CONFIRMED one: the table's check constraint says so). */
export type DeployedCollection = Collection & { contractAddress: string; deployBlock: number };

export function isDeployed(collection: Collection): collection is DeployedCollection {
  return collection.contractAddress !== null && collection.deployBlock !== null;
}

/** The institution's collection, or NOT_FOUND: another institution's collection is never revealed. */
export async function ownedCollection(db: Database, institutionId: string, collectionId: string): Promise<Collection> {
  if (!isId(collectionId)) throw new OperationError("NOT_FOUND", "collection not found", "collectionId");
  const [collection] = await db
    .select()
    .from(collections)
    .where(and(eq(collections.id, collectionId), eq(collections.institutionId, institutionId)));
  if (!collection) throw new OperationError("NOT_FOUND", "collection not found", "collectionId");
  return collection;
}

/**
 * The institution's collection when certificates may be issued into it: its registry CONFIRMED on chain (else
 * COLLECTION_NOT_READY, naming where its creation stands) and a certificate registry, not an anchor (anchored
 * collections take anchored batches, `anchorCertificates`, not single certificates).
 */
export async function issuableCollection(db: Database, institutionId: string, collectionId: string): Promise<DeployedCollection> {
  const collection = await ownedCollection(db, institutionId, collectionId);
  if (collection.status !== "CONFIRMED" || !isDeployed(collection)) {
    const why = collection.status === "FAILED" ? `its creation FAILED (${collection.error ?? "no reason recorded"}); create another` : "issue once it is CONFIRMED";
    throw new OperationError("COLLECTION_NOT_READY", `the collection is ${collection.status} on chain: ${why}`, "collectionId", { status: collection.status });
  }
  if (collection.kind !== "CERTIFICATE") {
    throw new OperationError("BAD_USER_INPUT", "the collection is ANCHORED: it takes anchored batches (anchorCertificates), not certificates one by one", "collectionId");
  }
  return collection;
}

/** A collection's name: what wallets and explorers show for its contract. */
export const COLLECTION_NAME_MAX_BYTES = 128;
/** ERC-721 symbols are short tickers: upper-case letters and digits. */
const SYMBOL = /^[A-Z0-9]{1,11}$/;

function parseCollectionName(value: string): string {
  const v = value.normalize("NFC").trim();
  if (!v) throw new OperationError("BAD_USER_INPUT", "name is required", "name");
  if (Buffer.byteLength(v) > COLLECTION_NAME_MAX_BYTES) throw new OperationError("BAD_USER_INPUT", `name is longer than ${COLLECTION_NAME_MAX_BYTES} bytes`, "name");
  if (/[\u0000-\u001F\u007F]/.test(v)) throw new OperationError("BAD_USER_INPUT", "name contains control characters", "name");
  return v;
}

function parseSymbol(value: string): string {
  if (!SYMBOL.test(value)) throw new OperationError("BAD_USER_INPUT", "symbol must be 1 to 11 upper-case letters or digits", "symbol");
  return value;
}

/**
 * Records a collection to be created on chain (QUEUED) and the job that deploys it, in one transaction. The same
 * idempotency key again answers the same collection (`created: false`); with another input it is an
 * IDEMPOTENCY_CONFLICT. Only an ACTIVE institution may create one: its contract is bound to the institution's
 * entry in the issuer registry, which exists once its registration is confirmed.
 */
export async function requestCreateCollection(
  db: Database,
  institutionId: string,
  input: { name: string; symbol: string; kind: CollectionKind; idempotencyKey: string },
  chainId: number,
): Promise<{ collection: Collection; created: boolean }> {
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  const name = parseCollectionName(input.name);
  const symbol = parseSymbol(input.symbol);
  const hash = requestHash({ kind: input.kind, name, symbol });
  const earlier = async () => {
    const [row] = await db
      .select()
      .from(collections)
      .where(and(eq(collections.institutionId, institutionId), eq(collections.idempotencyKey, idempotencyKey)));
    if (row) assertSameRequest(row.requestHash ?? "", hash);
    return row;
  };
  const found = await earlier();
  if (found) return { collection: found, created: false };
  await assertMayIssue(db, institutionId);
  const created = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(collections)
      .values({ institutionId, name, symbol, kind: input.kind, chainId, status: "QUEUED", idempotencyKey, requestHash: hash })
      .onConflictDoNothing()
      .returning();
    if (row) await tx.insert(outbox).values({ topic: "deploy-collection", payload: { collectionId: row.id } });
    return row;
  });
  if (created) return { collection: created, created: true };
  // A concurrent request with the same key won the insert.
  return { collection: (await earlier())!, created: false };
}
