import { Wallet } from "ethers";
import jsQRModule from "jsqr";
import type { Browser, Page } from "playwright-core";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack } from "../../support/stack.ts";
import {
  advanceChainTime,
  fetchDocument,
  issueCertificate,
  issuerClient,
  revokeCertificate,
  tamperWithStoredBlock,
  type IssuedCertificate,
} from "../../core/verification/certificates.ts";
import { artifactPath, launchChromium } from "./browser.ts";

// jsqr is CommonJS whose typings declare an ES default export; at run time the module itself is the function.
const jsQR = jsQRModule.default;

describe("the verify page, as a person sees it in a browser", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  const certs = {} as Record<"valid" | "revoked" | "expired" | "tampered", IssuedCertificate>;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchChromium()]);
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    const holder = Wallet.createRandom().address;
    [certs.valid, certs.revoked, certs.expired, certs.tampered] = await Promise.all([
      issueCertificate(stack, {
        recipient: holder,
        title: "Master of Science in Computer Science",
        recipientName: "Ada Lovelace",
        description: "Awarded for the analysis of Babbage's Analytical Engine.",
        attributes: [{ name: "Grade", value: "Distinction" }, { name: "Credits", value: "120 ECTS" }],
      }),
      issueCertificate(stack, { recipient: holder, title: "Certificate of Attendance", recipientName: "Ada Lovelace" }),
      issueCertificate(stack, { recipient: holder, title: "Visitor pass", recipientName: "Ada Lovelace", validUntil: new Date(Date.now() + 120_000).toISOString() }),
      issueCertificate(stack, { recipient: holder, title: "Bachelor of Arts", recipientName: "Grace Hopper" }),
    ]);
    await revokeCertificate(stack, certs.revoked.id);
    await advanceChainTime(stack, 600);
    const original = await fetchDocument(stack, certs.tampered.metadataCid);
    tamperWithStoredBlock(stack, original, new TextEncoder().encode(new TextDecoder().decode(original).replace("Bachelor of Arts", "Doctor of Medicine")));
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.cleanup();
  });

  const open = async (id: string) => {
    const res = await page.goto(`${baseUrl}/verify/${id}`);
    expect(res?.status()).toBe(200);
    return page.getByRole("status");
  };

  it("a valid certificate reads 'Valid certificate', with its fields, issuer and chain facts", async () => {
    const verdict = await open(certs.valid.id);
    await expect.poll(() => verdict.innerText()).toContain("Valid certificate");
    const text = await page.locator("main").innerText();
    // Reached by id alone, the page withholds the holder's name (personal data); the holder's link shows it.
    expect(text).not.toContain("Ada Lovelace");
    for (const shown of ["Master of Science in Computer Science", "Recipient: not disclosed", "Demo University", "Distinction", "120 ECTS", "Document integrity: ✓ Passed", "Status on chain: ✓ Passed", "Issuer identity: ✓ Passed"]) {
      expect(text).toContain(shown);
    }
    expect(text).toContain(certs.valid.owner);
    expect(text).toContain(stack.devInfo.contracts.CertificateRegistry);
    await page.screenshot({ path: artifactPath("verify-valid.png"), fullPage: true });
  });

  it("its QR code scans to the page's own address", async () => {
    await open(certs.valid.id);
    const png = PNG.sync.read(await page.locator("figure.qr svg").screenshot());
    const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(decoded?.data).toBe(`${baseUrl}/verify/${certs.valid.id}`);
  });

  it("a valid certificate prints, from the holder's link, as a certificate whose QR code leads back to its verify page", async () => {
    const { certificate } = await issuerClient(stack).request<{ certificate: { personalData: { shareUrl: string } } }>(
      `query($id: ID!) { certificate(id: $id) { personalData { shareUrl } } }`,
      { id: certs.valid.id },
    );
    const share = new URL(certificate.personalData.shareUrl).search;
    expect((await page.goto(certificate.personalData.shareUrl))?.status()).toBe(200);
    expect(await page.locator("main").innerText()).toContain("Recipient: Ada Lovelace (matches the certificate)");
    await page.getByRole("link", { name: "Printable certificate" }).click();
    await page.waitForURL(`${baseUrl}/certificates/${certs.valid.id}/print${share}`);
    const sheet = await page.getByRole("main").innerText();
    for (const shown of ["DEMO UNIVERSITY", "This certifies that", "Ada Lovelace", "Master of Science in Computer Science", "Distinction", `Verify at ${baseUrl}/verify/${certs.valid.id}${share}`]) {
      expect(sheet).toContain(shown);
    }
    const png = PNG.sync.read(await page.locator("figure.qr svg").screenshot());
    expect(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data).toBe(`${baseUrl}/verify/${certs.valid.id}${share}`);
    await page.screenshot({ path: artifactPath("certificate-print.png"), fullPage: true });
    await page.pdf({ path: artifactPath("certificate-print.pdf"), landscape: true, format: "A4", printBackground: true });
  });

  it("a revoked certificate reads 'Not valid' and says it was revoked, with nothing to print or download", async () => {
    const verdict = await open(certs.revoked.id);
    expect(await verdict.innerText()).toContain("Not valid");
    expect(await page.getByRole("link", { name: /Download credential|Printable certificate/ }).count()).toBe(0);
    await page.goto(`${baseUrl}/certificates/${certs.revoked.id}/print`);
    expect(page.url()).toBe(`${baseUrl}/verify/${certs.revoked.id}`);
    expect(await page.locator("main").innerText()).toContain("Revoked by its issuer (reason: PRIVILEGE_WITHDRAWN)");
    await page.screenshot({ path: artifactPath("verify-revoked.png"), fullPage: true });
  });

  it("an expired certificate reads 'Not valid' and says when it expired", async () => {
    const verdict = await open(certs.expired.id);
    expect(await verdict.innerText()).toContain("Not valid");
    expect(await page.locator("main").innerText()).toMatch(/Status on chain: ✗ Failed\s+Expired on /);
    await page.screenshot({ path: artifactPath("verify-expired.png"), fullPage: true });
  });

  it("a certificate whose document was altered in storage reads 'Not valid' and says it was altered", async () => {
    const verdict = await open(certs.tampered.id);
    expect(await verdict.innerText()).toContain("Not valid");
    const text = await page.locator("main").innerText();
    expect(text).toMatch(/Document integrity: ✗ Failed\s+The document fetched from IPFS does not hash to .*it was altered/);
    await page.screenshot({ path: artifactPath("verify-tampered.png"), fullPage: true });
  });

  it("works from the keyboard and on a phone-sized screen, and prints without the site chrome", async () => {
    await open(certs.valid.id);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");

    const phone = await browser.newPage({ viewport: { width: 375, height: 740 }, deviceScaleFactor: 2 });
    try {
      await phone.goto(`${baseUrl}/verify/${certs.valid.id}`);
      expect(await phone.getByRole("status").innerText()).toContain("Valid certificate");
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await phone.screenshot({ path: artifactPath("verify-valid-phone.png"), fullPage: true });
      await phone.emulateMedia({ media: "print" });
      expect(await phone.locator("header.site").isVisible()).toBe(false);
      await page.pdf({ path: artifactPath("verify-valid.pdf"), format: "A4", printBackground: true });
    } finally {
      await phone.close();
    }
  });
});
