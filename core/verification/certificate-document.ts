import { isLanguageMap, type LanguageMap, type Localizable } from "../i18n/language-map.ts";
import { canonicalJson } from "../metadata/canonical-json.ts";
import { CERTIFICATE_SCHEMA, CERTIFICATE_SCHEMA_V1 } from "../metadata/certificate.ts";
import { attributePath, discloses, isCommitment, RECIPIENT_NAME_PATH, type Commitment, type Disclosure } from "../metadata/personal-data.ts";
import { DocumentFormatError } from "./errors.ts";
import type { CertificateSummary, DisclosureStatus } from "./types.ts";

/** The parts of a Hallmark certificate document (core/metadata/certificate.ts) the verifier reads. */
export interface HallmarkDocument {
  $schema: string;
  certificate: {
    id?: string;
    requestId: string;
    /** A string, or a language map when the certificate was written in several languages. */
    title?: Localizable;
    /** Only when the description is a language map; a plain one is the top-level `description`. */
    description?: Localizable;
    recipient?: { address?: string; name?: string | Commitment };
    issuer?: { id?: string; name?: string };
    collection: { id?: string; name?: string; chainId: number; contract: string };
    issuedAt?: string;
    validUntil?: string;
    attributes?: { name: string; value: string | Commitment | LanguageMap; label?: Localizable }[];
  };
  name?: string;
  description?: string;
}

export function isHallmarkDocument(value: unknown): value is HallmarkDocument {
  const v = value as HallmarkDocument | undefined;
  return (
    !!v &&
    typeof v === "object" &&
    (v.$schema === CERTIFICATE_SCHEMA || v.$schema === CERTIFICATE_SCHEMA_V1) &&
    typeof v.certificate?.requestId === "string" &&
    typeof v.certificate.collection?.chainId === "number" &&
    typeof v.certificate.collection.contract === "string"
  );
}

export function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new DocumentFormatError(`${what} is not JSON`);
  }
}

/**
 * The bytes the issuer hashed. Documents are pinned as canonical JSON, so a copy that was pretty-printed or had its
 * keys reordered on the way still canonicalizes to the same bytes, while any change of content does not.
 */
export function canonicalBytes(document: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(document));
}

/**
 * The document's fields for a person to read. A committed (personal) value is shown only when a disclosure opens
 * it; a disclosure that does not open it is reported, never shown, so a forged name cannot pass for the real one.
 */
export function summarize(doc: HallmarkDocument, disclosures: readonly Disclosure[] = []): CertificateSummary {
  const c = doc.certificate;
  // A path may be disclosed more than once (a corrected value next to the one it replaced): any that opens counts.
  const open = (path: string, value: unknown): { value?: Localizable; status?: DisclosureStatus } => {
    if (typeof value === "string" || isLanguageMap(value)) return { value, status: "PUBLIC" };
    if (!isCommitment(value)) return {};
    const given = disclosures.filter((d) => d.path === path);
    if (!given.length) return { status: "NOT_DISCLOSED" };
    const opening = given.find((d) => discloses(value, d));
    return opening ? { value: opening.value, status: "MATCHES" } : { status: "DOES_NOT_MATCH" };
  };
  const name = open(RECIPIENT_NAME_PATH, c.recipient?.name);
  const attributes: CertificateSummary["attributes"] = [];
  const personal: CertificateSummary["personal"] = [];
  for (const a of Array.isArray(c.attributes) ? c.attributes : []) {
    if (typeof a?.name !== "string") continue;
    const opened = open(attributePath(a.name), a.value);
    if (opened.status && opened.status !== "PUBLIC") personal.push({ name: a.name, status: opened.status });
    const label = typeof a.label === "string" || isLanguageMap(a.label) ? { label: a.label } : {};
    if (opened.value !== undefined) attributes.push({ name: a.name, value: opened.value, ...label });
  }
  return {
    id: c.id,
    title: c.title ?? doc.name,
    description: c.description ?? (doc.description || undefined),
    recipientName: typeof name.value === "string" ? name.value : undefined,
    recipientNameStatus: name.status,
    personal,
    recipientAddress: c.recipient?.address,
    issuerName: c.issuer?.name,
    issuerId: c.issuer?.id,
    collectionName: c.collection.name,
    issuedAt: c.issuedAt,
    validUntil: c.validUntil,
    attributes,
  };
}
