import { parse, TYPE, type MessageFormatElement } from "@formatjs/icu-messageformat-parser";
import { describe, expect, it } from "vitest";
import { cliLocale, LOCALES, negotiateLocale } from "../../../core/i18n/locales.ts";
import { languagesOf, pickLanguage } from "../../../core/i18n/language-map.ts";
import { CATALOGUES, translator } from "../../../core/i18n/translator.ts";
import { raw } from "../../../server/pages/html.ts";
import { readerFor, tHtml } from "../../../server/pages/reader.ts";

/** The placeholders and tags a message uses: a translation must use exactly the same ones. */
function slots(elements: MessageFormatElement[], into = new Set<string>()): Set<string> {
  for (const el of elements) {
    if (el.type === TYPE.tag) {
      into.add(`<${el.value}>`);
      slots(el.children, into);
    } else if (el.type === TYPE.plural || el.type === TYPE.select) {
      into.add(`{${el.value}}`);
      for (const option of Object.values(el.options)) slots(option.value, into);
    } else if (el.type !== TYPE.literal && el.type !== TYPE.pound && "value" in el) into.add(`{${el.value}}`);
  }
  return into;
}

describe("message catalogues", () => {
  const en = CATALOGUES.en;

  it.each(LOCALES.filter((l) => l !== "en"))("%s has every English key, no other key, and no empty message", (locale) => {
    const catalogue = CATALOGUES[locale];
    expect(Object.keys(catalogue).sort()).toEqual(Object.keys(en).sort());
    expect(Object.entries(catalogue).filter(([, text]) => !text.trim())).toEqual([]);
  });

  it.each(LOCALES)("every %s message parses and uses the English message's placeholders and tags", (locale) => {
    const wrong: string[] = [];
    for (const [key, text] of Object.entries(CATALOGUES[locale])) {
      const expected = [...slots(parse(en[key as keyof typeof en]))].sort();
      const actual = [...slots(parse(text))].sort();
      if (JSON.stringify(actual) !== JSON.stringify(expected)) wrong.push(`${key}: ${actual.join(" ")} ≠ ${expected.join(" ")}`);
      // Messages are emitted into HTML as written: an ampersand would start an entity.
      if (/&(?![a-z]+;)/.test(text)) wrong.push(`${key}: bare "&"`);
    }
    expect(wrong).toEqual([]);
  });

  it("zh-CN translates every message with words in it (only names and formats may read the same)", () => {
    const same = Object.entries(CATALOGUES["zh-CN"]).filter(([key, text]) => text === en[key as keyof typeof en] && /[A-Za-z]{3,}/.test(text.replace(/\{[^}]*\}/g, "")));
    expect(same.map(([key]) => key)).toEqual(["layout.brand", "layout.pageTitle"]);
  });

  it("dates and numbers follow the reader's language", () => {
    const day = new Date("2026-07-01T08:00:00Z");
    expect(translator("en").date(day)).toBe("July 1, 2026");
    expect(translator("zh-CN").date(day)).toBe("2026年7月1日");
    expect(translator("en").number(100000)).toBe("100,000");
    expect(translator("zh-CN").number(100000)).toBe("100,000");
  });

  it("markup in a message stays markup; values are escaped unless the caller made them markup", () => {
    const out = tHtml(readerFor("en"), "layout.skip");
    expect(out.value).toBe("Skip to content");
    // A value with markup characters is text, however the message places it.
    expect(tHtml(readerFor("zh-CN"), "layout.brand", { ignored: "<script>" }).value).toBe("Hallmark");
    expect(raw("<b>").value).toBe("<b>");
  });
});

describe("choosing the reader's language", () => {
  it("a ?lang= link, then the remembered choice, then Accept-Language by quality, then English", () => {
    expect(negotiateLocale({ query: "zh-CN", remembered: "en", acceptLanguage: "en" })).toBe("zh-CN");
    expect(negotiateLocale({ query: "fr", remembered: "zh", acceptLanguage: "en" })).toBe("zh-CN");
    expect(negotiateLocale({ acceptLanguage: "fr-FR, en;q=0.5, zh-Hans-CN;q=0.8" })).toBe("zh-CN");
    expect(negotiateLocale({ acceptLanguage: "zh;q=0, en-GB" })).toBe("en");
    expect(negotiateLocale({ acceptLanguage: "*" })).toBe("en");
    expect(negotiateLocale({})).toBe("en");
  });

  it("the CLI reads HALLMARK_LANG, then LC_ALL, LC_MESSAGES and LANG", () => {
    expect(cliLocale({ LANG: "zh_CN.UTF-8" })).toBe("zh-CN");
    expect(cliLocale({ LC_ALL: "C", LANG: "zh_CN.UTF-8" })).toBe("en");
    expect(cliLocale({ HALLMARK_LANG: "zh-CN", LC_ALL: "en_US.UTF-8" })).toBe("zh-CN");
    expect(cliLocale({})).toBe("en");
  });
});

describe("content written in several languages", () => {
  const title = { en: "BSc Computer Science", "zh-CN": "计算机科学学士" };

  it("shows the reader's language, else the same language elsewhere, else English, else the first", () => {
    expect(pickLanguage(title, "zh-CN")).toEqual({ text: "计算机科学学士", lang: "zh-CN" });
    expect(pickLanguage({ zh: "学士", en: "Bachelor" }, "zh-CN")).toEqual({ text: "学士", lang: "zh" });
    expect(pickLanguage({ en: "Bachelor", fr: "Licence" }, "zh-CN")).toEqual({ text: "Bachelor", lang: "en" });
    expect(pickLanguage({ fr: "Licence" }, "en")).toEqual({ text: "Licence", lang: "fr" });
    expect(pickLanguage("Plain", "zh-CN")).toEqual({ text: "Plain", lang: undefined });
    expect(languagesOf({ fr: "Licence", "zh-CN": "学士", en: "Bachelor" }).map(([l]) => l)).toEqual(["en", "zh-CN", "fr"]);
  });
});
