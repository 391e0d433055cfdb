import * as Ed25519Multikey from "@digitalbazaar/ed25519-multikey";
import { and, asc, eq } from "drizzle-orm";
import { openSecret, sealSecret, type SealingKeyring } from "../custody/sealed.ts";
import type { Database } from "../db/index.ts";
import { OperationError } from "../operations/errors.ts";
import { idempotent } from "../operations/idempotency.ts";
import { institutionKeys, institutions, issuerKeys } from "../db/schema.ts";

export interface SigningKey {
  did: string;
  /** The verification method a proof names: `<did>#<key>`. */
  verificationMethod: string;
  keyPair: Ed25519Multikey.Ed25519KeyPair;
}

/**
 * The institution's signing key, generated and stored (sealed) the first time it is needed. Two first requests at
 * once both generate, one insert wins, and both then use the stored key. `keyring`: the sealing keys it is stored under.
 */
export async function institutionSigningKey(db: Database, institutionId: string, keyring: SealingKeyring): Promise<SigningKey> {
  let [row] = await db.select().from(institutionKeys).where(eq(institutionKeys.institutionId, institutionId));
  if (!row) {
    const fresh = await Ed25519Multikey.generate();
    const exported = await fresh.export({ publicKey: true, secretKey: true });
    await db
      .insert(institutionKeys)
      .values({
        institutionId,
        did: `did:key:${exported.publicKeyMultibase}`,
        publicKeyMultibase: exported.publicKeyMultibase,
        secretKeyMultibase: sealSecret(exported.secretKeyMultibase!, keyring),
      })
      .onConflictDoNothing();
    [row] = await db.select().from(institutionKeys).where(eq(institutionKeys.institutionId, institutionId));
  }
  const did = row!.did;
  const verificationMethod = `${did}#${row!.publicKeyMultibase}`;
  const keyPair = await Ed25519Multikey.from({
    type: "Multikey",
    id: verificationMethod,
    controller: did,
    publicKeyMultibase: row!.publicKeyMultibase,
    secretKeyMultibase: openSecret(row!.secretKeyMultibase, keyring),
  });
  return { did, verificationMethod, keyPair };
}

export type IssuerKey = typeof issuerKeys.$inferSelect;

/**
 * Every key of the institution's did:web document, oldest first, making the first one if there is none: the
 * institution's original signing key (above), so the key it has signed with all along stays its first.
 */
export async function issuerKeysOf(db: Database, institutionId: string, keyring: SealingKeyring): Promise<IssuerKey[]> {
  const read = () => db.select().from(issuerKeys).where(eq(issuerKeys.institutionId, institutionId)).orderBy(asc(issuerKeys.createdAt), asc(issuerKeys.id));
  let rows = await read();
  if (rows.length === 0) {
    await institutionSigningKey(db, institutionId, keyring);
    const [original] = await db.select().from(institutionKeys).where(eq(institutionKeys.institutionId, institutionId));
    // Two first uses at once: the unique index on CURRENT lets one insert win.
    await db
      .insert(issuerKeys)
      .values({ institutionId, publicKeyMultibase: original!.publicKeyMultibase, secretKeyMultibase: original!.secretKeyMultibase, createdAt: original!.createdAt })
      .onConflictDoNothing();
    rows = await read();
  }
  return rows;
}

/** The key exported credentials are signed with now, ready to sign as `verificationMethod` of `did`. */
export async function currentIssuerKey(db: Database, institutionId: string, keyring: SealingKeyring, did: string): Promise<SigningKey & { key: IssuerKey }> {
  const key = (await issuerKeysOf(db, institutionId, keyring)).find((k) => k.status === "CURRENT")!;
  const verificationMethod = issuerKeyMethod(did, key);
  const keyPair = await Ed25519Multikey.from({
    type: "Multikey",
    id: verificationMethod,
    controller: did,
    publicKeyMultibase: key.publicKeyMultibase,
    secretKeyMultibase: openSecret(key.secretKeyMultibase, keyring),
  });
  return { did, verificationMethod, keyPair, key };
}

/** A key's verification method id in a DID document: the DID and the key's multibase, as did:key does. */
export function issuerKeyMethod(did: string, key: Pick<IssuerKey, "publicKeyMultibase">): string {
  return `${did}#${key.publicKeyMultibase}`;
}

/**
 * Retires the current key (it stays in the DID document: what it signed still verifies) or, `compromised`, drops it
 * from the document (what it signed no longer verifies), and makes a new current key. A retry with the same
 * idempotency key answers the key that request made; the same key with the other `compromised` is a conflict.
 */
export async function rotateIssuerKey(
  db: Database,
  input: { institutionId: string; compromised: boolean; idempotencyKey: string },
  keyring: SealingKeyring,
): Promise<{ key: IssuerKey; created: boolean }> {
  await issuerKeysOf(db, input.institutionId, keyring);
  const fresh = await Ed25519Multikey.generate();
  const exported = await fresh.export({ publicKey: true, secretKey: true });
  const { value, replayed } = await idempotent(
    db,
    { scope: `institution:${input.institutionId}`, key: input.idempotencyKey, operation: "rotateIssuerKey", request: { compromised: input.compromised } },
    async (tx) => {
      // The institution's row serialises rotations: two at once would each retire the other's new key.
      await tx.select({ id: institutions.id }).from(institutions).where(eq(institutions.id, input.institutionId)).for("update");
      const now = new Date();
      await tx
        .update(issuerKeys)
        .set(input.compromised ? { status: "COMPROMISED", retiredAt: now, compromisedAt: now } : { status: "RETIRED", retiredAt: now })
        .where(and(eq(issuerKeys.institutionId, input.institutionId), eq(issuerKeys.status, "CURRENT")));
      const [key] = await tx
        .insert(issuerKeys)
        .values({ institutionId: input.institutionId, publicKeyMultibase: exported.publicKeyMultibase, secretKeyMultibase: sealSecret(exported.secretKeyMultibase!, keyring) })
        .returning();
      return { value: key!, result: { issuerKeyId: key!.id } };
    },
    async (result) => (await db.select().from(issuerKeys).where(eq(issuerKeys.id, String(result.issuerKeyId))))[0]!,
  );
  return { key: value, created: !replayed };
}

/** Marks a key no longer current as compromised: it leaves the DID document, and what it signed stops verifying. */
export async function markIssuerKeyCompromised(db: Database, input: { institutionId: string; keyId: string }): Promise<IssuerKey | undefined> {
  const [key] = await db.select().from(issuerKeys).where(and(eq(issuerKeys.institutionId, input.institutionId), eq(issuerKeys.id, input.keyId)));
  if (!key) return undefined;
  if (key.status === "COMPROMISED") return key;
  if (key.status === "CURRENT") throw new OperationError("CONFLICT", "the current key cannot be marked compromised without a replacement: rotate it with `compromised: true`", "issuerKeyId");
  const now = new Date();
  const [updated] = await db.update(issuerKeys).set({ status: "COMPROMISED", compromisedAt: now }).where(eq(issuerKeys.id, key.id)).returning();
  return updated;
}
