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
