import type { Request, Response } from "express";
import { LOCALE_NAMES, LOCALES, matchLocale, negotiateLocale, type Locale } from "../../core/i18n/locales.ts";
import { pickLanguage, type Localizable } from "../../core/i18n/language-map.ts";
import { translator, type MessageKey, type MessageValues, type Translator } from "../../core/i18n/translator.ts";
import { readCookie } from "../auth/holder-auth.ts";
import { escapeHtml, Html, html, raw } from "./html.ts";

/** Remembers a language chosen by a `?lang=` link or the switcher, so the next page need not repeat it. */
export const LANGUAGE_COOKIE = "hallmark_lang";
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

/** Who is reading a page: their language, and the address of the page they read (for the language switcher). */
export interface Reader extends Translator {
  /** The page's path and query, to link the same page in another language. */
  readonly path: string;
}

/**
 * The reader of this request. The answer depends on the request's language headers and cookie, which shared
 * caches must know (`Vary`), and says its language (`Content-Language`).
 */
export function readerOf(req: Request, res: Response): Reader {
  const query = typeof req.query.lang === "string" ? req.query.lang : undefined;
  const chosen = matchLocale(query);
  const locale = negotiateLocale({ query, remembered: readCookie(req.headers.cookie, LANGUAGE_COOKIE), acceptLanguage: req.headers["accept-language"] });
  if (chosen) res.cookie(LANGUAGE_COOKIE, chosen, { maxAge: ONE_YEAR_MS, sameSite: "lax", httpOnly: true, secure: req.secure, path: "/" });
  res.vary("Accept-Language");
  res.vary("Cookie");
  res.setHeader("Content-Language", locale);
  return { ...translator(locale), path: req.originalUrl };
}

/** A reader with no request (e-mails, tests of a page's markup). */
export function readerFor(locale: Locale, path = "/"): Reader {
  return { ...translator(locale), path };
}

/** Tags a message may carry, and the markup they stand for; anything else in a message is text. */
const TAGS: Record<string, (chunks: string[]) => string> = {
  strong: (c) => `<strong>${c.join("")}</strong>`,
  em: (c) => `<em>${c.join("")}</em>`,
  code: (c) => `<code>${c.join("")}</code>`,
  // Addresses, digests and other machine strings, set in a monospace face.
  mono: (c) => `<span class="mono">${c.join("")}</span>`,
  // Words for screen readers only: where a sighted reader sees the context, e.g. which item a "Print" button prints.
  hidden: (c) => `<span class="visually-hidden">${c.join("")}</span>`,
};

/**
 * A message as markup: every value is escaped (certificates carry what strangers typed), the message's own tags
 * become markup, and a value that is `Html` (a link the caller built) goes in as it is.
 */
export function tHtml(reader: Translator, key: MessageKey, values: Record<string, string | number | Date | Html | ((chunks: string[]) => string)> = {}): Html {
  const safe: MessageValues = { ...TAGS };
  for (const [name, value] of Object.entries(values)) {
    safe[name] = value instanceof Html ? value.value : typeof value === "string" ? escapeHtml(value) : value;
  }
  return raw(reader.t(key, safe));
}

/** The same page in the other languages: plain links (`?lang=`), so it works without script and can be shared. */
export function languageSwitcher(reader: Reader): Html {
  const url = new URL(reader.path, "http://page.invalid");
  const links = LOCALES.map((locale) => {
    url.searchParams.set("lang", locale);
    const href = `${url.pathname}${url.search}${url.hash}`;
    return locale === reader.locale
      ? html`<span lang="${locale}" aria-current="true">${LOCALE_NAMES[locale]}</span>`
      : html`<a lang="${locale}" hreflang="${locale}" href="${href}">${LOCALE_NAMES[locale]}</a>`;
  });
  return html`<nav class="languages" aria-label="${reader.t("layout.language")}">${links.map((l, i) => (i ? [raw(" · "), l] : l))}</nav>`;
}

/**
 * Content an institution wrote (a title, a description), in the reader's language when it was written in it, else
 * the fallback `pickLanguage` chooses, marked with its own `lang` so screen readers and fonts follow it.
 */
export function localized(reader: Reader, value: Localizable): Html {
  const { text, lang } = pickLanguage(value, reader.locale);
  return lang && matchLocale(lang) !== reader.locale ? html`<span lang="${lang}">${text}</span>` : html`${text}`;
}

/** The same content as plain text (a page title, an attribute value). */
export function localizedText(reader: Translator, value: Localizable): string {
  return pickLanguage(value, reader.locale).text;
}
