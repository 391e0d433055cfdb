/**
 * The languages a person may read Hallmark in. Simplified Chinese serves the pilot; English everyone else.
 * Every other Chinese tag falls back to zh-CN (a Traditional-script reader still reads it far better than English).
 */
export const LOCALES = ["en", "zh-CN"] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = "en";

/** The name of each language in itself, for the switcher. */
export const LOCALE_NAMES: Record<Locale, string> = { en: "English", "zh-CN": "简体中文" };

/** The supported locale a BCP 47 tag (`zh`, `zh-Hans-CN`, `en-GB`, POSIX `zh_CN.UTF-8`) asks for, if any. */
export function matchLocale(tag: string | null | undefined): Locale | undefined {
  if (!tag) return undefined;
  const primary = tag.trim().split(/[-_.@]/)[0]!.toLowerCase();
  if (primary === "zh") return "zh-CN";
  if (primary === "en") return "en";
  return undefined;
}

/** Accept-Language ranges best first (RFC 9110 §12.5.4); a range with q=0 is refused, not wanted. */
export function acceptedLanguages(header: string | null | undefined): string[] {
  if (!header) return [];
  return header
    .split(",")
    .map((part, index) => {
      const [range, ...params] = part.trim().split(";");
      const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
      const quality = q ? Number(q.slice(2)) : 1;
      return { range: range!.trim(), quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((r) => r.range && r.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index)
    .map((r) => r.range);
}

/**
 * The reader's language: an explicit choice (a `?lang=` link, then the remembered choice) wins over what the
 * browser says; a `*` or unknown language gets the default.
 */
export function negotiateLocale(opts: { query?: string | null; remembered?: string | null; acceptLanguage?: string | null }): Locale {
  return (
    matchLocale(opts.query) ??
    matchLocale(opts.remembered) ??
    acceptedLanguages(opts.acceptLanguage)
      .map(matchLocale)
      .find((l) => l !== undefined) ??
    DEFAULT_LOCALE
  );
}

/** The CLI's language: HALLMARK_LANG, then the POSIX locale variables in their order of precedence. */
export function cliLocale(env: NodeJS.ProcessEnv = process.env): Locale {
  for (const name of ["HALLMARK_LANG", "LC_ALL", "LC_MESSAGES", "LANG"]) {
    const value = env[name];
    if (!value) continue;
    // A set LC_ALL decides even when it names a language Hallmark lacks ("C" means the default).
    return matchLocale(value) ?? DEFAULT_LOCALE;
  }
  return DEFAULT_LOCALE;
}
