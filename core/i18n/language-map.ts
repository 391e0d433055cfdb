import { DEFAULT_LOCALE, LOCALES, matchLocale, type Locale } from "./locales.ts";

/**
 * Content an institution wrote in several languages: `{ "zh-CN": "计算机科学学士", "en": "BSc Computer Science" }`.
 * Keys are BCP 47 tags; a plain string is content in one unstated language.
 */
export type LanguageMap = Record<string, string>;
export type Localizable = string | LanguageMap;

export function isLanguageMap(value: unknown): value is LanguageMap {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length > 0 &&
    Object.entries(value).every(([tag, text]) => /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(tag) && typeof text === "string")
  );
}

/**
 * The text to show a reader of `locale`: their language, else the same language in another region or script
 * (`zh` for `zh-CN`), else the default language, else the first one written. The tag says what was chosen, so a
 * page can mark a fallback with `lang`.
 */
export function pickLanguage(value: Localizable, locale: Locale): { text: string; lang: string | undefined } {
  if (typeof value === "string") return { text: value, lang: undefined };
  const entries = Object.entries(value);
  const exact = entries.find(([tag]) => tag.toLowerCase() === locale.toLowerCase());
  const sameLanguage = entries.find(([tag]) => matchLocale(tag) === locale);
  const fallback = entries.find(([tag]) => matchLocale(tag) === DEFAULT_LOCALE);
  const [lang, text] = exact ?? sameLanguage ?? fallback ?? entries[0]!;
  return { text, lang };
}

/** Every language the content is written in, supported ones first (for credentials and IIIF, which carry them all). */
export function languagesOf(value: Localizable): [lang: string | undefined, text: string][] {
  if (typeof value === "string") return [[undefined, value]];
  const rank = (tag: string) => {
    const i = LOCALES.indexOf(matchLocale(tag) as Locale);
    return i === -1 ? LOCALES.length : i;
  };
  return Object.entries(value).sort(([a], [b]) => rank(a) - rank(b));
}

/** A JSON-LD language-tagged string (W3C VC Data Model 2.0, "Language and Base Direction"). */
export interface LanguageValue {
  "@value": string;
  "@language": string;
}

/**
 * Content as a credential carries it: a plain string as it is, a language map as an array of `@value`/`@language`
 * objects (supported languages first), which JSON-LD processors and W3C verifiers read as language-tagged strings.
 */
export function toLanguageValues(value: Localizable): string | LanguageValue[] {
  if (typeof value === "string") return value;
  return languagesOf(value).map(([lang, text]) => ({ "@value": text, "@language": lang! }));
}

/** Whether a credential's value (a string, or `@value`/`@language` objects) states exactly this content. */
export function statesContent(carried: unknown, value: Localizable): boolean {
  if (typeof value === "string") return carried === value;
  const expected = toLanguageValues(value) as LanguageValue[];
  const list = Array.isArray(carried) ? carried : [carried];
  return (
    list.length === expected.length &&
    expected.every((e, i) => {
      const c = list[i] as Partial<LanguageValue> | undefined;
      return c?.["@value"] === e["@value"] && c?.["@language"] === e["@language"] && Object.keys(c).length === 2;
    })
  );
}
