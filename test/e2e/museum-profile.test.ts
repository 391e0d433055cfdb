import { eq } from "drizzle-orm";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issuerRegistryAt } from "../../core/chain/issuer-registry.ts";
import { institutions } from "../../core/db/schema.ts";
import { LINKED_ART_CONTEXT } from "../../core/editions/linked-art.ts";
import { DEMO_IMAGES } from "../../scripts/dev/demo-edition.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { startTestDnsServer } from "../support/dns-server.ts";
import { createTestEdition, type TestEdition } from "../support/editions.ts";
import { graphqlClient } from "../support/graphql-http.ts";
import { startTestStack } from "../support/stack.ts";

type Json = Record<string, any>;
const IIIF_CONTEXT = "http://iiif.io/api/presentation/3/context.json";
const CONFIRM = `mutation ($id: ID!) { confirmInstitutionDomain(institutionId: $id) { ... on DomainProof { proven checkedAt } } }`;

/**
 * The museum profile: a gallery names the institution the issuer registry binds the editions contract to (with
 * its proven domain), or says plainly that none stands behind it; each edition is also a Linked Art object, and a
 * museum's editions a IIIF Collection.
 */
describe("museum profile: the issuing museum, Linked Art and the IIIF Collection", () => {
  let dns: Awaited<ReturnType<typeof startTestDnsServer>>;
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let base: string;
  let demo: string;
  let stranger: TestEdition;

  beforeAll(async () => {
    dns = await startTestDnsServer();
    stack = await startTestStack({ DNS_SERVERS: dns.servers.join(",") });
    base = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    demo = stack.devInfo.contracts.CollectibleEditions!;
    // Deployed straight to the chain, bound to no institution: what anyone can do.
    stranger = await createTestEdition(stack, { name: "Counterfeit Lenses", maxSupply: 2, holders: [Wallet.createRandom().address], images: [{ label: "A lens", width: 16, height: 16 }] });
  }, 120_000);
  afterAll(async () => {
    await stack?.cleanup();
    await dns?.close();
  });

  const page = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { headers });
    expect(res.status, path).toBe(200);
    return res.text();
  };
  const json = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    expect(res.status, path).toBe(200);
    return { body: (await res.json()) as Json, type: res.headers.get("content-type"), cors: res.headers.get("access-control-allow-origin") };
  };

  it("a gallery of a contract no institution stands behind says so first, and its manifest names no provider", async () => {
    const html = await page(`/gallery/${stranger.contract}/${stranger.editionId}`);
    expect(html).toContain(`<section class="verdict invalid" id="issuer"`);
    expect(html).toContain("Not from a registered institution");
    expect(html).toContain("treat this edition as unofficial");
    expect(html.indexOf('id="issuer"')).toBeLessThan(html.indexOf("<h1"));
    const zh = await page(`/gallery/${stranger.contract}/${stranger.editionId}`, { "accept-language": "zh-CN,zh;q=0.9" });
    expect(zh).toContain('<html lang="zh-CN">');
    expect(zh).toContain("并非来自登记机构");
    const { body: manifest } = await json(`/iiif/${stranger.contract}/${stranger.editionId}/manifest.json`);
    expect(manifest.provider).toBeUndefined();
    const { body: collection } = await json(`/iiif/${stranger.contract}/collection.json`);
    expect(collection.summary.en[0]).toContain("no registered institution stands behind");
    const { body: object } = await json(`/gallery/${stranger.contract}/${stranger.editionId}/linked-art.json`);
    expect(JSON.stringify(object.referred_to_by ?? [])).not.toContain("Issued by");
  });

  it("the demo museum's gallery names its institution from the issuer registry, unproven until its domain is", async () => {
    const html = await page(`/gallery/${demo}/1`);
    expect(html).toContain(`<section class="verdict unknown" id="issuer"`);
    expect(html).toContain("Issued by <strong>Demo University</strong>, registered on this platform");
    expect(html).toContain("is not proven");

    // The institution proves its domain by DNS, as issuer identity does; the gallery then names the domain and date.
    const domain = "demo-museum.example";
    const [row] = await stack.db.db.select().from(institutions).where(eq(institutions.id, stack.devInfo.institutionId));
    const registry = issuerRegistryAt(stack.devInfo.contracts.IssuerRegistry!, new Wallet(DEV_KEYS.deployer, stack.provider));
    await (await registry.getFunction("updateInstitution")(BigInt(row!.chainInstitutionId!), "Demo University", domain)).wait();
    await stack.db.db.update(institutions).set({ identity: domain }).where(eq(institutions.id, row!.id));
    dns.records.set(`_hallmark.${domain}`, [[`hallmark-issuer chainId=31337 registry=${stack.devInfo.contracts.IssuerRegistry} institution=${row!.chainInstitutionId}`]]);
    const operator = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.operatorKey);
    const proof = (await operator.ok<{ confirmInstitutionDomain: { proven: boolean; checkedAt: string } }>(CONFIRM, { id: row!.id })).confirmInstitutionDomain;
    expect(proof.proven).toBe(true);

    const proven = await page(`/gallery/${demo}/1`);
    expect(proven).toContain(`<section class="verdict valid" id="issuer"`);
    expect(proven).toContain("Issued by <strong>Demo University</strong>");
    const day = new Date(proof.checkedAt);
    expect(proven).toContain(`its domain ${domain} was proven by DNS on ${new Intl.DateTimeFormat("en", { dateStyle: "long", timeZone: "UTC" }).format(day)}`);
    const zh = await page(`/gallery/${demo}/1?lang=zh-CN`);
    expect(zh).toContain("由<strong>Demo University</strong>发行");
    expect(zh).toContain(`其域名 ${domain} 已于${new Intl.DateTimeFormat("zh-CN", { dateStyle: "long", timeZone: "UTC" }).format(day)}通过 DNS 验证`);

    // The manifest names the museum as its provider, with the proven domain as its homepage.
    const { body: manifest } = await json(`/iiif/${demo}/1/manifest.json`);
    expect(manifest.provider).toEqual([
      { id: `${base}/gallery/${demo}/1#issuer`, type: "Agent", label: { none: ["Demo University"] }, homepage: [{ id: `https://${domain}/`, type: "Text", label: { none: ["Demo University"] }, format: "text/html" }] },
    ]);
  });

  it("each edition is a Linked Art HumanMadeObject: its names, images, IIIF manifest and credit line", async () => {
    const url = `/gallery/${demo}/1/linked-art.json`;
    const { body: object, type, cors } = await json(url);
    expect(type).toBe(`application/ld+json;profile="${LINKED_ART_CONTEXT}"`);
    expect(cors).toBe("*");
    expect(object["@context"]).toBe(LINKED_ART_CONTEXT);
    expect(object).toMatchObject({ id: `${base}${url}`, type: "HumanMadeObject" });
    const primary = object.identified_by.find((n: Json) => n.type === "Name");
    expect(primary.classified_as[0].id).toBe("http://vocab.getty.edu/aat/300404670");
    expect(primary.content).toBe(object._label);
    const { body: manifest } = await json(`/iiif/${demo}/1/manifest.json`);
    expect(Object.values(manifest.label as Record<string, string[]>)[0]![0]).toBe(primary.content);
    expect(object.identified_by).toContainEqual(expect.objectContaining({ type: "Identifier", content: `${demo}/1` }));
    // Every image is an access point that serves the pinned bytes.
    expect(object.representation).toHaveLength(DEMO_IMAGES.length);
    for (const visual of object.representation as Json[]) {
      const access = visual.digitally_shown_by[0].access_point[0].id as string;
      const res = await fetch(access);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(visual.digitally_shown_by[0].format);
    }
    const carriers = (object.subject_of as Json[]).flatMap((s) => s.digitally_carried_by.map((d: Json) => d.access_point[0].id));
    expect(carriers).toEqual([`${base}/iiif/${demo}/1/manifest.json`, `${base}/gallery/${demo}/1`]);
    const credit = (object.referred_to_by as Json[]).find((r) => r.classified_as[0]._label === "Credit Line");
    expect(credit?.content).toBe("Issued by Demo University (demo-museum.example)");
    // The manifest points back to it, and the gallery links both.
    expect(manifest.seeAlso).toContainEqual(expect.objectContaining({ id: `${base}${url}`, profile: LINKED_ART_CONTEXT }));
    const html = await page(`/gallery/${demo}/1`);
    expect(html).toContain(`href="${base}${url}"`);
    expect(html).toContain(`href="${base}/iiif/${demo}/collection.json"`);
  });

  it("a museum's editions form a IIIF Collection whose manifests point back to it", async () => {
    // A second edition on the demo contract, straight on chain like the first.
    const second = await createTestEdition(stack, { name: "Harbour Lights II", contract: demo, maxSupply: 3, holders: [Wallet.createRandom().address], images: [{ label: "A lamp", width: 16, height: 16 }] });
    const url = `/iiif/${demo}/collection.json`;
    const { body: collection, type, cors } = await json(url);
    expect(type).toBe(`application/ld+json;profile="${IIIF_CONTEXT}"`);
    expect(cors).toBe("*");
    expect(collection).toMatchObject({ "@context": IIIF_CONTEXT, id: `${base}${url}`, type: "Collection", label: { none: ["Demo University"] } });
    expect(collection.items.map((i: Json) => i.id)).toEqual([`${base}/iiif/${demo}/1/manifest.json`, `${base}/iiif/${demo}/${second.editionId}/manifest.json`]);
    expect(collection.items[1]).toEqual({ id: `${base}/iiif/${demo}/${second.editionId}/manifest.json`, type: "Manifest", label: { none: ["Harbour Lights II"] } });
    for (const item of collection.items as Json[]) {
      const manifest = (await (await fetch(item.id)).json()) as Json;
      expect(manifest.partOf).toEqual([{ id: `${base}${url}`, type: "Collection" }]);
    }
    // Addresses in another spelling redirect to the one the collection's id names; a non-address is a typed 400.
    const lower = await fetch(`${base}/iiif/${demo.toLowerCase()}/collection.json`, { redirect: "manual" });
    expect([lower.status, lower.headers.get("location")]).toEqual([301, `/iiif/${demo}/collection.json`]);
    const bad = await fetch(`${base}/iiif/0x1234/collection.json`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).error.code).toBe("BAD_USER_INPUT");
    const none = await fetch(`${base}/iiif/${Wallet.createRandom().address}/collection.json`);
    expect(none.status).toBe(404);
  });
});
