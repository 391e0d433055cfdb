import { canonicalJson } from "../metadata/canonical-json.ts";
import { CERTIFICATE_SCHEMA } from "../metadata/certificate.ts";
import { DocumentFormatError } from "./errors.ts";
import type { CertificateSummary } from "./types.ts";

/** The parts of a Hallmark certificate document (core/metadata/certificate.ts) the verifier reads. */
export interface HallmarkDocument {
  $schema: string;
  certificate: {
    id?: string;
    requestId: string;
    title?: string;
    recipient?: { address?: string; name?: string };
    issuer?: { id?: string; name?: string };
    collection: { id?: string; name?: string; chainId: number; contract: string };
    issuedAt?: string;
    validUntil?: string;
    attributes?: { name: string; value: string }[];
  };
  name?: string;
  description?: string;
}

export function isHallmarkDocument(value: unknown): value is HallmarkDocument {
  const v = value as HallmarkDocument | undefined;
  return (
    !!v &&
    typeof v === "object" &&
    v.$schema === CERTIFICATE_SCHEMA &&
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

export function summarize(doc: HallmarkDocument): CertificateSummary {
  const c = doc.certificate;
  return {
    id: c.id,
    title: c.title ?? doc.name,
    description: doc.description || undefined,
    recipientName: c.recipient?.name,
    recipientAddress: c.recipient?.address,
    issuerName: c.issuer?.name,
    issuerId: c.issuer?.id,
    collectionName: c.collection.name,
    issuedAt: c.issuedAt,
    validUntil: c.validUntil,
    attributes: Array.isArray(c.attributes) ? c.attributes.filter((a) => typeof a?.name === "string" && typeof a?.value === "string") : [],
  };
}
