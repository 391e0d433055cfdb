import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCertificate, type IssuedCertificate } from "../../core/verification/certificates.ts";
import { startTestStack } from "../../support/stack.ts";
import { launchChromium } from "./browser.ts";

/**
 * The pages under their Content-Security-Policy in a real browser: nothing they need is refused. (Framing is refused
 * by `frame-ancestors 'none'` and `X-Frame-Options: DENY`, asserted on every route by test/e2e/public-routes.test.ts.)
 */
describe("the public pages under their security headers, in Chromium", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let browser: Browser;
  let baseUrl: string;
  let cert: IssuedCertificate;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchChromium()]);
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    cert = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Certificate of Attendance", recipientName: "Ada Lovelace" });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.cleanup();
  });

  /** Opens a page and collects every CSP violation it reports (the DOM event and the console's refusal). */
  async function visit(path: string): Promise<{ page: Page; violations: () => Promise<string[]> }> {
    const page = await browser.newPage();
    const console: string[] = [];
    page.on("console", (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) console.push(msg.text());
    });
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __csp: string[] }).__csp = seen;
      document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const res = await page.goto(`${baseUrl}${path}`, { waitUntil: "load" });
    expect(res?.headers()["content-security-policy"], path).toBeTruthy();
    return { page, violations: async () => [...console, ...(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp))] };
  }

  it("renders every page, its inline style, scripts and images, with no CSP violation", async () => {
    const edition = JSON.parse(readFileSync(join(stack.dataDir, "dev.json"), "utf8")).contracts.CollectibleEditions;
    for (const path of ["/verify", `/verify/${cert.id}`, `/certificates/${cert.id}/print`, "/holder", `/gallery/${edition}/1`, "/verify/00000000-0000-4000-8000-000000000000"]) {
      const { page, violations } = await visit(path);
      // The page's own stylesheet applied (an inline style refused would leave the header unstyled).
      expect(await page.locator("body").evaluate((b) => getComputedStyle(b).margin), path).toBe("0px");
      expect(await violations(), path).toEqual([]);
      await page.close();
    }
  });

  it("runs the print button's handler, allowed by its hash", async () => {
    const print = await visit(`/verify/${cert.id}`);
    await print.page.evaluate(() => {
      window.print = () => ((window as unknown as { __printed: boolean }).__printed = true);
    });
    await print.page.getByRole("button", { name: /print/i }).first().click();
    expect(await print.page.evaluate(() => (window as unknown as { __printed?: boolean }).__printed)).toBe(true);
    expect(await print.violations()).toEqual([]);
    await print.page.close();
  });
});
