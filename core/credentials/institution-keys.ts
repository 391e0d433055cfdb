import * as Ed25519Multikey from "@digitalbazaar/ed25519-multikey";
import { eq } from "drizzle-orm";
import { openSecret, sealSecret, type SealingKeyring } from "../custody/sealed.ts";
import type { Database } from "../db/index.ts";
import { institutionKeys } from "../db/schema.ts";

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
