import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Contract, parseEther, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { DEMO_HOLDERS, DEMO_IMAGES, DEMO_EDITION_SIZE } from "../../scripts/dev/demo-edition.ts";
import { createTestEdition, type TestEdition } from "../support/editions.ts";
import { startTestStack } from "../support/stack.ts";

const IIIF_CONTEXT = "http://iiif.io/api/presentation/3/context.json";
const IIIF_TYPE = `application/ld+json;profile="${IIIF_CONTEXT}"`;

type Json = Record<string, any>;

/** A IIIF language map: an object whose keys are language tags or "none", each naming a non-empty list of strings. */
function expectLanguageMap(value: unknown, where: string): void {
  expect(value, where).toBeTypeOf("object");
  const entries = Object.entries(value as object);
  expect(entries.length, where).toBeGreaterThan(0);
  for (const [lang, list] of entries) {
    expect(lang, where).toMatch(/^(none|[a-z]{2,3}(-[A-Za-z0-9]{1,8})*)$/);
    expect(Array.isArray(list) && list.length > 0 && list.every((s) => typeof s === "string" && s.length > 0), `${where}.${lang}`).toBe(true);
  }
}

/**
 * The Presentation 3 rules a viewer relies on, checked structurally: context, absolute ids, types, language maps,
 * one Canvas per image with integer dimensions, each painted by one Image annotation of the same size.
 */
function expectPresentation3Manifest(m: Json, manifestUrl: string): void {
  expect(m["@context"]).toBe(IIIF_CONTEXT);
  expect(m.id).toBe(manifestUrl);
  expect(m.type).toBe("Manifest");
  expectLanguageMap(m.label, "label");
  if (m.summary) expectLanguageMap(m.summary, "summary");
  expect(Array.isArray(m.metadata)).toBe(true);
  for (const [i, entry] of (m.metadata as Json[]).entries()) {
    expect(Object.keys(entry).sort(), `metadata[${i}]`).toEqual(["label", "value"]);
    expectLanguageMap(entry.label, `metadata[${i}].label`);
    expectLanguageMap(entry.value, `metadata[${i}].value`);
  }
  if (m.requiredStatement) {
    expectLanguageMap(m.requiredStatement.label, "requiredStatement.label");
    expectLanguageMap(m.requiredStatement.value, "requiredStatement.value");
  }
  expect(Array.isArray(m.items) && m.items.length > 0).toBe(true);
  const ids = new Set<string>([m.id]);
  for (const [i, canvas] of (m.items as Json[]).entries()) {
    const at = `items[${i}]`;
    expect(canvas.type, at).toBe("Canvas");
    expect(canvas.id, at).toMatch(/^https?:\/\//);
    expect(ids.has(canvas.id), `${at} id is unique`).toBe(false);
    ids.add(canvas.id);
    expectLanguageMap(canvas.label, `${at}.label`);
    expect(Number.isInteger(canvas.width) && canvas.width > 0, `${at}.width`).toBe(true);
    expect(Number.isInteger(canvas.height) && canvas.height > 0, `${at}.height`).toBe(true);
    expect(canvas.items, `${at}.items`).toHaveLength(1);
    const page = canvas.items[0];
    expect(page.type).toBe("AnnotationPage");
    expect(page.id).toMatch(/^https?:\/\//);
    expect(ids.has(page.id)).toBe(false);
    ids.add(page.id);
    expect(page.items).toHaveLength(1);
    const annotation = page.items[0];
    expect(annotation.type).toBe("Annotation");
    expect(annotation.motivation).toBe("painting");
    expect(annotation.id).toMatch(/^https?:\/\//);
    expect(ids.has(annotation.id)).toBe(false);
    ids.add(annotation.id);
    expect(annotation.target).toBe(canvas.id);
    const body = annotation.body;
    expect(body.type).toBe("Image");
    expect(body.id).toMatch(/^https?:\/\/[^/]+\/ipfs\/[a-z2-7]+$/);
    expect(body.format).toMatch(/^image\//);
    expect([body.width, body.height]).toEqual([canvas.width, canvas.height]);
  }
}

describe("museum galleries and their IIIF manifests", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let base: string;
  let edition: TestEdition;
  const holders = [Wallet.createRandom().address, Wallet.createRandom().address];

  beforeAll(async () => {
    stack = await startTestStack();
    base = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    edition = await createTestEdition(stack, {
      name: "Lighthouse Lenses",
      maxSupply: 5,
      holders,
      images: [
        { label: "A Fresnel lens seen from the front", width: 64, height: 48 },
        { label: "The lens room, drawn in plan", width: 40, height: 90, omitSize: true },
      ],
      story: "First paragraph.\n\nSecond paragraph.",
      dublinCore: { creator: "Test Museum", date: "1890", rights: ["https://creativecommons.org/publicdomain/zero/1.0/"], language: "en" },
    });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("publishes a IIIF Presentation 3 manifest whose images are the pinned bytes", async () => {
    const url = `${base}/iiif/${edition.contract}/${edition.editionId}/manifest.json`;
    const res = await fetch(url, { headers: { Origin: "https://viewer.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(IIIF_TYPE);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const manifest = (await res.json()) as Json;
    expectPresentation3Manifest(manifest, url);

    expect(manifest.label).toEqual({ en: ["Lighthouse Lenses"] });
    expect(manifest.requiredStatement.value).toEqual({ en: ["https://creativecommons.org/publicdomain/zero/1.0/"] });
    expect(manifest.rights).toBe("https://creativecommons.org/publicdomain/zero/1.0/");
    expect(manifest.metadata).toContainEqual({ label: { en: ["Creator"], "zh-CN": ["创作者"] }, value: { en: ["Test Museum"] } });
    expect(manifest.items).toHaveLength(2);
    for (const [i, canvas] of (manifest.items as Json[]).entries()) {
      const image = edition.images[i]!;
      // The second image's size is not in its metadata: it was read from the PNG header.
      expect([canvas.width, canvas.height]).toEqual([image.width, image.height]);
      expect(canvas.label).toEqual({ en: [image.label] });
      const body = canvas.items[0].items[0].body;
      expect(body.id).toBe(`${base}/ipfs/${image.cid}`);
      expect(body.format).toBe("image/png");
      const served = await fetch(body.id);
      expect(served.status).toBe(200);
      expect(served.headers.get("content-type")).toBe("image/png");
      expect(Buffer.from(await served.arrayBuffer()).equals(Buffer.from(image.bytes))).toBe(true);
    }
  });

  it("answers a CORS preflight for the manifest", async () => {
    const res = await fetch(`${base}/iiif/${edition.contract}/${edition.editionId}/manifest.json`, {
      method: "OPTIONS",
      headers: { Origin: "https://viewer.example", "Access-Control-Request-Method": "GET" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("shows the gallery page: images from IPFS, serials, story, record, held count and the manifest link", async () => {
    const res = await fetch(`${base}/gallery/${edition.contract}/${edition.editionId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await res.text();
    expect(page).toContain("<h1 lang=\"en\">Lighthouse Lenses</h1>");
    expect(page).toContain("2 of 5 held");
    expect(page).toContain("#1 / 5");
    expect(page).toContain("#2 / 5");
    expect(page).not.toContain("#3 / 5");
    for (const holder of holders) expect(page).toContain(holder);
    for (const image of edition.images) {
      expect(page).toContain(`<img src="/ipfs/${image.cid}" alt="${image.label}" width="${image.width}" height="${image.height}"`);
    }
    expect(page).toContain("<p lang=\"en\">Second paragraph.</p>");
    expect(page).toMatch(/<th scope="row">Creator <span class="visually-hidden">\(dc:creator\)<\/span><\/th><td lang="en">Test Museum<\/td>/);
    expect(page).toContain(`href="${base}/iiif/${edition.contract}/${edition.editionId}/manifest.json"`);
    expect(page).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|localhost|creativecommons\.org)[^"'\s<]+\.(css|js|woff2?)/);
  });

  it("names each item's current holder, after a gift moves it", async () => {
    const giver = Wallet.createRandom().connect(stack.provider);
    const receiver = Wallet.createRandom().address;
    const gifts = await createTestEdition(stack, {
      name: "Gift edition",
      contract: edition.contract,
      maxSupply: 3,
      policy: 1, // GiftAfterLockup
      lockup: 0,
      maxGifts: 1,
      holders: [giver.address],
      images: [{ label: "A gift", width: 16, height: 16 }],
    });
    const funder = new Wallet(DEV_KEYS.deployer, stack.provider);
    await (await funder.sendTransaction({ to: giver.address, value: parseEther("1") })).wait();
    const asGiver = gifts.editions.connect(giver) as Contract;
    const [tokenId] = (await gifts.editions.queryFilter(gifts.editions.filters.ItemMinted!(gifts.editionId))).map((l) => (l as unknown as { args: { tokenId: bigint } }).args.tokenId);
    await (await asGiver.transferFrom!(giver.address, receiver, tokenId)).wait();

    const page = await (await fetch(`${base}/gallery/${gifts.contract}/${gifts.editionId}`)).text();
    expect(page).toContain("1 of 3 held");
    expect(page).toContain(`#1 / 3</span>\n      <span class="holder">Held by <span class="mono">${receiver}</span>`);
    expect(page).not.toContain(giver.address);
  });

  it("sets up the dev stack's demo edition once, with real PNGs, and writes its contract to dev.json", async () => {
    const info = JSON.parse(readFileSync(join(stack.dataDir, "dev.json"), "utf8"));
    const contract = info.contracts.CollectibleEditions as string;
    expect(contract).toMatch(/^0x[0-9a-fA-F]{40}$/);
    const url = `${base}/iiif/${contract}/1/manifest.json`;
    const manifest = (await (await fetch(url)).json()) as Json;
    expectPresentation3Manifest(manifest, url);
    expect(manifest.items.map((c: Json) => [c.width, c.height])).toEqual(DEMO_IMAGES.map((i) => [i.width, i.height]));
    const page = await (await fetch(`${base}/gallery/${contract}/1`)).text();
    expect(page).toContain(`${DEMO_HOLDERS.length} of ${DEMO_EDITION_SIZE} held`);
  });

  it("answers 404 for an edition or contract that does not exist", async () => {
    const missing = [`${edition.contract}/999`, `${edition.contract}/0`, `${Wallet.createRandom().address}/1`, `${stack.devInfo.contracts.CertificateRegistry}/1`];
    for (const path of missing) {
      const page = await fetch(`${base}/gallery/${path}`);
      expect(page.status, path).toBe(404);
      expect(await page.text()).toContain("No such edition");
      const manifest = await fetch(`${base}/iiif/${path}/manifest.json`);
      expect(manifest.status, path).toBe(404);
      expect(manifest.headers.get("access-control-allow-origin")).toBe("*");
      expect((await manifest.json()).error.code).toBe("NOT_FOUND");
    }
  });

  it("answers 400 for a malformed address or id, and redirects other spellings to the canonical URL", async () => {
    const lower = edition.contract.toLowerCase();
    const badChecksum = edition.contract.replace(/[a-f]/, (c) => c.toUpperCase()).replace(/[A-F]/, (c) => c.toLowerCase());
    for (const path of ["0x1234/1", `${lower}/one`, `${lower}/-1`, `${lower}/1.5`, `${"0x" + "g".repeat(40)}/1`, `${lower}/${"9".repeat(79)}`, `${badChecksum}/1`]) {
      if (path.startsWith(badChecksum) && badChecksum === edition.contract) continue;
      expect((await fetch(`${base}/gallery/${path}`)).status, path).toBe(400);
      const manifest = await fetch(`${base}/iiif/${path}/manifest.json`);
      expect(manifest.status, path).toBe(400);
      expect((await manifest.json()).error.code).toBe("BAD_USER_INPUT");
    }
    const redirected = await fetch(`${base}/iiif/${lower}/0${edition.editionId}/manifest.json`, { redirect: "manual" });
    expect(redirected.status).toBe(301);
    expect(redirected.headers.get("location")).toBe(`/iiif/${edition.contract}/${edition.editionId}/manifest.json`);
    const page = await fetch(`${base}/gallery/${lower}/${edition.editionId}`);
    expect(page.url).toBe(`${base}/gallery/${edition.contract}/${edition.editionId}`);
    expect(page.status).toBe(200);
  });

  it("says what is wrong when an edition's metadata is not edition metadata", async () => {
    const broken = await createTestEdition(stack, {
      contract: edition.contract,
      maxSupply: 1,
      holders: [],
      images: [],
      rawMetadata: new TextEncoder().encode(JSON.stringify({ name: "No images", images: [] })),
    });
    const res = await fetch(`${base}/iiif/${broken.contract}/${broken.editionId}/manifest.json`);
    expect(res.status).toBe(502);
    const { error } = await res.json();
    expect(error.code).toBe("METADATA_UNUSABLE");
    expect(error.problems).toEqual(expect.arrayContaining(["images: must list at least one image", "description: is required"]));
    const page = await fetch(`${base}/gallery/${broken.contract}/${broken.editionId}`);
    expect(page.status).toBe(502);
    expect(await page.text()).toContain("images: must list at least one image");
  });
});
