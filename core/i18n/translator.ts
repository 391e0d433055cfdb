import { IntlMessageFormat } from "intl-messageformat";
import { en, type Catalogue, type MessageKey } from "./catalogues/en.ts";
import { zhCN } from "./catalogues/zh-CN.ts";
import { cliLocale, DEFAULT_LOCALE, type Locale } from "./locales.ts";

export type { MessageKey } from "./catalogues/en.ts";

export const CATALOGUES: Record<Locale, Catalogue> = { en, "zh-CN": zhCN };

export type MessageValues = Record<string, string | number | Date | ((chunks: string[]) => string)>;

export interface Translator {
  readonly locale: Locale;
  /** One whole message with its values; plurals and genders are the catalogue's business, not the caller's. */
  t(key: MessageKey, values?: MessageValues): string;
  /** A date (and, with `time`, the time) as readers of this language write it; UTC unless a zone is given. */
  date(value: Date | string | number, opts?: { time?: boolean; timeZone?: string }): string;

  number(value: number | bigint): string;
}

const compiled = new Map<string, IntlMessageFormat>();

function format(locale: Locale, key: MessageKey): IntlMessageFormat {
  const id = `${locale}\u0000${key}`;
  let message = compiled.get(id);
  if (!message) {
    // An empty translation falls back to English rather than showing nothing.
    const source = CATALOGUES[locale][key] || CATALOGUES[DEFAULT_LOCALE][key];
    message = new IntlMessageFormat(source, locale, undefined, { ignoreTag: false });
    compiled.set(id, message);
  }
  return message;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();
const numberFormats = new Map<Locale, Intl.NumberFormat>();

export function translator(locale: Locale): Translator {
  return {
    locale,
    t(key, values) {
      const out = format(locale, key).format(values);
      return Array.isArray(out) ? out.join("") : String(out);
    },
    date(value, opts = {}) {
      const timeZone = opts.timeZone ?? "UTC";
      const id = `${locale}|${opts.time ? 1 : 0}|${timeZone}`;
      let f = dateFormats.get(id);
      if (!f) {
        // With the time, its zone too: a reader elsewhere must not take UTC for their own time.
        f = new Intl.DateTimeFormat(locale, opts.time ? { year: "numeric", month: "long", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short", timeZone } : { dateStyle: "long", timeZone });
        dateFormats.set(id, f);
      }
      return f.format(value instanceof Date ? value : new Date(value));
    },
    number(value) {
      let f = numberFormats.get(locale);
      if (!f) {
        f = new Intl.NumberFormat(locale);
        numberFormats.set(locale, f);
      }
      return f.format(value);
    },
  };
}

/** The command line's translator: the language of HALLMARK_LANG, LC_ALL, LC_MESSAGES or LANG. */
export function cliTranslator(env: NodeJS.ProcessEnv = process.env): Translator {
  return translator(cliLocale(env));
}
