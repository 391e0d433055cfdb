import { Wallet } from "ethers";
import jsQRModule from "jsqr";
import type { Browser, Page, Request } from "playwright-core";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCertificate } from "../../core/verification/certificates.ts";
import { graphqlClient } from "../../support/graphql-http.ts";
import { startTestStack, waitFor } from "../../support/stack.ts";
import { artifactPath, launchChromium } from "./browser.ts";

const jsQR = jsQRModule.default;

const NAME = "Zelda Quartermaine";
const GRADE = "Summa cum laude";

/**
 * The verify page's upload: a holder's anchored-certificate file or an exported credential is hashed in the browser
 * and only hashes go to the server; the verdict is shown with the file's fields, which never leave the page.
 */
describe("the verify page checks an uploaded file in the browser, sending only hashes", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let files: { file: any; digest: string }[];
  let credential: any;
  const holder = Wallet.createRandom().address;
  const sent: { url: string; method: string; body: string }[] = [];
  const cspViolations: string[] = [];

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchChromium()]);
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    const api = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.apiKey);
    const { createCollection } = await api.ok<any>(
      `mutation($i: CreateCollectionInput!) { createCollection(input: $i) { ... on CreateCollectionPayload { collection { id } } ... on Error { code message } } }`,
      { i: { name: "Demo Transcripts", symbol: "DTR", kind: "ANCHORED", idempotencyKey: "browser-anchored" } },
    );
    const collectionId = createCollection.collection.id;
    await waitFor(async () => (await api.ok<any>(`query($id: ID!) { collection(id: $id) { status } }`, { id: collectionId })).collection.status, (s) => s === "CONFIRMED" || s === "FAILED", 60_000);
    const { anchorCertificates } = await api.ok<any>(
      `mutation($i: AnchorCertificatesInput!) { anchorCertificates(input: $i) { ... on AnchorCertificatesPayload { anchoredBatch { id } } ... on Error { code message } } }`,
      {
        i: {
          collectionId,
          idempotencyKey: "browser-batch",
          certificates: [
            { recipient: holder, title: "Transcript of Records", recipientName: NAME, attributes: [{ name: "Grade", value: GRADE }] },
            { recipient: Wallet.createRandom().address, title: "Transcript of Records", recipientName: "Another Holder" },
          ],
        },
      },
    );
    const batchId = anchorCertificates.anchoredBatch.id;
    const query = `query($id: ID!) { anchoredBatch(id: $id) { status certificates(first: 2) { edges { node { digest file } } } } }`;
    const batch = await waitFor(async () => (await api.ok<any>(query, { id: batchId })).anchoredBatch, (b) => b.status === "CONFIRMED" || b.status === "FAILED", 60_000);
    expect(batch.status).toBe("CONFIRMED");
    files = batch.certificates.edges.map((e: any) => ({ file: e.node.file, digest: e.node.digest }));
    const issued = await issueCertificate(stack, { recipient: holder, title: "Master of Arts", recipientName: NAME });
    const res = await fetch(`${baseUrl}/certificates/${issued.id}/credential`);
    expect(res.status).toBe(200);
    credential = await res.json();

    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on("request", (r: Request) => sent.push({ url: r.url(), method: r.method(), body: r.postData() ?? "" }));
    page.on("console", (m) => {
      if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.cleanup();
  });

  const upload = async (name: string, json: unknown) => {
    await page.goto(`${baseUrl}/verify`);
    sent.length = 0;
    await page.setInputFiles("#upload-file", { name, mimeType: "application/json", buffer: Buffer.from(JSON.stringify(json, null, 2)) });
  };
  const result = () => page.locator("#upload-result");
  /** Nothing the page sent (URL or body) holds any of these. */
  const expectNeverSent = (values: string[]) => {
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) for (const v of values) expect(`${r.url} ${r.body}`.toLowerCase(), `${r.method} ${r.url}`).not.toContain(v.toLowerCase());
  };

  it("says so on the page: the file stays in the browser, only hashes are sent", async () => {
    await page.goto(`${baseUrl}/verify`);
    expect(await page.locator("#upload-zone").innerText()).toContain("No name or other field of the certificate leaves your device");
    expect(await page.getByLabel(/anchored certificate file or an exported credential/).count()).toBe(1);
  });

  it("an uploaded anchored certificate reads 'Valid certificate', its fields shown from the file, and only its hashes were sent", async () => {
    const { file, digest } = files[0]!;
    await upload("transcript.json", file);
    await expect.poll(() => result().innerText(), { timeout: 20_000 }).toContain("Valid certificate");
    const text = await result().innerText();
    for (const shown of [NAME, GRADE, "Transcript of Records", "Demo University", "Document integrity: ✓ Passed", "Status on chain: ✓ Passed", "Issuer identity: ✓ Passed"]) expect(text).toContain(shown);
    const checks = sent.filter((r) => r.method === "POST");
    expect(checks.map((r) => new URL(r.url).pathname)).toEqual(["/verify/anchored"]);
    expect(Object.keys(JSON.parse(checks[0]!.body)).sort()).toEqual(["chainId", "contract", "digest", "proof", "root"]);
    expect(JSON.parse(checks[0]!.body).digest).toBe(digest);
    expectNeverSent([NAME, GRADE, holder, "Transcript of Records", file.document.certificate.id]);
    expect(cspViolations).toEqual([]);
    await page.screenshot({ path: artifactPath("verify-upload-anchored.png"), fullPage: true });
  });

  it("a file dropped on the page is checked too; an altered one reads 'Not valid'", async () => {
    const altered = structuredClone(files[1]!.file);
    altered.document.certificate.title = "Doctor of Medicine";
    await page.goto(`${baseUrl}/verify`);
    sent.length = 0;
    const dataTransfer = await page.evaluateHandle((json) => {
      const dt = new DataTransfer();
      dt.items.add(new File([json], "altered.json", { type: "application/json" }));
      return dt;
    }, JSON.stringify(altered));
    await page.dispatchEvent("#upload-zone", "drop", { dataTransfer });
    await expect.poll(() => result().innerText(), { timeout: 20_000 }).toContain("Not valid");
    expect(await result().innerText()).toContain("Document integrity: ✗ Failed");
    expectNeverSent(["Another Holder", altered.document.certificate.recipient.address]);
  });

  it("an uploaded exported credential is checked by its place on chain and its document's digest, its holder never sent", async () => {
    await upload("credential.json", credential);
    await expect.poll(() => result().innerText(), { timeout: 20_000 }).toContain("Valid certificate");
    const checks = sent.filter((r) => r.method === "POST");
    expect(checks.map((r) => new URL(r.url).pathname)).toEqual(["/verify/digest"]);
    expect(Object.keys(JSON.parse(checks[0]!.body)).sort()).toEqual(["digest", "reference"]);
    expectNeverSent([holder, "Master of Arts"]);
    // The same credential with its document altered is refused in the browser's own check.
    const altered = structuredClone(credential);
    altered.certificateDocument.certificate.title = "Doctor of Arts";
    await upload("altered-credential.json", altered);
    await expect.poll(() => result().innerText(), { timeout: 20_000 }).toContain("Not valid");
  });

  it("a valid anchored certificate prints with the holder's name from the file, and a QR code of its record by digest", async () => {
    const { file, digest } = files[0]!;
    await upload("transcript.json", file);
    await expect.poll(() => result().innerText(), { timeout: 20_000 }).toContain("Valid certificate");
    await page.evaluate(() => {
      window.print = () => ((window as unknown as { __printed: boolean }).__printed = true);
    });
    await page.getByRole("button", { name: "Print with the name from your file" }).click();
    expect(await page.evaluate(() => (window as unknown as { __printed?: boolean }).__printed)).toBe(true);
    await page.emulateMedia({ media: "print" });
    try {
      const sheet = page.locator("#upload-print");
      await expect.poll(() => sheet.isVisible()).toBe(true);
      expect(await page.locator("#upload-zone").isVisible()).toBe(false);
      const text = await sheet.innerText();
      // innerText as printed: the issuer's line is upper-cased by the style.
      for (const shown of [NAME, GRADE, "Transcript of Records", "Demo University", `${baseUrl}/anchored/${digest}`]) expect(text.toLowerCase()).toContain(shown.toLowerCase());
      const qr = sheet.locator("img.qr");
      await expect.poll(() => qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
      const png = PNG.sync.read(await qr.screenshot());
      expect(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data).toBe(`${baseUrl}/anchored/${digest}`);
      await page.screenshot({ path: artifactPath("anchored-print-with-name.png"), fullPage: true });
    } finally {
      await page.emulateMedia({ media: "screen" });
    }
    // The QR code was fetched by the digest alone; the name never left the page.
    expect(sent.some((r) => new URL(r.url).pathname === `/anchored/${digest}/qr.svg`)).toBe(true);
    expectNeverSent([NAME, GRADE, holder]);
    expect(cspViolations).toEqual([]);
  });

  it("a valid anchored certificate links to its printable copy by digest: no personal field, a QR code of its on-chain record", async () => {
    const { file, digest } = files[0]!;
    await upload("transcript.json", file);
    await expect.poll(() => result().innerText(), { timeout: 20_000 }).toContain("Valid certificate");
    await page.getByRole("link", { name: "Printable certificate" }).click();
    await page.waitForURL(`${baseUrl}/anchored/${digest}/print`);
    const text = await page.locator("body").innerText();
    expect(text).toContain("Transcript of Records");
    expect(text).toContain(digest);
    expect(text).not.toContain(NAME);
    expect(text).not.toContain(GRADE);
    const png = PNG.sync.read(await page.locator("figure.qr svg").screenshot());
    expect(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data).toBe(`${baseUrl}/anchored/${digest}`);
    await page.screenshot({ path: artifactPath("anchored-print.png"), fullPage: true });
    const record = await page.goto(`${baseUrl}/anchored/${digest}`);
    expect(record?.status()).toBe(200);
    expect(await page.getByRole("status").innerText()).toContain("Valid certificate");
    expect(await page.locator("main").innerText()).not.toContain(NAME);
    expect((await page.goto(`${baseUrl}/anchored/0x${"ab".repeat(32)}`))?.status()).toBe(404);
  });
});
