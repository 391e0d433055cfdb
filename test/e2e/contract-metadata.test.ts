import { eq } from "drizzle-orm";
import { Contract, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadArtifact } from "../../core/chain/artifacts.ts";
import { collections, editionContracts, institutions } from "../../core/db/schema.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const get = (url: string, accept = "application/json") => fetch(url, { headers: { accept }, signal: AbortSignal.timeout(10_000) });

/**
 * ERC-7572 over HTTP: the URI a registry's `contractURI()` names, once given the server's base, is served as the
 * contract-level JSON, with the institution from the database; an editions contract likewise.
 */
describe("contract-level metadata (ERC-7572) at /contracts/<chainId>/<address>/contract.json", () => {
  let stack: Stack;
  let base: string;
  beforeAll(async () => {
    stack = await startTestStack();
    base = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("serves the document a registry's contractURI() names: the collection's name and symbol, the institution's name and identity, an image", async () => {
    const { chainId, institutionId } = stack.devInfo;
    const address = stack.devInfo.contracts.CertificateRegistry;
    // The demo registry was created without a base; its admin names one, as a real network's creation does at once.
    const registry = new Contract(address, loadArtifact("CertificateRegistry").abi, new Wallet(DEV_KEYS.deployer, stack.provider));
    await (await registry.getFunction("setContractURI")(`${base}/contracts/${chainId}/`)).wait();
    const uri: string = await registry.getFunction("contractURI")();
    expect(uri).toBe(`${base}/contracts/${chainId}/${address.toLowerCase()}/contract.json`);

    const [institution] = await stack.db.db.select().from(institutions).where(eq(institutions.id, institutionId));
    const [collection] = await stack.db.db.select().from(collections).where(eq(collections.id, stack.devInfo.collectionId));
    const res = await get(uri);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const doc = (await res.json()) as Record<string, any>;
    expect(doc).toMatchObject({
      name: collection!.name,
      symbol: collection!.symbol,
      issuer: { name: institution!.name, identity: institution!.identity },
      image: `${base}/contracts/${chainId}/${address.toLowerCase()}/image.svg`,
    });
    expect(doc.description).toContain(institution!.name);
    // A did:key names no web site: the link is Hallmark's.
    expect(doc.external_link).toBe(base);

    const image = await get(doc.image, "image/svg+xml");
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
    expect(await image.text()).toContain(institution!.name);

    // The checksummed spelling names the same contract.
    expect((await get(`${base}/contracts/${chainId}/${address}/contract.json`)).status).toBe(200);
  });

  it("names the institution's site when its identity is a domain or a did:web, and escapes names in the image", async () => {
    const { chainId, institutionId } = stack.devInfo;
    const [before] = await stack.db.db.select().from(institutions).where(eq(institutions.id, institutionId));
    try {
      await stack.db.db.update(institutions).set({ identity: "did:web:demo.example.edu", name: `Demo <University> & "Co"` }).where(eq(institutions.id, institutionId));
      const url = `${base}/contracts/${chainId}/${stack.devInfo.contracts.CertificateRegistry.toLowerCase()}`;
      const doc = (await (await get(`${url}/contract.json`)).json()) as Record<string, any>;
      expect(doc.external_link).toBe("https://demo.example.edu");
      expect(doc.issuer).toEqual({ name: `Demo <University> & "Co"`, identity: "did:web:demo.example.edu" });
      const svg = await (await get(`${url}/image.svg`, "image/svg+xml")).text();
      expect(svg).toContain("Demo &lt;University&gt; &amp; &quot;Co&quot;");
      expect(svg).not.toContain("<University>");
      await stack.db.db.update(institutions).set({ identity: "demo.example.edu" }).where(eq(institutions.id, institutionId));
      expect(((await (await get(`${url}/contract.json`)).json()) as Record<string, any>).external_link).toBe("https://demo.example.edu");
    } finally {
      await stack.db.db.update(institutions).set({ identity: before!.identity, name: before!.name }).where(eq(institutions.id, institutionId));
    }
  });

  it("serves an institution's editions contract, with its recorded name and no symbol", async () => {
    const { chainId, institutionId } = stack.devInfo;
    const address = stack.devInfo.contracts.CollectibleEditions!;
    await stack.db.db.insert(editionContracts).values({ institutionId, chainId, contractAddress: address, name: "Demo University Collectibles", deployBlock: 1, voucherSignerKey: "unused" });
    const res = await get(`${base}/contracts/${chainId}/${address.toLowerCase()}/contract.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, any>;
    expect(doc).toMatchObject({ name: "Demo University Collectibles", issuer: { name: "Demo University" } });
    expect(doc).not.toHaveProperty("symbol");
    expect(doc.description).toMatch(/^Limited editions of Demo University/);
  });

  it("answers 404 for an address no collection or editions contract has, or on another chain, and 400 for a malformed one", async () => {
    const { chainId } = stack.devInfo;
    const unknown = await get(`${base}/contracts/${chainId}/0x000000000000000000000000000000000000dead/contract.json`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect((await get(`${base}/contracts/${chainId + 1}/${stack.devInfo.contracts.CertificateRegistry}/contract.json`)).status).toBe(404);
    expect((await get(`${base}/contracts/${chainId}/0xnope/contract.json`)).status).toBe(400);
    expect((await get(`${base}/contracts/0/${stack.devInfo.contracts.CertificateRegistry}/contract.json`)).status).toBe(400);
    expect((await get(`${base}/contracts/${chainId}/0x000000000000000000000000000000000000dead/image.svg`)).status).toBe(404);
  });
});
