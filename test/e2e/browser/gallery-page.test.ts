import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_EDITION_SIZE, DEMO_IMAGES } from "../../../scripts/dev/demo-edition.ts";
import { createTestEdition, type TestEdition } from "../../support/editions.ts";
import { startTestStack } from "../../support/stack.ts";
import { artifactPath, launchChromium } from "./browser.ts";

/** Every <img> on the page, once each has finished loading (or failed): its source, alt text and decoded size. */
async function loadedImages(page: Page) {
  // Images after the first load lazily: bring them all into view first.
  for (const img of await page.locator("main img").all()) await img.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => [...document.images].every((img) => img.complete));
  return page.$$eval("main img", (imgs) =>
    (imgs as HTMLImageElement[]).map((img) => ({ src: img.getAttribute("src"), alt: img.alt, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight })),
  );
}

describe("the museum gallery page in a browser", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let browser: Browser;
  let baseUrl: string;
  let edition: TestEdition;
  const holders = [1, 2, 3].map(() => Wallet.createRandom().address);

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchChromium()]);
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    edition = await createTestEdition(stack, {
      name: "The Weavers' Year",
      maxSupply: 250,
      holders,
      images: [
        { label: "A loom at rest, warp threads in blue and gold", width: 600, height: 360, paint: (x, y) => [(x * 3) % 256, 90, (y * 2) % 256] },
        { label: "Sample card of twelve dyed wool colours", width: 300, height: 300, paint: (x, y) => [((x >> 5) * 40) % 256, ((y >> 5) * 50) % 256, 160], omitSize: true },
        { label: "The weavers' guild seal, embossed on linen", width: 240, height: 320 },
      ],
      story: "Every spring the weavers of the valley set up their looms in the market hall.\n\nThis edition marks the museum's exhibition of their work.",
      dublinCore: { creator: "Valley Textile Museum", date: "1923", subject: ["Weaving", "Dyes"], rights: "CC BY 4.0", identifier: "VTM.1923.7", language: "en" },
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.cleanup();
  });

  it("shows the edition's images loaded from IPFS, each item's serial, the held count and the story", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const failed: string[] = [];
    page.on("requestfailed", (req) => failed.push(req.url()));
    const res = await page.goto(`${baseUrl}/gallery/${edition.contract}/${edition.editionId}`);
    expect(res?.status()).toBe(200);

    const images = await loadedImages(page);
    expect(images).toHaveLength(3);
    for (const [i, img] of images.entries()) {
      const pinned = edition.images[i]!;
      expect(img.src).toBe(`/ipfs/${pinned.cid}`);
      expect(img.alt).toBe(pinned.label);
      expect(img.naturalWidth).toBe(pinned.width);
      expect(img.naturalHeight).toBe(pinned.height);
    }

    await expect(page.getByRole("heading", { level: 1 }).innerText()).resolves.toBe("The Weavers' Year");
    const text = await page.locator("main").innerText();
    expect(text).toContain("3 of 250 held");
    for (const [i, holder] of holders.entries()) expect(text).toMatch(new RegExp(`#${i + 1} / 250\\s+Held by ${holder}`));
    expect(text).toContain("Every spring the weavers of the valley");
    const record = await page.getByRole("table").innerText();
    expect(record).toMatch(/Creator\s*\(dc:creator\)\s+Valley Textile Museum/);
    expect(record).toMatch(/Subject\s*\(dc:subject\)\s+Weaving\s+Dyes/);
    expect(failed).toEqual([]);
    await page.screenshot({ path: artifactPath("gallery.png"), fullPage: true });
    await page.close();
  });

  it("can be used with the keyboard alone, and the manifest link leads to the IIIF manifest", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${baseUrl}/gallery/${edition.contract}/${edition.editionId}`);
    const reached: { text: string; href: string | null; outline: string }[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press("Tab");
      reached.push(
        await page.evaluate(() => {
          const el = document.activeElement as HTMLElement;
          return { text: el.innerText.trim(), href: el.getAttribute("href"), outline: getComputedStyle(el).outlineStyle };
        }),
      );
    }
    expect(reached[0]).toMatchObject({ text: "Skip to content", href: "#content" });
    const manifestPath = `/iiif/${edition.contract}/${edition.editionId}/manifest.json`;
    const hrefs = reached.map((r) => r.href);
    for (const image of edition.images) expect(hrefs).toContain(`/ipfs/${image.cid}`);
    const manifestLink = reached.find((r) => r.href?.endsWith(manifestPath));
    expect(manifestLink?.text).toBe("IIIF manifest of this edition");
    // Focus is always visible (WCAG 2.4.7): every focused link drew its outline.
    expect(reached.filter((r) => r.href).every((r) => r.outline === "solid")).toBe(true);

    // Follow the manifest link from the keyboard.
    while (!(await page.evaluate((p) => document.activeElement?.getAttribute("href")?.endsWith(p) ?? false, manifestPath))) await page.keyboard.press("Shift+Tab");
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith(manifestPath)), page.keyboard.press("Enter")]);
    expect(response.status()).toBe(200);
    const manifest = await response.json();
    expect(manifest.type).toBe("Manifest");
    expect(manifest.items).toHaveLength(3);
    await page.close();
  });

  it("fits a phone's screen without sideways scrolling", async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2 });
    await page.goto(`${baseUrl}/gallery/${edition.contract}/${edition.editionId}`);
    const images = await loadedImages(page);
    expect(images.every((img) => img.naturalWidth > 0)).toBe(true);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: artifactPath("gallery-phone.png"), fullPage: true });
    await page.close();
  });

  it("shows the dev stack's demo edition with its drawn PNGs", async () => {
    const info = JSON.parse(readFileSync(join(stack.dataDir, "dev.json"), "utf8"));
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    await page.goto(`${baseUrl}/gallery/${info.contracts.CollectibleEditions}/1`);
    const images = await loadedImages(page);
    expect(images.map((img) => [img.naturalWidth, img.naturalHeight])).toEqual(DEMO_IMAGES.map((img) => [img.width, img.height]));
    expect(images.map((img) => img.alt)).toEqual(DEMO_IMAGES.map((img) => img.label));
    expect(await page.locator("main").innerText()).toContain(`#1 / ${DEMO_EDITION_SIZE}`);
    await page.screenshot({ path: artifactPath("gallery-demo.png"), fullPage: true });
    await page.close();
  });

  it("shows a clear page for an edition that does not exist", async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${baseUrl}/gallery/${edition.contract}/4242`);
    expect(res?.status()).toBe(404);
    await expect(page.getByRole("heading", { level: 1 }).innerText()).resolves.toBe("No such edition");
    await page.close();
  });
});
