import { and, eq, sql } from "drizzle-orm";
import type { SealingKeyring } from "../custody/sealing-keys.ts";
import type { Database } from "../db/index.ts";
import { certificates, collections, institutionKeys, institutions, issuerKeys } from "../db/schema.ts";
import { issuerKeyMethod, issuerKeysOf, type IssuerKey } from "../credentials/institution-keys.ts";
import { isDomainDid, platformDid } from "./did-web.ts";

export type InstitutionIdentity = Pick<typeof institutions.$inferSelect, "id" | "slug" | "identity">;

/**
 * The DID an institution issues under: the did:web its issuer registry identity names when that is a did:web on a
 * domain of its own (it publishes the document Hallmark makes at `https://<domain>/.well-known/did.json`), else
 * the one Hallmark hosts for it, `did:web:<public host>:institutions:<slug>`.
 */
export function issuerDidOf(institution: InstitutionIdentity, publicOrigin: string): string {
  const identity = institution.identity?.trim();
  if (identity && isDomainDid(identity)) return identity;
  return platformDid(publicOrigin, institution.slug);
}

/** Whether Hallmark serves this institution's DID document itself (else the institution publishes it). */
export function isPlatformHosted(institution: InstitutionIdentity): boolean {
  return !(institution.identity && isDomainDid(institution.identity.trim()));
}

const DID_V1 = "https://www.w3.org/ns/did/v1";
const MULTIKEY_V1 = "https://w3id.org/security/multikey/v1";

/**
 * The DID document: every key not marked compromised, the retired ones included, as verification and assertion
 * methods, so a credential signed before a rotation still verifies; a compromised key is left out, so what it
 * signed does not.
 */
export function buildDidDocument(did: string, keys: readonly Pick<IssuerKey, "publicKeyMultibase" | "status">[]): Record<string, unknown> {
  const listed = keys.filter((k) => k.status !== "COMPROMISED");
  const methods = listed.map((k) => ({ id: issuerKeyMethod(did, k), type: "Multikey", controller: did, publicKeyMultibase: k.publicKeyMultibase }));
  return {
    "@context": [DID_V1, MULTIKEY_V1],
    id: did,
    verificationMethod: methods,
    assertionMethod: methods.map((m) => m.id),
  };
}

export async function didDocumentOf(db: Database, institution: InstitutionIdentity, publicOrigin: string, keyring: SealingKeyring): Promise<Record<string, unknown>> {
  return buildDidDocument(issuerDidOf(institution, publicOrigin), await issuerKeysOf(db, institution.id, keyring));
}

/**
 * Answers the DID documents of this platform's institutions from its own database, with no request: the ones it
 * hosts (`did:web:<public host>:institutions:<slug>`) and the did:web on institutions' own domains, whose documents
 * it makes. Anything else is not answered (undefined), so a server verifying a credential someone posted never
 * fetches an address that credential chose.
 */
export function localDidResolver(db: Database, publicOrigin: () => string | undefined, keyring: SealingKeyring): (did: string) => Promise<Record<string, unknown> | undefined> {
  return async (did) => {
    const origin = publicOrigin();
    if (!origin) return undefined;
    const hosted = /^did:web:([^:]+):institutions:([a-z0-9-]+)$/.exec(did);
    let institution: InstitutionIdentity | undefined;
    if (hosted) {
      if (decodeURIComponent(hosted[1]!) !== new URL(origin).host) return undefined;
      [institution] = await db.select().from(institutions).where(eq(institutions.slug, hosted[2]!));
      if (institution && !isPlatformHosted(institution)) return undefined;
    } else if (isDomainDid(did)) {
      [institution] = await db.select().from(institutions).where(sql`lower(trim(${institutions.identity})) = ${did.toLowerCase()}`);
    }
    return institution ? didDocumentOf(db, institution, origin, keyring) : undefined;
  };
}

/**
 * The DIDs that may sign credentials for a registry this platform recorded: its institution's did:web, and the
 * did:key its credentials were signed under before did:web. Unknown registries answer undefined (no opinion).
 */
export function registryIssuerDids(db: Database, publicOrigin: () => string | undefined): (chainId: number, contract: string) => Promise<string[] | undefined> {
  return async (chainId, contract) => {
    const origin = publicOrigin();
    if (!origin) return undefined;
    const [row] = await db
      .select({ id: institutions.id, slug: institutions.slug, identity: institutions.identity, legacy: institutionKeys.did })
      .from(collections)
      .innerJoin(institutions, eq(institutions.id, collections.institutionId))
      .leftJoin(institutionKeys, eq(institutionKeys.institutionId, institutions.id))
      .where(and(eq(collections.chainId, chainId), sql`lower(${collections.contractAddress}) = ${contract.toLowerCase()}`));
    if (!row) return undefined;
    return [issuerDidOf(row, origin), ...(row.legacy ? [row.legacy] : [])];
  };
}

/**
 * What a signed export depends on besides the chain: the institution's identity and which of its keys is current,
 * so a cached credential is never answered after a rotation, a compromise or a change of identity.
 */
export async function issuerStamp(db: Database, certificateId: string): Promise<string> {
  const rows = await db
    .select({ identity: institutions.identity, slug: institutions.slug, key: issuerKeys.publicKeyMultibase })
    .from(certificates)
    .innerJoin(institutions, eq(institutions.id, certificates.institutionId))
    .leftJoin(issuerKeys, and(eq(issuerKeys.institutionId, institutions.id), eq(issuerKeys.status, "CURRENT")))
    .where(eq(certificates.id, certificateId));
  const row = rows[0];
  return row ? `${row.slug}|${row.identity ?? ""}|${row.key ?? "-"}` : "-";
}
