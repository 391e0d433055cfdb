import { createHash } from "node:crypto";
import { toLanguageValues } from "../i18n/language-map.ts";
import { canonicalBytes, type HallmarkDocument } from "../verification/certificate-document.ts";
import { CREDENTIALS_V2, hallmarkContext, OPEN_BADGES_V3 } from "./context.ts";
import { discloses, isCommitment, RECIPIENT_NAME_PATH, type Disclosure } from "../metadata/personal-data.ts";
import type { BitstringStatusListEntry } from "../status-lists/purposes.ts";

export interface CredentialClaims {
  /** The certificate document exactly as pinned (its sha256 is the on-chain digest). */
  document: HallmarkDocument;
  cid: string;
  chain: { chainId: number; contract: string; tokenId: string; owner: string; txHash?: string };
  /** The certificate's bits in its collection's revocation and suspension lists (W3C Bitstring Status List). */
  status: BitstringStatusListEntry[];
  issuer: { did: string; name: string };
  verifyUrl: string;
  /** The personal values to carry (only those that open the document's commitments are); none once erased. */
  disclosures?: readonly Disclosure[];
}

export function digestSri(bytes: Uint8Array): string {
  return `sha256-${createHash("sha256").update(bytes).digest("base64")}`;
}

/**
 * A W3C VC 2.0 credential shaped as an Open Badges 3.0 OpenBadgeCredential. It carries the certificate document
 * itself (so it verifies offline against its own digest), its status as W3C Bitstring Status List entries (lists
 * derived from the chain, so any W3C verifier can check them), and the token it is as related information.
 */
export function buildOpenBadgeCredential(claims: CredentialClaims): Record<string, unknown> {
  const c = claims.document.certificate;
  // Content written in several languages is carried in all of them, as JSON-LD language-tagged strings.
  const title = toLanguageValues(c.title ?? claims.document.name ?? "Certificate");
  const written = c.description ?? (claims.document.description || undefined);
  const description = written === undefined ? undefined : toLanguageValues(written);
  const disclosed = (claims.disclosures ?? []).filter((d) => opens(claims.document, d));
  const named = c.recipient?.name;
  const recipientName = typeof named === "string" ? named : disclosed.find((d) => d.path === RECIPIENT_NAME_PATH)?.value;
  const id = `urn:uuid:${c.id}`;
  return withoutUndefined({
    "@context": [CREDENTIALS_V2, OPEN_BADGES_V3, hallmarkContext],
    id,
    type: ["VerifiableCredential", "OpenBadgeCredential"],
    name: title,
    description,
    issuer: { id: claims.issuer.did, type: ["Profile"], name: claims.issuer.name },
    validFrom: c.issuedAt,
    validUntil: c.validUntil,
    credentialSubject: {
      // The holder is the token's owner: an Ethereum account, named as a did:pkh.
      id: `did:pkh:eip155:${claims.chain.chainId}:${claims.chain.owner}`,
      type: ["AchievementSubject"],
      identifier: recipientName ? [{ type: ["IdentityObject"], identityType: "name", hashed: false, identityHash: recipientName }] : undefined,
      achievement: {
        id: `${id}#achievement`,
        type: ["Achievement"],
        name: title,
        description: description ?? title,
        criteria: { narrative: `Awarded by ${claims.issuer.name}${c.collection.name ? ` (${c.collection.name})` : ""}.` },
      },
    },
    credentialStatus: claims.status,
    chainRecord: {
      id: claims.verifyUrl,
      chainId: claims.chain.chainId,
      registry: claims.chain.contract,
      tokenId: claims.chain.tokenId,
      transactionHash: claims.chain.txHash,
    },
    relatedResource: [{ id: `ipfs://${claims.cid}`, mediaType: "application/json", digestSRI: digestSri(canonicalBytes(claims.document)) }],
    certificateDocument: claims.document,
    personalDisclosures: disclosed.length ? disclosed.map(({ path, salt, value }) => ({ path, salt, value })) : undefined,
  });
}

/** Whether a disclosure opens the commitment at its path in the document. */
export function opens(document: HallmarkDocument, d: Disclosure): boolean {
  const c = document.certificate;
  const target = d.path === RECIPIENT_NAME_PATH ? c.recipient?.name : c.attributes?.find((a) => `attributes/${a.name}` === d.path)?.value;
  return isCommitment(target) && discloses(target, d);
}

function withoutUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
