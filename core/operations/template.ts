import { RE2JS, RE2JSException } from "re2js";
import { and, desc, eq, sql } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { collectionTemplates, TEMPLATE_FIELD_TYPES, type TemplateField, type TemplateFieldType } from "../db/schema.ts";
import type { CertificateFields } from "../metadata/certificate.ts";
import { OperationError } from "./errors.ts";
import { ownedCollection } from "./collections.ts";
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
  /** A TEXT field with a pattern: values at most this long (matching is linear in it). */
  patternText: 256,
  pattern: 200,
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
 * A tenant's pattern, compiled for RE2 (re2js): matching runs in time linear in the value whatever the pattern, so
 * no pattern can stall the shared event loop (a backtracking engine takes exponential time on `^(a+)+$` and
 * seconds on a row of `a{0,9}`). Patterns are written in JavaScript syntax (`\u00e9`, `(?<name>…)` are translated);
 * what RE2 cannot express in linear time (backreferences, lookarounds) is refused.
 */
export type TemplatePattern = RE2JS;

/**
 * What a (syntactically valid) pattern uses that is refused, read outside character classes: backreferences and
 * lookarounds (RE2 has neither; translation would even turn `\k<name>` into a literal), and an alternation outside
 * every group (`^a|b$` anchors each alternative at one end only).
 */
function unsupported(pattern: string): string | undefined {
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      if (/[1-9k]/.test(pattern[++i] ?? "")) return "must not use backreferences";
    } else if (c === "[") {
      for (i++; i < pattern.length && pattern[i] !== "]"; i++) if (pattern[i] === "\\") i++;
    } else if (c === "(") {
      if (/^\(\?<?[=!]/.test(pattern.slice(i, i + 4))) return "must not use lookarounds";
      depth++;
    } else if (c === ")") depth--;
    else if (c === "|" && depth === 0) return "must group its alternatives inside the anchors: ^(?:a|b)$";
  }
  return undefined;
}

/** Compiled patterns by source; bounded because every tenant can store its own. */
const compiled = new Map<string, TemplatePattern>();
const COMPILED_CACHE = 1000;

/**
 * Checks a pattern (anchored, at most TEMPLATE_LIMITS.pattern characters, valid, expressible in RE2) and returns it
 * compiled; errors are BAD_USER_INPUT on `field`. The result is cached by pattern.
 */
export function compileSafePattern(pattern: string, field: string): TemplatePattern {
  const hit = compiled.get(pattern);
  if (hit) return hit;
  if (pattern.length > TEMPLATE_LIMITS.pattern) throw bad(`${field} is longer than ${TEMPLATE_LIMITS.pattern} characters`, field);
  if (!pattern.startsWith("^") || !pattern.endsWith("$") || /(^|[^\\])(\\\\)*\\\$$/.test(pattern)) {
    throw bad(`${field} must be anchored: start with ^ and end with $`, field);
  }
  // The JavaScript parser only checks the syntax the pattern is documented in; it never runs the pattern.
  try {
    new RegExp(pattern, "u");
  } catch {
    throw bad(`${field} is not a valid regular expression`, field);
  }
  const refused = unsupported(pattern);
  if (refused) throw bad(`${field} ${refused}`, field);
  let regex: TemplatePattern;
  try {
    regex = RE2JS.compile(RE2JS.translateRegExp(pattern));
  } catch (e) {
    const reason = e instanceof RE2JSException ? `: ${e.message.replace(/^error parsing regexp: /, "")}` : "";
    throw bad(`${field} uses syntax the linear-time (RE2) engine does not support${reason}`, field);
  }
  if (compiled.size >= COMPILED_CACHE) compiled.delete(compiled.keys().next().value!);
  compiled.set(pattern, regex);
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
        if (!compileSafePattern(def.pattern, field).test(v)) throw bad(`${field} does not match the pattern ${def.pattern}`, field);
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
