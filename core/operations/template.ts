import { and, desc, eq, sql } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { collectionTemplates, TEMPLATE_FIELD_TYPES, type TemplateField, type TemplateFieldType } from "../db/schema.ts";
import type { CertificateFields } from "../metadata/certificate.ts";
import { OperationError } from "./errors.ts";
import { ownedCollection } from "./issue.ts";
import { LIMITS, parseIdempotencyKey } from "./validate.ts";
import { assertSameRequest, requestHash } from "./idempotency.ts";

export type CollectionTemplate = typeof collectionTemplates.$inferSelect;

export const TEMPLATE_LIMITS = {
  fields: 50,
  key: 64,
  label: 100,
  enumValues: 100,
  enumValue: 200,
  /** TEXT values, and the default maxLength. */
  text: 1000,
  /** A TEXT field with a pattern: values at most this long, which bounds any regex's running time. */
  patternText: 256,
  pattern: 200,
  /** Quantifiers of a pattern whose repetition count is unbounded or wide (`*`, `+`, `{2,}`, `{1,50}`). */
  patternOpenQuantifiers: 3,
} as const;

export interface RawTemplateField {
  key: string;
  label: string;
  type: string;
  required?: boolean | null;
  enumValues?: string[] | null;
  maxLength?: number | null;
  pattern?: string | null;
  shown?: boolean | null;
  personal?: boolean | null;
}

const bad = (message: string, field: string) => new OperationError("BAD_USER_INPUT", message, field);
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

function cleanText(value: unknown, field: string, max: number): string {
  if (typeof value !== "string") throw bad(`${field} must be a string`, field);
  const v = value.normalize("NFC").trim();
  if (!v) throw bad(`${field} is required`, field);
  if (v.length > max) throw bad(`${field} is longer than ${max} characters`, field);
  if (CONTROL.test(v)) throw bad(`${field} contains control characters`, field);
  return v;
}

/**
 * Accepts only anchored patterns in a subset whose backtracking stays bounded: no backreferences or lookarounds,
 * no repeated group that holds a quantifier or an alternation (`(a+)+`, `(a|ab)*`), and at most a few open
 * quantifiers; values tested against it are short (TEMPLATE_LIMITS.patternText). Returns the compiled RegExp.
 */
export function compileSafePattern(pattern: string, field: string): RegExp {
  if (pattern.length > TEMPLATE_LIMITS.pattern) throw bad(`${field} is longer than ${TEMPLATE_LIMITS.pattern} characters`, field);
  if (!pattern.startsWith("^") || !pattern.endsWith("$") || /(^|[^\\])(\\\\)*\\\$$/.test(pattern)) {
    throw bad(`${field} must be anchored: start with ^ and end with $`, field);
  }
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, "u");
  } catch {
    throw bad(`${field} is not a valid regular expression`, field);
  }
  // Each open group: whether it holds a quantifier or an alternation.
  const groups: { risky: boolean }[] = [{ risky: false }];
  let open = 0;
  let i = 0;
  /** Reads a quantifier at i, if any: its span and whether it repeats (max > 1) and is open (unbounded or wide). */
  const quantifier = (): { repeats: boolean; open: boolean } | undefined => {
    const c = pattern[i];
    let repeats: boolean;
    let wide: boolean;
    if (c === "*" || c === "+") {
      i++;
      repeats = wide = true;
    } else if (c === "?") {
      i++;
      repeats = wide = false;
    } else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
      repeats = max > 1;
      wide = max - min > 10;
    } else return undefined;
    if (pattern[i] === "?") i++; // lazy
    return { repeats, open: wide };
  };
  const afterAtom = (closedGroup?: { risky: boolean }) => {
    const q = quantifier();
    if (!q) return;
    if (q.open && ++open > TEMPLATE_LIMITS.patternOpenQuantifiers) {
      throw bad(`${field} has more than ${TEMPLATE_LIMITS.patternOpenQuantifiers} open-ended quantifiers`, field);
    }
    if (closedGroup?.risky && q.repeats) {
      throw bad(`${field} repeats a group that holds a quantifier or an alternation, which can take exponential time`, field);
    }
    groups[groups.length - 1]!.risky = true;
  };
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "\\") {
      const next = pattern[i + 1] ?? "";
      if (/[1-9k]/.test(next)) throw bad(`${field} must not use backreferences`, field);
      i += 2;
      // \u{…}, \uXXXX, \xXX, \p{…}: skip the rest of the escape.
      const rest = /^(\{[^}]*\}|[0-9a-fA-F]{2,4})/.exec(pattern.slice(i));
      if (/[uxpP]/.test(next) && rest) i += rest[0].length;
      afterAtom();
    } else if (c === "[") {
      i++;
      while (i < pattern.length && pattern[i] !== "]") i += pattern[i] === "\\" ? 2 : 1;
      i++;
      afterAtom();
    } else if (c === "(") {
      if (/^\(\?(=|!|<=|<!)/.test(pattern.slice(i))) throw bad(`${field} must not use lookarounds`, field);
      const named = /^\(\?(:|<[A-Za-z_$][\w$]*>)/.exec(pattern.slice(i));
      i += named ? named[0].length : 1;
      groups.push({ risky: false });
    } else if (c === ")") {
      i++;
      const closed = groups.pop()!;
      afterAtom(closed);
      if (closed.risky) groups[groups.length - 1]!.risky = true;
    } else if (c === "|") {
      // `^a|b$` anchors each alternative at one end only.
      if (groups.length === 1) throw bad(`${field} must group its alternatives inside the anchors: ^(?:a|b)$`, field);
      i++;
      groups[groups.length - 1]!.risky = true;
    } else {
      i++;
      if (c !== "^" && c !== "$") afterAtom();
    }
  }
  return regex;
}

/** Validates a template's field definitions: at least one, at most TEMPLATE_LIMITS.fields. */
export function parseTemplateFields(raw: RawTemplateField[]): TemplateField[] {
  if (!Array.isArray(raw)) throw bad("fields must be a list", "fields");
  if (!raw.length || raw.length > TEMPLATE_LIMITS.fields) throw bad(`fields must hold 1 to ${TEMPLATE_LIMITS.fields} definitions`, "fields");
  const keys = new Set<string>();
  const labels = new Set<string>();
  return raw.map((f, i) => {
    const at = `fields[${i}]`;
    const key = typeof f.key === "string" ? f.key.trim() : "";
    if (!new RegExp(`^[A-Za-z][A-Za-z0-9_]{0,${TEMPLATE_LIMITS.key - 1}}$`).test(key)) {
      throw bad(`${at}.key must start with a letter and hold only letters, digits and _ (at most ${TEMPLATE_LIMITS.key})`, `${at}.key`);
    }
    if (keys.has(key.toLowerCase())) throw bad(`${at}.key repeats the key ${key}`, `${at}.key`);
    keys.add(key.toLowerCase());
    const label = cleanText(f.label, `${at}.label`, TEMPLATE_LIMITS.label);
    if (labels.has(label.toLowerCase())) throw bad(`${at}.label repeats the label ${label}`, `${at}.label`);
    labels.add(label.toLowerCase());
    if (!TEMPLATE_FIELD_TYPES.includes(f.type as TemplateFieldType)) {
      throw bad(`${at}.type must be one of ${TEMPLATE_FIELD_TYPES.join(", ")}`, `${at}.type`);
    }
    const type = f.type as TemplateFieldType;
    const field: TemplateField = { key, label, type, required: f.required === true, shown: f.shown !== false };
    // A personal value is withheld as a salted commitment among the attributes; `data` has no such form.
    if (f.personal === true) {
      if (!field.shown) throw bad(`${at}.personal needs shown: a personal field is kept out of the document's data`, `${at}.personal`);
      field.personal = true;
    }
    if (f.enumValues != null) {
      if (type !== "ENUM") throw bad(`${at}.enumValues is only for ENUM fields`, `${at}.enumValues`);
    }
    if (type === "ENUM") {
      const values = f.enumValues ?? [];
      if (!values.length || values.length > TEMPLATE_LIMITS.enumValues) {
        throw bad(`${at}.enumValues must hold 1 to ${TEMPLATE_LIMITS.enumValues} values`, `${at}.enumValues`);
      }
      const cleaned = values.map((v, j) => cleanText(v, `${at}.enumValues[${j}]`, TEMPLATE_LIMITS.enumValue));
      if (new Set(cleaned).size !== cleaned.length) throw bad(`${at}.enumValues must not repeat a value`, `${at}.enumValues`);
      field.enumValues = cleaned;
    }
    if (f.pattern != null) {
      if (type !== "TEXT") throw bad(`${at}.pattern is only for TEXT fields`, `${at}.pattern`);
      compileSafePattern(f.pattern, `${at}.pattern`);
      field.pattern = f.pattern;
    }
    if (f.maxLength != null) {
      if (type !== "TEXT") throw bad(`${at}.maxLength is only for TEXT fields`, `${at}.maxLength`);
      const cap = field.pattern ? TEMPLATE_LIMITS.patternText : TEMPLATE_LIMITS.text;
      if (!Number.isInteger(f.maxLength) || f.maxLength < 1 || f.maxLength > cap) {
        throw bad(`${at}.maxLength must be from 1 to ${cap}${field.pattern ? " for a field with a pattern" : ""}`, `${at}.maxLength`);
      }
      field.maxLength = f.maxLength;
    } else if (type === "TEXT") {
      field.maxLength = field.pattern ? TEMPLATE_LIMITS.patternText : TEMPLATE_LIMITS.text;
    }
    return field;
  });
}

function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

const patterns = new Map<string, RegExp>();

/** One value checked against its definition: the value as stored, typed. */
function templateValue(def: TemplateField, value: unknown, field: string): string | number | boolean {
  switch (def.type) {
    case "TEXT": {
      if (typeof value !== "string") throw bad(`${field} must be a string`, field);
      const v = value.normalize("NFC").trim();
      const max = def.maxLength ?? TEMPLATE_LIMITS.text;
      if (v.length > max) throw bad(`${field} is longer than ${max} characters`, field);
      if (CONTROL.test(v)) throw bad(`${field} contains control characters`, field);
      if (def.pattern) {
        let regex = patterns.get(def.pattern);
        if (!regex) patterns.set(def.pattern, (regex = new RegExp(def.pattern, "u")));
        if (!regex.test(v)) throw bad(`${field} does not match the pattern ${def.pattern}`, field);
      }
      return v;
    }
    case "NUMBER":
      if (typeof value !== "number" || !Number.isFinite(value)) throw bad(`${field} must be a number`, field);
      return value;
    case "DATE":
      if (typeof value !== "string" || !isCalendarDate(value)) throw bad(`${field} must be a date (YYYY-MM-DD)`, field);
      return value;
    case "BOOLEAN":
      if (typeof value !== "boolean") throw bad(`${field} must be true or false`, field);
      return value;
    case "ENUM":
      if (typeof value !== "string" || !def.enumValues?.includes(value)) {
        throw bad(`${field} must be one of ${(def.enumValues ?? []).join(", ")}`, field);
      }
      return value;
  }
}

/**
 * Checks an issuance's `fields` (key → value) against the collection's template and puts the values in the
 * certificate: shown fields as attributes under their labels, the others in `data` under their keys. Errors name
 * the template key as `fields.<key>`. Without a template, `fields` must be absent and the certificate is unchanged.
 */
export function applyTemplate(template: TemplateField[] | null, values: unknown, certificate: CertificateFields): CertificateFields {
  if (!template?.length) {
    if (values != null) throw bad("this collection has no template, so fields cannot be given", "fields");
    return certificate;
  }
  if (values != null && (typeof values !== "object" || Array.isArray(values))) throw bad("fields must be a JSON object", "fields");
  const given = (values ?? {}) as Record<string, unknown>;
  const defs = new Map(template.map((d) => [d.key, d]));
  for (const key of Object.keys(given)) {
    if (!defs.has(key)) {
      const name = key.length > 64 ? `${key.slice(0, 64)}…` : key;
      throw bad(`fields.${name} is not a field of this collection's template`, `fields.${name}`);
    }
  }
  const attributes = [...(certificate.attributes ?? [])];
  const data: Record<string, unknown> = { ...(certificate.data ?? {}) };
  for (const def of template) {
    const field = `fields.${def.key}`;
    const raw = given[def.key];
    if (raw == null || (typeof raw === "string" && !raw.trim())) {
      if (def.required) throw bad(`${field} is required`, field);
      continue;
    }
    const value = templateValue(def, raw, field);
    if (def.shown) {
      attributes.push({ name: def.label, value: String(value) });
    } else {
      if (Object.hasOwn(data, def.key)) throw bad(`data.${def.key} is also a field of the template; give it in fields only`, "data");
      data[def.key] = value;
    }
  }
  if (Buffer.byteLength(JSON.stringify(data)) > LIMITS.dataBytes) {
    throw bad(`data (with the template's fields) is larger than ${LIMITS.dataBytes} bytes`, "data");
  }
  return {
    ...certificate,
    ...(attributes.length ? { attributes } : {}),
    ...(Object.keys(data).length ? { data } : {}),
  };
}

/** The collection's template now (its highest version), or null when it has none (an empty version counts as none). */
export async function currentTemplate(db: Database, collectionId: string): Promise<CollectionTemplate | null> {
  const [row] = await db
    .select()
    .from(collectionTemplates)
    .where(eq(collectionTemplates.collectionId, collectionId))
    .orderBy(desc(collectionTemplates.version))
    .limit(1);
  return row && row.fields.length ? row : null;
}

/**
 * Sets a collection's template as a new version. The same idempotency key with the same
 * request returns the version it made; with a different request it is refused.
 */
export async function setCollectionTemplate(
  db: Database,
  institutionId: string,
  input: { collectionId: string; fields: RawTemplateField[]; idempotencyKey: string },
): Promise<{ template: CollectionTemplate; created: boolean }> {
  // Ownership first: another institution's collection is NOT_FOUND whatever else is wrong.
  const collection = await ownedCollection(db, institutionId, input.collectionId);
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  const fields = parseTemplateFields(input.fields);
  const hash = requestHash({ collectionId: collection.id, fields });
  const earlier = async () =>
    (
      await db
        .select()
        .from(collectionTemplates)
        .where(and(eq(collectionTemplates.institutionId, institutionId), eq(collectionTemplates.idempotencyKey, idempotencyKey)))
    )[0];
  const seen = await earlier();
  if (!seen) {
    const [created] = await db
      .insert(collectionTemplates)
      .values({
        institutionId,
        collectionId: collection.id,
        version: sql`(select coalesce(max(${collectionTemplates.version}), 0) + 1 from ${collectionTemplates} where ${collectionTemplates.collectionId} = ${collection.id})`,
        fields,
        idempotencyKey,
        requestHash: hash,
      })
      .onConflictDoNothing()
      .returning();
    if (created) return { template: created, created: true };
  }
  const previous = seen ?? (await earlier());
  if (!previous) throw new OperationError("CONFLICT", "the template was changed at the same time; send the request again", "collectionId");
  assertSameRequest(previous.requestHash, hash);
  return { template: previous, created: false };
}
