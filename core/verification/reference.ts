import { eq } from "drizzle-orm";
import { getAddress } from "ethers";
import type { Database } from "../db/index.ts";
import { certificates, collections } from "../db/schema.ts";
import { CertificateNotFoundError } from "./errors.ts";
import type { ChainReference } from "./types.ts";
import { isId } from "../db/ids.ts";

/** `<chainId>:<contract>:<tokenId>`, so a token can be verified with no Hallmark id (and no Hallmark database). */
const EXPLICIT = /^(\d{1,12}):(0x[0-9a-fA-F]{40}):(\d{1,78})$/;

export interface ResolvedReference {
  reference: ChainReference;
  /** The registry's deployment block: where to start looking for the issuing transaction. */
  fromBlock?: number;
  /** The Hallmark certificate id, when the reference was one. */
  certificateId?: string;
}

export function parseExplicitReference(value: string): ChainReference | undefined {
  const m = EXPLICIT.exec(value.trim());
  if (!m) return undefined;
  return { chainId: Number(m[1]), contract: getAddress(m[2]!.toLowerCase()), tokenId: BigInt(m[3]!) };
}

export function isCertificateId(value: string): boolean {
  return isId(value);
}

/**
 * Where a certificate lives on chain. The database is asked for the chain id, the registry address and the token id
 * of a Hallmark certificate id and nothing else: its status, digest and document are all read from the chain.
 */
export async function resolveReference(db: Database | undefined, id: string): Promise<ResolvedReference> {
  const explicit = parseExplicitReference(id);
  if (explicit) return { reference: explicit };
  if (!db || !isCertificateId(id)) throw new CertificateNotFoundError(`no certificate "${id}"`);
  const [row] = await db
    .select({ tokenId: certificates.tokenId, chainId: collections.chainId, contract: collections.contractAddress, deployBlock: collections.deployBlock })
    .from(certificates)
    .innerJoin(collections, eq(collections.id, certificates.collectionId))
    .where(eq(certificates.id, id));
  if (!row) throw new CertificateNotFoundError(`no certificate "${id}"`);
  return {
    // A certificate exists only in a collection whose contract was deployed.
    reference: { chainId: row.chainId, contract: getAddress(row.contract!), tokenId: BigInt(row.tokenId) },
    fromBlock: row.deployBlock!,
    certificateId: id,
  };
}
