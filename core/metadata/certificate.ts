import { createHash } from "node:crypto";
import { DEFAULT_LOCALE } from "../i18n/locales.ts";
import { isLanguageMap, pickLanguage, type LanguageMap, type Localizable } from "../i18n/language-map.ts";
import { canonicalJson } from "./canonical-json.ts";
import { attributePath, commit, isCommitment, RECIPIENT_NAME_PATH, type Commitment, type Disclosure } from "./personal-data.ts";

/**
 * The certificate fields an issuer supplies; stored on the issuance row and rendered into the document. Once
 * recorded, personal values are commitments (see withholdPersonalData); a plain string is still accepted for rows
 * recorded before, and for documents built outside the issue path.
 */
export interface CertificateFields {
  /** A string, or a language map (`{ "zh-CN": "…", "en": "…" }`) for a certificate written in several languages. */
  title: Localizable;
  recipientName?: string | Commitment;
  description?: Localizable;
  /** ISO-8601; absent means no expiry. */
  validUntil?: string;
  /**
   * `name` is the field's key (personal data paths and templates name it); `label` how it is shown, in languages;
   * a value in several languages is a language map (a personal value is always one string: it is committed to).
   */
  attributes?: { name: string; value: string | Commitment | LanguageMap; label?: Localizable }[];
  /** Free-form, institution-specific data (JSON object). */
  data?: Record<string, unknown>;
}

export interface CertificateContext {
  issuanceId: string;
  requestId: string;
  issuedAt: Date;
  recipient: string;
  institution: { id: string; name: string };
  collection: { id: string; name: string; chainId: number; contractAddress: string };
  /** A recovered certificate's predecessor (same registry), recorded in the document as `certificate.replaces`. */
  replaces?: { id: string; tokenId: string };
}

export interface CertificateDocument {
  bytes: Uint8Array;
  /** sha256 of the bytes, 0x-hex: the content digest stored on chain, equal to the raw CID's multihash digest. */
  digest: string;
  document: Record<string, unknown>;
}

/** v2: personal values may be salted commitments (`{ digest }`) rather than text. v1 documents stay verifiable. */
export const CERTIFICATE_SCHEMA = "https://hallmark.dev/schemas/certificate/v2";
export const CERTIFICATE_SCHEMA_V1 = "https://hallmark.dev/schemas/certificate/v1";

/**
 * Replaces the recipient's name and every attribute named in `personalAttributes` with a salted commitment, and
 * returns the disclosures that open them. Only the returned fields may be stored with the issuance or pinned.
 */
export function withholdPersonalData(
  fields: CertificateFields,
  personalAttributes: ReadonlySet<string> = new Set(),
  earlier: readonly Disclosure[] = [],
): { fields: CertificateFields; disclosures: Disclosure[] } {
  const saltOf = (path: string, value: string) => earlier.find((d) => d.path === path && d.value === value)?.salt;
  const disclosures: Disclosure[] = [];
  const out: CertificateFields = { ...fields };
  if (typeof fields.recipientName === "string") {
    const { commitment, disclosure } = commit(RECIPIENT_NAME_PATH, fields.recipientName, saltOf(RECIPIENT_NAME_PATH, fields.recipientName));
    out.recipientName = commitment;
    disclosures.push(disclosure);
  }
  if (fields.attributes) {
    out.attributes = fields.attributes.map((a) => {
      if (typeof a.value !== "string" || !personalAttributes.has(a.name)) return a;
      const { commitment, disclosure } = commit(attributePath(a.name), a.value, saltOf(attributePath(a.name), a.value));
      disclosures.push(disclosure);
      // The label says what the field is, never whose: it stays in clear beside the committed value.
      return { ...a, value: commitment };
    });
  }
  return { fields: out, disclosures };
}

/**
 * The certificate document pinned to IPFS. ERC-721 metadata fields (name, description, attributes) at the top
 * so wallets and explorers show it; the full record under `certificate`.
 */
export function buildCertificateDocument(fields: CertificateFields, ctx: CertificateContext): CertificateDocument {
  // ERC-721's name, description and attributes are strings wallets show as they are: the default language's, else
  // the first. The language maps themselves go under `certificate`; a plain string is stored exactly as before.
  const plain = (value: Localizable) => pickLanguage(value, DEFAULT_LOCALE).text;
  // Wallets and explorers show `attributes` as they are: a commitment has no place there.
  const attributes = [
    ...(typeof fields.recipientName === "string" && fields.recipientName ? [{ trait_type: "Recipient", value: fields.recipientName }] : []),
    { trait_type: "Issuer", value: ctx.institution.name },
    { trait_type: "Issued", value: ctx.issuedAt.toISOString() },
    ...(fields.validUntil ? [{ trait_type: "Valid until", value: fields.validUntil }] : []),
    ...(fields.attributes ?? [])
      .filter((a) => !isCommitment(a.value))
      .map((a) => ({ trait_type: a.label === undefined ? a.name : plain(a.label), value: plain(a.value as Localizable) })),
  ];
  const document = {
    $schema: CERTIFICATE_SCHEMA,
    name: plain(fields.title),
    description: fields.description === undefined ? "" : plain(fields.description),
    attributes,
    certificate: {
      id: ctx.issuanceId,
      requestId: ctx.requestId,
      title: fields.title,
      ...(isLanguageMap(fields.description) ? { description: fields.description } : {}),
      recipient: { address: ctx.recipient, name: fields.recipientName },
      issuer: { id: ctx.institution.id, name: ctx.institution.name },
      collection: {
        id: ctx.collection.id,
        name: ctx.collection.name,
        chainId: ctx.collection.chainId,
        contract: ctx.collection.contractAddress,
      },
      issuedAt: ctx.issuedAt.toISOString(),
      validUntil: fields.validUntil,
      attributes: fields.attributes,
      data: fields.data,
      ...(ctx.replaces ? { replaces: { id: ctx.replaces.id, tokenId: ctx.replaces.tokenId } } : {}),
    },
  };
  const bytes = new TextEncoder().encode(canonicalJson(document));
  const digest = `0x${createHash("sha256").update(bytes).digest("hex")}`;
  return { bytes, digest, document };
}
