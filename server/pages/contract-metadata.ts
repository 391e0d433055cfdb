import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../../core/db/index.ts";
import { collections, editionContracts, institutions } from "../../core/db/schema.ts";
import { escapeHtml } from "./html.ts";

/**
 * ERC-7572 contract-level metadata: what wallets, explorers and indexers show for a whole contract (a collection's
 * certificate registry, an institution's editions contract), served as JSON at the URI the contract's
 * `contractURI()` names. It says who issues there, from Hallmark's records of the institution.
 */

/** A Hallmark contract and the institution that issues through it. */
export interface ContractSubject {
  kind: "CERTIFICATES" | "EDITIONS";
  chainId: number;
  /** As recorded (EIP-55). */
  address: string;
  name: string;
  /** A registry's, as its collection records it; an editions contract's is not recorded. */
  symbol?: string;
  institution: { name: string; identity: string | null };
}

/** The ERC-7572 document: the standard's fields, and `issuer`, the institution as Hallmark and its issuer registry know it. */
export interface ContractMetadata {
  name: string;
  symbol?: string;
  description: string;
  image: string;
  external_link: string;
  issuer: { name: string; identity: string | null };
}

/**
 * The contract at `address` on `chainId`, when it is a collection's certificate registry or an institution's
 * editions contract; undefined otherwise (anchored collections included: an anchor is no token contract and has no
 * `contractURI()`).
 */
export async function findContractSubject(db: Database, chainId: number, address: string): Promise<ContractSubject | undefined> {
  // Addresses are recorded checksummed; `contractURI()` spells them in lower case.
  const lower = address.toLowerCase();
  const [collection] = await db
    .select({ address: collections.contractAddress, name: collections.name, symbol: collections.symbol, institution: institutions.name, identity: institutions.identity })
    .from(collections)
    .innerJoin(institutions, eq(institutions.id, collections.institutionId))
    .where(and(eq(collections.chainId, chainId), eq(collections.kind, "CERTIFICATE"), sql`lower(${collections.contractAddress}) = ${lower}`))
    .limit(1);
  if (collection) {
    const { name, symbol, institution, identity } = collection;
    return { kind: "CERTIFICATES", chainId, address: collection.address!, name, symbol, institution: { name: institution, identity } };
  }
  const [editions] = await db
    .select({ address: editionContracts.contractAddress, name: editionContracts.name, institution: institutions.name, identity: institutions.identity })
    .from(editionContracts)
    .innerJoin(institutions, eq(institutions.id, editionContracts.institutionId))
    .where(and(eq(editionContracts.chainId, chainId), sql`lower(${editionContracts.contractAddress}) = ${lower}`))
    .limit(1);
  if (editions) {
    return { kind: "EDITIONS", chainId, address: editions.address, name: editions.name, institution: { name: editions.institution, identity: editions.identity } };
  }
  return undefined;
}

/** Where a contract's metadata documents are served, under the public base URL. */
export function contractMetadataPath(subject: Pick<ContractSubject, "chainId" | "address">): string {
  return `/contracts/${subject.chainId}/${subject.address.toLowerCase()}`;
}

/** The ERC-7572 JSON of `subject`; `base` is the public base URL (no trailing slash). */
export function buildContractMetadata(subject: ContractSubject, base: string): ContractMetadata {
  const { institution } = subject;
  const by = institution.identity ? `${institution.name} (${institution.identity})` : institution.name;
  const description =
    subject.kind === "CERTIFICATES"
      ? `Certificates issued by ${by} through Hallmark: each is a non-transferable token bound to its holder (ERC-5192), ` +
        `revocable by its issuer. Anyone can check one at ${base}/verify.`
      : `Limited editions of ${by} through Hallmark: every item is unique, with a serial number in its edition, and ` +
        "moves only as its edition allows; nothing here is for sale.";
  return {
    name: subject.name,
    ...(subject.symbol ? { symbol: subject.symbol } : {}),
    description,
    image: `${base}${contractMetadataPath(subject)}/image.svg`,
    external_link: institutionLink(institution.identity) ?? base,
    issuer: { name: institution.name, identity: institution.identity },
  };
}

/** The institution's own web site, when its identity names one: a DNS domain, or a `did:web` (its host part). */
function institutionLink(identity: string | null): string | undefined {
  if (!identity) return undefined;
  const host = identity.startsWith("did:web:") ? decodeURIComponent(identity.slice("did:web:".length).split(":")[0]!) : identity;
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?$/i.test(host) ? `https://${host}` : undefined;
}

/** A square image for the contract: its name and its institution's, on a plain card (no asset to upload first). */
export function renderContractImage(subject: ContractSubject): string {
  const line = (text: string, max: number) => escapeHtml(text.length > max ? `${text.slice(0, max - 1)}…` : text);
  const label = subject.kind === "CERTIFICATES" ? "Certificates" : "Editions";
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512" role="img" aria-label="${line(subject.name, 80)}">
  <rect width="512" height="512" fill="#f6f3ec"/>
  <rect x="24" y="24" width="464" height="464" fill="none" stroke="#1f3a5f" stroke-width="6"/>
  <text x="256" y="200" text-anchor="middle" font-family="Georgia, serif" font-size="34" fill="#1f3a5f">${line(subject.name, 26)}</text>
  <text x="256" y="260" text-anchor="middle" font-family="Georgia, serif" font-size="22" fill="#333">${line(subject.institution.name, 36)}</text>
  <text x="256" y="420" text-anchor="middle" font-family="Helvetica, Arial, sans-serif" font-size="18" fill="#666">${label} · Hallmark</text>
</svg>
`;
}
