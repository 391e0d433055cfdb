import { randomUUID } from "node:crypto";
import { getBytes, Wallet } from "ethers";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMailSink, type MailSink } from "../../../scripts/dev/mail-sink.ts";
import { graphqlClient } from "../../support/graphql-http.ts";
import { startTestStack, waitFor } from "../../support/stack.ts";
import { artifactPath, launchChromium } from "./browser.ts";

const ISSUE = `mutation($input: IssueCertificateInput!) { issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id } } ... on Error { __typename code message } } }`;
const ISSUANCE = `query($id: ID!) { issuance(id: $id) { status error certificate { id } } }`;

/**
 * A holder without a wallet, from the e-mail to their items: they type their address, read the code in the mail the
 * platform sent over SMTP, sign in, see the certificate, open its share link, and put it in a wallet through the
 * credential offer (QR code and link); later, with a wallet, they claim everything to it.
 */
describe("the holder page for a holder without a wallet", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let sink: MailSink;
  let browser: Browser;
  let base: string;
  let certificateId: string;
  const email = "lin.wei@example.org";

  beforeAll(async () => {
    sink = await startMailSink();
    [stack, browser] = await Promise.all([startTestStack({ SMTP_URL: sink.url }), launchChromium()]);
    base = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    const a = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.apiKey);
    const { issueCertificate } = await a.ok<any>(ISSUE, {
      input: { collectionId: stack.devInfo.collectionId, holderReference: email, title: "Museum guide course", recipientName: "Lin Wei", idempotencyKey: randomUUID() },
    });
    const done = await waitFor(async () => (await a.ok<any>(ISSUANCE, { id: issueCertificate.issuance.id })).issuance, (i) => i.status === "CONFIRMED" || i.status === "FAILED", 60_000);
    expect(done.error).toBeNull();
    certificateId = done.certificate.id;
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.cleanup();
    await sink?.close();
  });

  const signIn = async (page: Page, labels: { email: string; send: string; code: string; signIn: string }) => {
    await page.getByLabel(labels.email).fill(email);
    const before = sink.messages().length;
    await page.getByRole("button", { name: labels.send }).click();
    const mail = await sink.next(email, { after: before });
    const code = /\b(\d{6})\b/.exec(mail.text)![1]!;
    await page.getByLabel(labels.code).fill(code);
    await page.getByRole("button", { name: labels.signIn, exact: true }).click();
    return mail;
  };

  it("signs in with the code from the e-mail, shows the certificate, shares it and offers it to a wallet", async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/holder`);
    await signIn(page, { email: "E-mail address", send: "Send me a code", code: "Code from the e-mail", signIn: "Sign in" });
    await page.getByRole("heading", { name: "Certificates (1)" }).waitFor();
    const text = await page.locator("main").innerText();
    expect(text).toContain(`Signed in as ${email}`);
    expect(text).toMatch(/Museum guide course\s+Recipient: Lin Wei \(matches the certificate\)/);
    // The session cookie is HttpOnly: no script on the page can read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain("hallmark_holder");
    const cookie = (await context.cookies()).find((c) => c.name === "hallmark_holder")!;
    expect([cookie.httpOnly, cookie.sameSite]).toEqual([true, "Lax"]);
    await page.screenshot({ path: artifactPath("holder-email.png"), fullPage: true });

    // The share link opens the certificate's verification for anyone, with the name it carries.
    const share = await page.getByRole("link", { name: "link to this certificate" }).getAttribute("href");
    const visitor = await browser.newPage();
    await visitor.goto(`${base}${share}`);
    expect(await visitor.locator("main").innerText()).toContain("Museum guide course");
    await visitor.close();

    // Add to wallet: a page with the offer as a QR code, a deep link and the transaction code.
    await page.getByRole("button", { name: /Add to wallet/ }).click();
    await page.getByRole("heading", { name: "Add “Museum guide course” to your wallet" }).waitFor();
    const link = await page.getByRole("link", { name: "Open in my wallet" }).getAttribute("href");
    expect(link).toMatch(/^openid-credential-offer:\/\/\?credential_offer=/);
    const offer = JSON.parse(new URL(link!).searchParams.get("credential_offer")!);
    expect(offer).toMatchObject({ credential_issuer: base, credential_configuration_ids: ["OpenBadgeCredential"] });
    expect(await page.locator("figure.qr svg").count()).toBe(1);
    expect(await page.locator("#tx-code strong").innerText()).toMatch(/^\d{6}$/);
    await page.screenshot({ path: artifactPath("holder-offer.png"), fullPage: true });
    await context.close();
  });

  it("works in Chinese: the page, the e-mail, and the claim to a wallet", async () => {
    const context = await browser.newContext({ locale: "zh-CN", extraHTTPHeaders: { "accept-language": "zh-CN,zh;q=0.9" } });
    const page = await context.newPage();
    const wallet = Wallet.createRandom();
    await page.exposeFunction("__walletRequest", async (method: string, params: unknown[]) => {
      if (method === "eth_requestAccounts") return [wallet.address];
      if (method === "personal_sign") return wallet.signMessage(getBytes(params[0] as string));
      throw new Error(`unsupported ${method}`);
    });
    await page.addInitScript(() => {
      const w = window as unknown as { ethereum: unknown; __walletRequest: (m: string, p: unknown[]) => Promise<unknown> };
      w.ethereum = { request: ({ method, params }: { method: string; params?: unknown[] }) => w.__walletRequest(method, params ?? []) };
    });
    await page.goto(`${base}/holder`);
    expect(await page.getAttribute("html", "lang")).toBe("zh-CN");
    const mail = await signIn(page, { email: "电子邮箱", send: "发送验证码", code: "邮件中的验证码", signIn: "登录" });
    expect(mail.subject).toContain("登录验证码");
    await page.getByRole("button", { name: "领取到我的钱包" }).click();
    await expect.poll(() => page.getByRole("status").last().innerText(), { timeout: 10_000 }).toContain("1 份证书");
    await page.screenshot({ path: artifactPath("holder-email-zh.png"), fullPage: true });
    // The certificate moves to the wallet by a recovery the worker confirms.
    const a = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.apiKey);
    const moved = await waitFor(
      async () => (await a.ok<any>(`query($id: ID!) { certificate(id: $id) { status supersededBy { owner } } }`, { id: certificateId })).certificate,
      (c) => c.supersededBy !== null,
      60_000,
    );
    expect(moved.supersededBy.owner).toBe(wallet.address);
    await context.close();
  });
});
