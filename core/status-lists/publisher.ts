import { createHash } from "node:crypto";
import { and, eq, max } from "drizzle-orm";
import { registryCursorName } from "../chain/registry-cursor.ts";
import { currentIssuerKey } from "../credentials/institution-keys.ts";
import { issuerDidOf } from "../identity/issuer-identity.ts";
import type { SealingKeyring } from "../custody/sealing-keys.ts";
import type { Database } from "../db/index.ts";
import { collections, indexerCursors, institutions, issuerKeys, statusListIndices } from "../db/schema.ts";
import { anchoredListVersion, readAnchoredStatusBits } from "./anchored-bits.ts";
import { readStatusBits } from "./bits.ts";
import { StatusListNotFoundError } from "./errors.ts";
import { statusListUrl, type StatusPurpose } from "./purposes.ts";
import { encodeStatusBits, signStatusList } from "./sign.ts";

/** How long verifiers may keep a list (`ttl`, and `Cache-Control: max-age`) before asking again. */
export const STATUS_LIST_TTL_MS = 60_000;
/** How long a signed list stays valid (`validUntil`): the longest a replayed old copy can hide a change. */
export const STATUS_LIST_VALIDITY_MS = 24 * 60 * 60_000;
/** A list is signed again this long after it was signed even when unchanged, so its `validUntil` never gets close. */
const RESIGN_AFTER_MS = 60 * 60_000;
const CACHE_ENTRIES = 1_000;

export interface PublishedStatusList {
  /** The signed `BitstringStatusListCredential`, as served. */
  body: string;
  /** A strong validator of `body`, quoted as HTTP wants it. */
  etag: string;
  ttlMs: number;
}

interface Signed extends PublishedStatusList {
  /**
   * What the bits were read at: the registry indexer's cursor for a certificate collection, the confirmed anchored
   * revocations for an ANCHORED one. No bit can have changed while it stays.
   */
  version: string | null;
  encodedList: string;
  signedAt: number;
  /** The issuer's DID and current key it was signed as: a rotation or a new identity signs it again. */
  signer: string;
}

/**
 * The lists as served: signed once and reused while the chain indexer's cursor stands still (only the indexer
 * changes a certificate's status, in the same transaction that moves its cursor), so a change is published with the
 * block that recorded it. An ANCHORED collection has a revocation list only; its version is its confirmed anchored
 * revocations (anchored-bits.ts), which the worker records without the indexer. When the cursor moves the bits are read again (a query over the collection's certificates
 * that are not VALID) and signed again only when they differ. One build at a time per list.
 */
export class StatusListPublisher {
  private readonly cache = new Map<string, Signed>();
  private readonly building = new Map<string, Promise<Signed>>();

  private readonly deps: { db: Database; keyring: SealingKeyring };

  constructor(deps: { db: Database; keyring: SealingKeyring }) {
    this.deps = deps;
  }

  /**
   * `baseUrl` is where this server is reached (the list's own URL starts with it); `didOrigin` the origin
   * platform-hosted DIDs are named after (PUBLIC_URL's), so the list's issuer is the exported credentials' issuer.
   */
  async get(collectionId: string, purpose: StatusPurpose, baseUrl: string, didOrigin: string = new URL(baseUrl).origin): Promise<PublishedStatusList> {
    const key = `${collectionId}:${purpose}:${baseUrl}:${didOrigin}`;
    const under = this.building.get(key);
    if (under) return under;
    const build = this.refresh(key, collectionId, purpose, baseUrl, didOrigin).finally(() => this.building.delete(key));
    this.building.set(key, build);
    return build;
  }

  private async refresh(key: string, collectionId: string, purpose: StatusPurpose, baseUrl: string, didOrigin: string): Promise<Signed> {
    const { db } = this.deps;
    const [collection] = await db
      .select({
        institutionId: collections.institutionId,
        institutionName: institutions.name,
        slug: institutions.slug,
        identity: institutions.identity,
        chainId: collections.chainId,
        kind: collections.kind,
      })
      .from(collections)
      .innerJoin(institutions, eq(institutions.id, collections.institutionId))
      .where(eq(collections.id, collectionId));
    if (!collection || (collection.kind !== "CERTIFICATE" && collection.kind !== "ANCHORED")) throw new StatusListNotFoundError(`no certificate collection "${collectionId}"`);
    const anchored = collection.kind === "ANCHORED";
    if (anchored && purpose !== "revocation") {
      throw new StatusListNotFoundError(`collection "${collectionId}" holds anchored certificates, which cannot be suspended: it publishes a revocation list only`);
    }
    let version: string | null;
    if (anchored) version = await anchoredListVersion(db, collectionId);
    else {
      const [cursorRow] = await db.select({ lastBlock: indexerCursors.lastBlock }).from(indexerCursors).where(eq(indexerCursors.name, registryCursorName(collection.chainId)));
      // A first export draws a position the cursor does not see; one past the list's length makes the list longer.
      const [drawn] = await db.select({ highest: max(statusListIndices.statusListIndex) }).from(statusListIndices).where(eq(statusListIndices.collectionId, collectionId));
      version = cursorRow?.lastBlock != null ? `cursor:${cursorRow.lastBlock}:${drawn?.highest ?? "-"}` : null;
    }
    const did = issuerDidOf({ id: collection.institutionId, slug: collection.slug, identity: collection.identity }, didOrigin);
    const [current] = await db
      .select({ publicKeyMultibase: issuerKeys.publicKeyMultibase })
      .from(issuerKeys)
      .where(and(eq(issuerKeys.institutionId, collection.institutionId), eq(issuerKeys.status, "CURRENT")));
    const signer = `${did}#${current?.publicKeyMultibase ?? "-"}`;
    const cached = this.cache.get(key);
    const now = Date.now();
    const fresh = cached && now - cached.signedAt < RESIGN_AFTER_MS && cached.signer === signer;
    if (fresh && cached.version === version && version !== null) return cached;

    const bits = anchored ? await readAnchoredStatusBits(db, collectionId) : await readStatusBits(db, collectionId, purpose);
    const { list, encodedList } = await encodeStatusBits(bits);
    if (fresh && cached.encodedList === encodedList) {
      cached.version = version;
      return cached;
    }
    const signingKey = await currentIssuerKey(db, collection.institutionId, this.deps.keyring, did);
    const credential = await signStatusList({
      url: statusListUrl(baseUrl, collectionId, purpose),
      purpose,
      list,
      issuer: { key: signingKey, name: collection.institutionName },
      validUntil: new Date(now + STATUS_LIST_VALIDITY_MS),
      ttlMs: STATUS_LIST_TTL_MS,
    });
    const body = JSON.stringify(credential, null, 2);
    const signed: Signed = { body, etag: `"${createHash("sha256").update(body).digest("base64url")}"`, ttlMs: STATUS_LIST_TTL_MS, version, encodedList, signedAt: now, signer: `${did}#${signingKey.key.publicKeyMultibase}` };
    this.cache.delete(key);
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, signed);
    return signed;
  }
}
