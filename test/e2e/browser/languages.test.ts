import { Wallet } from "ethers";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CATALOGUES } from "../../../core/i18n/translator.ts";
import { LOCALES, type Locale } from "../../../core/i18n/locales.ts";
import { createTestEdition, type TestEdition } from "../../support/editions.ts";
import { startTestStack } from "../../support/stack.ts";
import { issueCertificate, type IssuedCertificate } from "../../core/verification/certificates.ts";
import { artifactPath, launchChromium } from "./browser.ts";

const TITLE = { "zh-CN": "计算机科学学士", en: "BSc Computer Science" };

/** Whole English messages without placeholders or markup: what a missing translation would show verbatim. */
const zhValues = new Set(Object.values(CATALOGUES["zh-CN"]));
const ENGLISH_SENTENCES = Object.values(CATALOGUES.en).filter((m) => m.length > 12 && !/[{<]/.test(m) && !zhValues.has(m));

/**
 * Every page in both languages as a browser shows it, and the printable certificate's Chinese drawn with real glyphs:
 * Chromium reports (over CDP) the platform fonts it drew a node's text with, so a title drawn as empty boxes, or in a
 * font without Chinese, fails. Screenshots of the print page in each language go to test-results/.
 */
describe("pages in Chinese and English, in a browser", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let browser: Browser;
  let baseUrl: string;
  let certificate: IssuedCertificate;
  let edition: TestEdition;
  const contexts: BrowserContext[] = [];

  /** A browser whose language is `locale` (its Accept-Language and navigator.language). */
  const pageIn = async (locale: Locale): Promise<Page> => {
    const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    return context.newPage();
  };

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchChromium()]);
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    [certificate, edition] = await Promise.all([
      issueCertificate(stack, {
        recipient: Wallet.createRandom().address,
        title: TITLE,
        description: { "zh-CN": "授予在计算机科学专业完成全部学业的学生。", en: "Awarded for completing the full course in computer science." },
        attributes: [{ name: "Honours", value: "First class" }],
        validUntil: "2031-07-01T00:00:00Z",
      }),
      createTestEdition(stack, {
        name: "Harbour Lights",
        maxSupply: 10,
        holders: [Wallet.createRandom().address],
        images: [{ label: "A lighthouse lens", width: 64, height: 48 }],
        languages: { name: { "zh-CN": "港湾灯火", en: "Harbour Lights" }, story: { "zh-CN": "灯塔守护着港湾一百年。", en: "The lighthouse has kept the harbour for a century." } },
        dublinCore: { language: "en" },
      }),
    ]);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await stack?.cleanup();
  });

  it.each(LOCALES)("prints the certificate in %s, its title drawn in a font that has its glyphs", async (locale) => {
    const page = await pageIn(locale);
    const res = await page.goto(`${baseUrl}/certificates/${certificate.id}/print`);
    expect(res?.status()).toBe(200);
    expect(await page.getAttribute("html", "lang")).toBe(locale);
    const title = page.locator("#certificate-title");
    expect(await title.innerText()).toBe(TITLE[locale]);
    await page.evaluate(() => document.fonts.ready);

    const cdp = await page.context().newCDPSession(page);
    await cdp.send("DOM.enable");
    await cdp.send("CSS.enable");
    const { root } = await cdp.send("DOM.getDocument", { depth: -1 });
    const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector: "#certificate-title" });
    const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
    if (locale === "zh-CN") {
      expect(fonts.reduce((n, f) => n + f.glyphCount, 0)).toBe([...TITLE["zh-CN"]].length);
      // Every Chinese glyph from Noto CJK (fonts-noto-cjk), none left to a font without them.
      expect(fonts.map((f) => f.familyName)).toEqual([expect.stringMatching(/^Noto (Serif|Sans) CJK/)]);
    } else {
      expect(fonts.some((f) => /CJK/.test(f.familyName))).toBe(false);
    }

    // The text's box is as wide as its glyphs: seven ideographs at the title's size are each about 1em wide.
    const box = await title.evaluate((el) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      const rect = range.getBoundingClientRect();
      return { width: rect.width, size: parseFloat(getComputedStyle(el).fontSize) };
    });
    if (locale === "zh-CN") expect(box.width / box.size).toBeGreaterThan(6.5);

    const shot = await page.screenshot({ path: artifactPath(`print-${locale}.png`), fullPage: true });
    const png = PNG.sync.read(shot);
    expect(png.width).toBeGreaterThan(800);
  });

  const pages = () => [
    { name: "lookup", path: "/verify", zh: "核验证书" },
    { name: "verify", path: `/verify/${certificate.id}`, zh: "证书有效" },
    { name: "print", path: `/certificates/${certificate.id}/print`, zh: "颁发日期" },
    { name: "not found", path: "/verify/00000000-0000-4000-8000-000000000000", zh: "查无此证书" },
    { name: "holder sign-in", path: "/holder", zh: "使用以太坊登录" },
    { name: "gallery", path: `/gallery/${edition.contract}/${edition.editionId}`, zh: "博物馆展厅" },
    { name: "gallery problem", path: "/gallery/0x12/1", zh: "不是有效的展厅地址" },
  ];

  it("shows every page in both languages: its lang attribute, the switcher, its words, and no English left in Chinese", async () => {
    for (const locale of LOCALES) {
      const page = await pageIn(locale);
      for (const p of pages()) {
        await page.goto(`${baseUrl}${p.path}`);
        expect(await page.getAttribute("html", "lang"), p.name).toBe(locale);
        const switcher = page.locator("nav.languages");
        expect(await switcher.count(), p.name).toBe(1);
        expect(await switcher.locator('[aria-current="true"]').getAttribute("lang"), p.name).toBe(locale);
        const text = await page.locator("body").innerText();
        if (locale === "zh-CN") {
          expect(text, p.name).toContain(p.zh);
          // Core's English reasons are inside closed <details>, not part of the visible text.
          expect(ENGLISH_SENTENCES.filter((m) => text.includes(m)), p.name).toEqual([]);
        } else {
          expect(text, p.name).not.toContain(p.zh);
        }
      }
    }
  });

  it("checks an uploaded credential in Chinese, in the browser, its title read from the document's language map", async () => {
    const credential = await (await fetch(`${baseUrl}/certificates/${certificate.id}/credential`)).text();
    const page = await pageIn("zh-CN");
    await page.goto(`${baseUrl}/verify`);
    await page.setInputFiles("#upload-file", { name: "credential.json", mimeType: "application/json", buffer: Buffer.from(credential) });
    const result = page.locator("#upload-result");
    await expect.poll(() => result.innerText(), { timeout: 30_000 }).toContain("证书有效");
    const text = await result.innerText();
    for (const shown of ["您的文件所载内容", "计算机科学学士", "文件完整性： ✓ 通过", "有效期至", "2031年7月1日"]) expect(text).toContain(shown);
    expect(ENGLISH_SENTENCES.filter((m) => text.includes(m))).toEqual([]);
    await page.setInputFiles("#upload-file", { name: "other.json", mimeType: "application/json", buffer: Buffer.from("{}") });
    await expect.poll(() => page.locator("#upload-status").innerText()).toBe("此文件既不是锚定证书，也不是导出的凭证。");
  });

  it("shows content in the reader's language and switches with the switcher, remembering the choice", async () => {
    const page = await pageIn("zh-CN");
    await page.goto(`${baseUrl}/gallery/${edition.contract}/${edition.editionId}`);
    await page.getByRole("heading", { level: 1, name: "港湾灯火" }).waitFor();
    expect(await page.locator("main").innerText()).toContain("灯塔守护着港湾一百年。");
    await page.locator("nav.languages").getByRole("link", { name: "English" }).click();
    await page.getByRole("heading", { level: 1, name: "Harbour Lights" }).waitFor();
    expect(new URL(page.url()).searchParams.get("lang")).toBe("en");
    // Another page, reached without ?lang=, stays English though the browser prefers Chinese.
    await page.goto(`${baseUrl}/verify/${certificate.id}`);
    expect(await page.getAttribute("html", "lang")).toBe("en");
    await page.getByRole("heading", { level: 1, name: "BSc Computer Science" }).waitFor();
    await page.locator("nav.languages").getByRole("link", { name: "简体中文" }).click();
    await page.getByRole("heading", { level: 1, name: "计算机科学学士" }).waitFor();
    await page.screenshot({ path: artifactPath("verify-zh-CN.png"), fullPage: true });
  });
});
