import { Contract, getBytes, Wallet } from "ethers";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack } from "../../support/stack.ts";
import { issueCertificate, revokeCertificate } from "../../core/verification/certificates.ts";
import { COLLECTIBLE_EDITIONS_ABI } from "../../../core/editions/index.ts";
import { DEV_KEYS } from "../../../scripts/dev/chain.ts";
import { artifactPath, launchChromium } from "./browser.ts";

/**
 * The holder's wallet, as a browser extension would expose it (EIP-1193 `window.ethereum`), backed by a real key
 * held by the test: the page cannot tell it from MetaMask for the two calls sign-in makes.
 */
async function installWallet(page: Page, wallet: Wallet): Promise<void> {
  await page.exposeFunction("__walletRequest", async (method: string, params: unknown[]) => {
    if (method === "eth_requestAccounts") return [wallet.address];
    if (method === "personal_sign") return wallet.signMessage(getBytes(params[0] as string));
    throw new Error(`unsupported ${method}`);
  });
  await page.addInitScript(() => {
    const w = window as unknown as { ethereum: unknown; __walletRequest: (m: string, p: unknown[]) => Promise<unknown> };
    w.ethereum = { request: ({ method, params }: { method: string; params?: unknown[] }) => w.__walletRequest(method, params ?? []) };
  });
}

describe("the holder's page, after Sign-In with Ethereum", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let browser: Browser;
  let baseUrl: string;
  const holder = new Wallet(Wallet.createRandom().privateKey);

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(), launchChromium()]);
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    const [, attendance] = await Promise.all([
      issueCertificate(stack, { recipient: holder.address, title: "Diploma in Navigation", recipientName: "Mary Jackson" }),
      issueCertificate(stack, { recipient: holder.address, title: "Certificate of Attendance", recipientName: "Mary Jackson" }),
      issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Someone else's diploma" }),
    ]);
    await revokeCertificate(stack, attendance.id);
    // An item of the dev stack's demo edition, airdropped by its issuer (the development deployer key).
    const editions = new Contract(stack.devInfo.contracts.CollectibleEditions!, [...COLLECTIBLE_EDITIONS_ABI, "function airdrop(uint256 editionId, address[] holders) returns (uint256)"], new Wallet(DEV_KEYS.deployer, stack.provider));
    await (await editions.getFunction("airdrop")(1, [holder.address])).wait();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.cleanup();
  });

  it("signs in with the holder's wallet and lists their certificates, each verified from the chain", async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    await installWallet(page, holder);
    await page.goto(`${baseUrl}/holder`);
    await page.getByRole("button", { name: "Sign in with Ethereum" }).click();
    await page.getByRole("heading", { name: "Certificates (2)" }).waitFor();
    const text = await page.locator("main").innerText();
    expect(text).toContain(`Signed in as ${holder.address}`);
    // Signed in, the holder sees their own name, checked against the certificate's commitment to it.
    expect(text).toMatch(/Diploma in Navigation\s+Recipient: Mary Jackson \(matches the certificate\)\s+Demo University · issued [A-Z][a-z]+ \d{1,2}, \d{4}\s+✓ Valid/);
    expect(text).toMatch(/Certificate of Attendance\s+Recipient: Mary Jackson \(matches the certificate\)\s+Demo University · issued [A-Z][a-z]+ \d{1,2}, \d{4}\s+✗ Not valid/);
    expect(text).not.toContain("Someone else's diploma");
    await page.getByRole("heading", { name: "Collectibles (1)" }).waitFor();
    expect(text).toMatch(/Harbour Lights #4 \/ 100/);
    const image = page.locator("ul.held img").first();
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
    await page.getByRole("link", { name: "Gallery of Harbour Lights" }).waitFor();
    await page.screenshot({ path: artifactPath("holder.png"), fullPage: true });

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in with Ethereum" }).waitFor();
    await page.close();
  });

  it("says so when the browser has no wallet", async () => {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/holder`);
    await page.getByRole("button", { name: "Sign in with Ethereum" }).click();
    expect(await page.getByRole("status").innerText()).toContain("No Ethereum wallet was found");
    await page.close();
  });

  it("refuses a signature by another account, and a sign-in message used twice", async () => {
    const post = (path: string, body: object) => fetch(`${baseUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const { message, nonce } = await (await post("/holder/sign-in/message", { address: holder.address })).json();
    expect(message).toContain(`${new URL(baseUrl).host} wants you to sign in with your Ethereum account:\n${holder.address}`);

    const forged = await post("/holder/sign-in", { nonce, signature: await Wallet.createRandom().signMessage(message) });
    expect(forged.status).toBe(401);
    expect((await forged.json()).error.message).toBe("the message was not signed by the account it names");

    const fresh = await (await post("/holder/sign-in/message", { address: holder.address })).json();
    const signature = await holder.signMessage(fresh.message);
    const first = await post("/holder/sign-in", { nonce: fresh.nonce, signature });
    expect(first.status).toBe(200);
    expect(first.headers.get("set-cookie")).toMatch(/^hallmark_holder=.+HttpOnly/);
    const replay = await post("/holder/sign-in", { nonce: fresh.nonce, signature });
    expect(replay.status).toBe(401);
  });
});
