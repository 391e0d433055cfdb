import { getAddress, ZeroAddress } from "ethers";
import type { LanguageMap, Localizable } from "../i18n/language-map.ts";
import type { CertificateFields } from "../metadata/certificate.ts";
import { OperationError } from "./errors.ts";

export const LIMITS = {
  title: 200,
  recipientName: 200,
  description: 4000,
  attributes: 50,
  attributeName: 100,
  attributeValue: 1000,
  dataBytes: 16 * 1024,
  idempotencyKey: 200,
  reason: 1000,
} as const;

/** A holder address: well-formed, not zero, and when mixed-case, correctly checksummed (EIP-55). */
export function parseAddress(value: string, field: string): string {
  let address: string;
  try {
    address = getAddress(value.trim());
  } catch {
    const hint = /^0x[0-9a-fA-F]{40}$/.test(value.trim()) ? " (its EIP-55 checksum is wrong)" : "";
    throw new OperationError("BAD_USER_INPUT", `${field} is not a valid Ethereum address${hint}`, field);
  }
  if (address === ZeroAddress) throw new OperationError("BAD_USER_INPUT", `${field} must not be the zero address`, field);
  return address;
}

/** Trimmed NFC text of at most `max` characters, without control characters; undefined when blank and optional. */
export function text(value: string | null | undefined, field: string, max: number, required = false): string | undefined {
  const v = value?.normalize("NFC").trim();
  if (!v) {
    if (required) throw new OperationError("BAD_USER_INPUT", `${field} is required`, field);
    return undefined;
  }
  if (v.length > max) throw new OperationError("BAD_USER_INPUT", `${field} is longer than ${max} characters`, field);
  // Line breaks are kept (a description or a story has paragraphs); other control characters break renderers.
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(v)) {
    throw new OperationError("BAD_USER_INPUT", `${field} contains control characters`, field);
  }
  return v;
}

/** Languages one field may be written in: enough for any real certificate, bounded for the document's size. */
export const MAX_LANGUAGES = 10;

/**
 * Text in one language (a string, as `text` checks it) or in several: a language map whose keys are BCP 47 tags
 * (stored in their canonical spelling, `zh-cn` → `zh-CN`) and whose values are each checked as `text`. A map
 * with one entry stays a map: it says which language the text is in.
 */
export function localizedText(value: unknown, field: string, max: number, required = false): Localizable | undefined {
  if (value === null || value === undefined || typeof value === "string") return text(value, field, max, required);
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new OperationError("BAD_USER_INPUT", `${field} must be a string or a language map ({ "zh-CN": "…", "en": "…" })`, field);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  // An empty map says nothing, not "no title": refused rather than read as absent.
  if (!entries.length) throw new OperationError("BAD_USER_INPUT", `${field} is an empty language map`, field);
  if (entries.length > MAX_LANGUAGES) throw new OperationError("BAD_USER_INPUT", `${field} has more than ${MAX_LANGUAGES} languages`, field);
  const map: LanguageMap = {};
  for (const [tag, t] of entries) {
    let canonical: string | undefined;
    try {
      canonical = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(tag) ? Intl.getCanonicalLocales(tag)[0] : undefined;
    } catch {
      canonical = undefined;
    }
    if (!canonical) throw new OperationError("BAD_USER_INPUT", `${field} has the key "${tag}", which is not a BCP 47 language tag (e.g. "zh-CN", "en")`, `${field}.${tag}`);
    if (canonical in map) throw new OperationError("BAD_USER_INPUT", `${field} gives the language ${canonical} twice`, `${field}.${tag}`);
    if (typeof t !== "string") throw new OperationError("BAD_USER_INPUT", `${field}.${tag} must be a string`, `${field}.${tag}`);
    map[canonical] = text(t, `${field}.${canonical}`, max, true)!;
  }
  return map;
}

export function parseIdempotencyKey(value: string): string {
  return text(value, "idempotencyKey", LIMITS.idempotencyKey, true)!;
}

export interface RawCertificateInput {
  /** A string, or a language map (checked by `localizedText`). */
  title?: unknown;
  recipientName?: string | null;
  description?: unknown;
  validUntil?: Date | string | null;
  /** Each value and label a string or a language map (checked by `localizedText`). */
  attributes?: { name: string; value?: unknown; label?: unknown }[] | null;
  data?: unknown;
}

export function parseCertificateFields(input: RawCertificateInput, defaultTitle: string, now = new Date()): CertificateFields {
  const fields: CertificateFields = {
    title: localizedText(input.title, "title", LIMITS.title) ?? defaultTitle,
    recipientName: text(input.recipientName, "recipientName", LIMITS.recipientName),
    description: localizedText(input.description, "description", LIMITS.description),
  };
  if (input.validUntil != null) {
    const until = input.validUntil instanceof Date ? input.validUntil : new Date(input.validUntil);
    if (Number.isNaN(until.getTime())) throw new OperationError("BAD_USER_INPUT", "validUntil is not a date", "validUntil");
    if (until.getTime() <= now.getTime()) {
      throw new OperationError("BAD_USER_INPUT", "validUntil must be in the future", "validUntil");
    }
    if (until.getTime() / 1000 >= 2 ** 63) throw new OperationError("BAD_USER_INPUT", "validUntil is out of range", "validUntil");
    fields.validUntil = until.toISOString();
  }
  if (input.attributes?.length) {
    if (input.attributes.length > LIMITS.attributes) {
      throw new OperationError("BAD_USER_INPUT", `at most ${LIMITS.attributes} attributes`, "attributes");
    }
    fields.attributes = input.attributes.map((a, i) => {
      const label = localizedText(a.label, `attributes[${i}].label`, LIMITS.attributeName);
      return {
        name: text(a.name, `attributes[${i}].name`, LIMITS.attributeName, true)!,
        value: localizedText(a.value, `attributes[${i}].value`, LIMITS.attributeValue, true)!,
        // Absent rather than undefined: a certificate without labels is the same document as before labels existed.
        ...(label === undefined ? {} : { label }),
      };
    });
  }
  if (input.data != null) {
    if (typeof input.data !== "object" || Array.isArray(input.data)) {
      throw new OperationError("BAD_USER_INPUT", "data must be a JSON object", "data");
    }
    if (Buffer.byteLength(JSON.stringify(input.data)) > LIMITS.dataBytes) {
      throw new OperationError("BAD_USER_INPUT", `data is larger than ${LIMITS.dataBytes} bytes`, "data");
    }
    fields.data = input.data as Record<string, unknown>;
  }
  return fields;
}

export function parseReason(value: string): string {
  return text(value, "reason", LIMITS.reason, true)!;
}
