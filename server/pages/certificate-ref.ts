import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../../core/db/index.ts";
import { certificates, collections } from "../../core/db/schema.ts";
import { isCertificateId, parseExplicitReference } from "../../core/verification/index.ts";

/**
 * The forms a certificate is named by in a URL, the same on every route: a Hallmark certificate id (a UUID) or
 * `<chainId>:<contract>:<tokenId>`. Anything else is malformed (400); a well-formed reference may still name nothing (404).
 */
export function isCertificateRef(value: string): boolean {
  return isCertificateId(value) || parseExplicitReference(value) !== undefined;
}

export const MALFORMED_REF = "a certificate is named by its id (a UUID) or by chainId:contract:tokenId";

/** The Hallmark certificate id a reference names, or undefined when it names none this platform issued. */
export async function certificateIdOf(db: Database, value: string): Promise<string | undefined> {
  if (isCertificateId(value)) return value.toLowerCase();
  const ref = parseExplicitReference(value);
  if (!ref) return undefined;
  const [row] = await db
    .select({ id: certificates.id })
    .from(certificates)
    .innerJoin(collections, eq(collections.id, certificates.collectionId))
    .where(and(eq(collections.chainId, ref.chainId), eq(sql`lower(${collections.contractAddress})`, ref.contract.toLowerCase()), eq(certificates.tokenId, ref.tokenId.toString())));
  return row?.id;
}
