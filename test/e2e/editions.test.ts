import { randomUUID } from "node:crypto";
import { Contract, id, verifyTypedData, Wallet, ZeroAddress } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issuerRegistryAt } from "../../core/chain/issuer-registry.ts";
import { eq } from "drizzle-orm";
import { openSecret } from "../../core/custody/sealed.ts";
import { editionContracts, institutions } from "../../core/db/schema.ts";
import { readEditionFromChain } from "../../core/editions/index.ts";
import { VOUCHER_TYPES } from "../../core/editions/operations.ts";
import { encodePng } from "../../scripts/dev/demo-edition.ts";
import { createApiKey } from "../../server/auth/api-keys.ts";
import { collectibleEditionsInterface } from "../../core/editions/abi.ts";
import { graphqlClient } from "../support/graphql-http.ts";
import { decodeContractError } from "../../core/chain/contract-errors.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

const MEDIA_MAX_BYTES = 64 * 1024;
const HOSTILE_NAME = `<script>alert("x")</script> Ænigma — 港の灯 🌊 & "quotes"`;

const EDITION_FIELDS = `id status name description story maxSupply minted remaining transferPolicy lockupSeconds maxGifts metadataCid metadataUri
  contractAddress chainEditionId error galleryUrl manifestUrl images { cid uri label width height mediaType }
  dublinCore { title creator date subject rights identifier type format }`;
const CREATE = `mutation ($input: CreateEditionInput!) { createEdition(input: $input) { ... on CreateEditionPayload { created edition { ${EDITION_FIELDS} } } ... on Error { __typename code message field } } }`;
const EDITION = `query ($id: ID!) { edition(id: $id) { ${EDITION_FIELDS} } }`;
const OPERATION_FIELDS = "id kind status total sent minted progress error txHashes";
const AIRDROP = `mutation ($input: AirdropInput!) { airdrop(input: $input) { ... on EditionOperationPayload { created operation { ${OPERATION_FIELDS} } } ... on Error { __typename code message field } ... on EditionUnavailableError { itemsLeft itemsRequested } } }`;
const OPERATION = `query ($id: ID!) { editionOperation(id: $id) { ${OPERATION_FIELDS} } }`;
const CODES = `mutation ($input: CreateClaimCodesInput!) { createClaimCodes(input: $input) { ... on CreateClaimCodesPayload { created codes { id code expiresAt voucher { contract chainId editionId code deadline signature } } } ... on Error { __typename code message field } } }`;
const REDEEM = `mutation ($input: RedeemClaimCodeInput!) { redeemClaimCode(input: $input) { ... on EditionOperationPayload { created operation { ${OPERATION_FIELDS} } } ... on Error { __typename code message field } } }`;

const stripes = (a: [number, number, number], b: [number, number, number]) => (x: number, y: number) => (((x >> 2) + (y >> 2)) % 2 ? a : b);

describe("collectible editions over HTTP", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let gql: ReturnType<typeof graphqlClient>;
  let base: string;
  let apiKey: string;

  const upload = (bytes: Uint8Array, opts: { type?: string; name?: string; key?: string | null; csrf?: boolean } = {}) => {
    const form = new FormData();
    form.set("file", new Blob([new Uint8Array(bytes)], { type: opts.type ?? "image/png" }), opts.name ?? "image.png");
    const headers: Record<string, string> = {};
    if (opts.key !== null) headers.authorization = `Bearer ${opts.key ?? apiKey}`;
    if (opts.csrf !== false) headers["x-graphql-csrf"] = "1";
    return fetch(`${base}/media`, { method: "POST", headers, body: form }).then(async (res) => ({ status: res.status, body: (await res.json()) as any }));
  };

  beforeAll(async () => {
    // A low gas cap, so an airdrop of 150 holders takes several transactions.
    stack = await startTestStack({ TX_GAS_CAP: "3000000", MEDIA_MAX_BYTES: String(MEDIA_MAX_BYTES) });
    apiKey = stack.devInfo.apiKey;
    gql = graphqlClient(stack.devInfo.graphqlUrl, apiKey);
    base = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const pngs = [encodePng(48, 32, stripes([200, 40, 40], [250, 240, 220])), encodePng(20, 30, stripes([20, 60, 140], [240, 200, 80]))];
  let uploaded: { cid: string; size: number; mediaType: string; width: number; height: number }[] = [];

  it("POST /media stores PNGs on IPFS and answers CID, size, media type and pixel size", async () => {
    for (const png of pngs) {
      // The declared type is ignored: the bytes decide.
      const { status, body } = await upload(png, { type: "application/octet-stream", name: "x.bin" });
      expect(status).toBe(201);
      expect(body).toMatchObject({ size: png.length, mediaType: "image/png", uri: `ipfs://${body.cid}` });
      uploaded.push(body);
      const chunks: Uint8Array[] = [];
      for await (const chunk of stack.ipfs.cat(body.cid)) chunks.push(chunk);
      const stored = Buffer.concat(chunks);
      expect(stored.equals(Buffer.from(png))).toBe(true);
    }
    expect(uploaded.map((u) => [u.width, u.height])).toEqual([[48, 32], [20, 30]]);
  });

  it("POST /media refuses wrong types (415), oversized files (413), missing CSRF header and keys", async () => {
    const text = await upload(new TextEncoder().encode("<svg onload=alert(1)></svg>"), { type: "image/png" });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    const big = encodePng(256, 256, (x, y) => [(x * 7919 + y * 104729) % 251, (x * y) % 253, (x ^ y) & 255]);
    expect(big.length).toBeGreaterThan(MEDIA_MAX_BYTES);
    const oversized = await upload(big);
    expect(oversized.status).toBe(413);
    expect(oversized.body.error.code).toBe("FILE_TOO_LARGE");
    const noCsrf = await upload(pngs[0]!, { csrf: false });
    expect([noCsrf.status, noCsrf.body.error.code]).toEqual([400, "CSRF_PREVENTED"]);
    const anonymous = await upload(pngs[0]!, { key: null });
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, "UNAUTHENTICATED"]);
    const readOnly = (await createApiKey(stack.db.db, { institutionId: stack.devInfo.institutionId, name: "ro", scopes: ["read"] })).key;
    const forbidden = await upload(pngs[0]!, { key: readOnly });
    expect([forbidden.status, forbidden.body.error.code]).toEqual([403, "FORBIDDEN"]);
  });

  let edition: any;
  const input = () => ({
    name: HOSTILE_NAME,
    description: "Two drawn pictures from the harbour <b>exhibition</b>.",
    story: "The lamps guided boats home.\n\nEach item is numbered.",
    images: uploaded.map((u, i) => ({ cid: u.cid, label: `Picture ${i + 1} <i>detail</i>` })),
    dublinCore: { creator: ["Demo Museum"], date: ["2024"], subject: ["Harbours", "Lamps"], rights: ["https://creativecommons.org/licenses/by/4.0/"], identifier: ["DM.2024.E2E"], type: ["StillImage"], format: ["image/png"] },
    maxSupply: 153,
    transferPolicy: "GIFT_AFTER_LOCKUP",
    lockupSeconds: 3600,
    maxGifts: 2,
    idempotencyKey: "edition-e2e-1",
  });

  it("createEdition queues an edition that the worker pins and creates on chain (EditionCreated)", async () => {
    const res = await gql.ok(CREATE, { input: input() });
    expect(res.createEdition.created).toBe(true);
    expect(res.createEdition.edition.status).toBe("QUEUED");
    const again = await gql.ok(CREATE, { input: input() });
    expect(again.createEdition).toMatchObject({ created: false, edition: { id: res.createEdition.edition.id } });
    const conflict = await gql.fails(CREATE, { input: { ...input(), maxSupply: 10 } });
    expect(conflict.code).toBe("IDEMPOTENCY_CONFLICT");

    edition = (await waitFor(() => gql.ok(EDITION, { id: res.createEdition.edition.id }), (d) => ["CONFIRMED", "FAILED"].includes(d.edition.status), 60_000)).edition;
    expect(edition.error).toBeNull();
    expect(edition).toMatchObject({ status: "CONFIRMED", name: HOSTILE_NAME, maxSupply: 153, minted: 0, transferPolicy: "GIFT_AFTER_LOCKUP", lockupSeconds: 3600, maxGifts: 2 });
    expect(edition.dublinCore).toMatchObject({ title: [HOSTILE_NAME], creator: ["Demo Museum"], subject: ["Harbours", "Lamps"] });
    expect(edition.images.map((i: any) => [i.cid, i.width, i.height, i.mediaType])).toEqual(uploaded.map((u) => [u.cid, u.width, u.height, "image/png"]));
    expect(edition.galleryUrl).toBe(`${base}/gallery/${edition.contractAddress}/${edition.chainEditionId}`);
    expect(edition.manifestUrl).toBe(`${base}/iiif/${edition.contractAddress}/${edition.chainEditionId}/manifest.json`);
    const onChain = await readEditionFromChain(stack.provider, edition.contractAddress, BigInt(edition.chainEditionId));
    expect(onChain).toMatchObject({ name: HOSTILE_NAME, uri: edition.metadataUri, maxSupply: 153, policy: "GiftAfterLockup" });
  }, 90_000);

  const holders = Array.from({ length: 150 }, (_, i) => new Wallet(id(`editions e2e holder ${i}`)).address);

  it("airdrop to 150 holders: one operation, several transactions under the gas cap, serials #1..#150 in order", async () => {
    const res = await gql.ok(AIRDROP, { input: { editionId: edition.id, holders: holders.map((h, i) => (i % 2 ? h.toLowerCase() : h)), idempotencyKey: "airdrop-150" } });
    expect(res.airdrop.operation).toMatchObject({ kind: "AIRDROP", status: "QUEUED", total: 150, minted: 0 });
    const done = (await waitFor(() => gql.ok(OPERATION, { id: res.airdrop.operation.id }), (d) => ["CONFIRMED", "FAILED"].includes(d.editionOperation.status), 120_000)).editionOperation;
    expect(done.error).toBeNull();
    expect(done).toMatchObject({ status: "CONFIRMED", total: 150, sent: 150, minted: 150, progress: 1 });
    expect(done.txHashes.length).toBeGreaterThan(1);
    for (const hash of done.txHashes) {
      const receipt = await stack.provider.getTransactionReceipt(hash);
      expect(receipt!.gasUsed).toBeLessThanOrEqual(3_000_000n);
    }
    const onChain = await readEditionFromChain(stack.provider, edition.contractAddress, BigInt(edition.chainEditionId));
    expect(onChain.items.map((i) => i.serial)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(onChain.items.map((i) => i.holder)).toEqual(holders);
    const after = (await gql.ok(EDITION, { id: edition.id })).edition;
    expect(after).toMatchObject({ minted: 150, remaining: 3 });
    const again = await gql.ok(AIRDROP, { input: { editionId: edition.id, holders, idempotencyKey: "airdrop-150" } });
    expect(again.airdrop).toMatchObject({ created: false, operation: { id: res.airdrop.operation.id } });
  }, 150_000);

  it("the gallery page and IIIF manifest show the edition from the chain, its name escaped, never executed", async () => {
    const page = await fetch(edition.galleryUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toContain(`<script>alert("x")</script>`);
    expect(html).not.toContain("<i>detail</i>");
    expect(html).toContain("&lt;script&gt;");
    expect(html).toContain("Ænigma — 港の灯 🌊");
    expect(html).toMatch(/150/);
    const manifest = await fetch(edition.manifestUrl);
    expect(manifest.status).toBe(200);
    const doc = (await manifest.json()) as { items: unknown[]; label: Record<string, string[]> };
    expect(doc.items).toHaveLength(2);
    expect(JSON.stringify(doc.label)).toContain("Ænigma");
  });

  it("the worker binds the editions contract it created to the institution, so the gallery names the museum", async () => {
    // The binding is its own transaction after the contract's creation: minting never waits for it.
    const deadline = Date.now() + 30_000;
    let html = "";
    while (Date.now() < deadline) {
      html = await (await fetch(edition.galleryUrl)).text();
      if (html.includes('id="issuer"') && !html.includes("Not from a registered institution")) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(html).toContain("Issued by <strong>Demo University</strong>, registered on this platform");
    const registry = issuerRegistryAt(stack.devInfo.contracts.IssuerRegistry!, stack.provider);
    const [certificates, editions] = await Promise.all([registry.institutionOf!(stack.devInfo.contracts.CertificateRegistry), registry.institutionOf!(edition.contractAddress)]);
    expect(editions).toBe(certificates);
  });

  let code: string;
  let voucher: { editionId: string; code: string; deadline: number; signature: string };

  it("createClaimCodes: codes shown once, each with an EIP-712 voucher signed by the contract's voucher signer, which is no issuer", async () => {
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const res = await gql.ok(CODES, { input: { editionId: edition.id, count: 1, expiresAt, idempotencyKey: "codes-1" } });
    const [c] = res.createClaimCodes.codes;
    code = c.code;
    expect(code).toMatch(/^hm-claim-/);
    const v = c.voucher;
    voucher = v;
    expect(v).toMatchObject({ contract: edition.contractAddress, editionId: edition.chainEditionId, deadline: Math.floor(Date.parse(expiresAt) / 1000) });
    const contract = new Contract(edition.contractAddress, collectibleEditionsInterface(), stack.provider);
    const domain = { name: await contract.name!(), version: "1", chainId: v.chainId, verifyingContract: v.contract };
    const signer = verifyTypedData(domain, VOUCHER_TYPES, { editionId: BigInt(v.editionId), code: v.code, deadline: BigInt(v.deadline) }, v.signature);
    // The voucher key holds only the voucher-signer role: it cannot airdrop, redeem for others or move items.
    expect(await contract.hasRole!(await contract.VOUCHER_SIGNER_ROLE!(), signer)).toBe(true);
    expect(await contract.hasRole!(await contract.ISSUER_ROLE!(), signer)).toBe(false);
    // The voucher key is kept sealed: the database row alone cannot sign a voucher.
    const [stored] = await stack.db.db.select().from(editionContracts).where(eq(editionContracts.contractAddress, edition.contractAddress));
    expect(stored!.voucherSignerKey).toMatch(/^sealed:v1:/);
    expect(new Wallet(openSecret(stored!.voucherSignerKey, stack.custody.keyring())).address).toBe(signer);
    expect(await contract.voucherDigest!({ editionId: v.editionId, code: v.code, deadline: v.deadline })).toMatch(/^0x/);
    const again = await gql.ok(CODES, { input: { editionId: edition.id, count: 1, expiresAt, idempotencyKey: "codes-1" } });
    expect(again.createClaimCodes.created).toBe(false);
    expect(again.createClaimCodes.codes[0]).toMatchObject({ id: c.id, code: null, voucher: null });
  });

  it("redeemClaimCode mints one item to the holder once; a second redemption is CLAIM_CODE_USED", async () => {
    const holder = new Wallet(id("editions e2e claimer")).address;
    const res = await gql.ok(REDEEM, { input: { code, holder, idempotencyKey: "redeem-1" } });
    expect(res.redeemClaimCode.operation).toMatchObject({ kind: "CLAIM", total: 1 });
    const done = (await waitFor(() => gql.ok(OPERATION, { id: res.redeemClaimCode.operation.id }), (d) => ["CONFIRMED", "FAILED"].includes(d.editionOperation.status), 60_000)).editionOperation;
    expect(done).toMatchObject({ status: "CONFIRMED", minted: 1, error: null });
    const onChain = await readEditionFromChain(stack.provider, edition.contractAddress, BigInt(edition.chainEditionId));
    expect(onChain.items.at(-1)).toMatchObject({ serial: 151, holder });
    expect((await gql.fails(REDEEM, { input: { code, holder, idempotencyKey: "redeem-2" } })).code).toBe("CLAIM_CODE_USED");
    // Redeemed through the API, the code's signed voucher is spent on chain too: it cannot mint a second item.
    const contract = new Contract(edition.contractAddress, collectibleEditionsInterface(), stack.provider);
    expect(await contract.voucherUsed!(voucher.code)).toBe(true);
    const claim = contract.claim!.staticCall({ editionId: voucher.editionId, code: voucher.code, deadline: voucher.deadline }, voucher.signature, { from: holder });
    await expect(claim).rejects.toSatisfy((err: unknown) => decodeContractError(err, collectibleEditionsInterface())?.name === "VoucherAlreadyUsed");
    // Its history says the institution minted it for the holder (not that the holder claimed it on chain).
    const item = await gql.ok(`query ($id: ID!) { edition(id: $id) { item(serial: 151) { holder history { kind to } } } }`, { id: edition.id });
    expect(item.edition.item).toEqual({ holder, history: [{ kind: "MINTED", to: holder }] });
    expect((await gql.fails(REDEEM, { input: { code: "hm-claim-nonsense", holder, idempotencyKey: "redeem-3" } })).code).toBe("CLAIM_CODE_INVALID");
  }, 90_000);

  it("an expired claim code is CLAIM_CODE_EXPIRED", async () => {
    const res = await gql.ok(CODES, { input: { editionId: edition.id, count: 1, expiresAt: new Date(Date.now() + 1500).toISOString(), idempotencyKey: "codes-short" } });
    await new Promise((r) => setTimeout(r, 2000));
    const holder = new Wallet(id("editions e2e late claimer")).address;
    expect((await gql.fails(REDEEM, { input: { code: res.createClaimCodes.codes[0].code, holder, idempotencyKey: "redeem-late" } })).code).toBe("CLAIM_CODE_EXPIRED");
  });

  it("an airdrop the edition cannot fill is EDITION_SOLD_OUT before anything is queued", async () => {
    // 153 items: 150 airdropped, 2 claim codes; one left.
    const sold = await gql.fails(AIRDROP, { input: { editionId: edition.id, holders: holders.slice(0, 2), idempotencyKey: "airdrop-too-many" } });
    expect(sold.code).toBe("EDITION_SOLD_OUT");
    expect(sold).toMatchObject({ typed: true, typename: "EditionUnavailableError", extensions: { itemsLeft: 1, itemsRequested: 2 } });
    expect((await gql.fails(CODES, { input: { editionId: edition.id, count: 2, expiresAt: new Date(Date.now() + 60_000).toISOString(), idempotencyKey: "codes-too-many" } })).code).toBe("EDITION_SOLD_OUT");
    expect((await gql.ok(EDITION, { id: edition.id })).edition.remaining).toBe(1);
  });

  it("bad inputs answer typed errors: malformed and zero addresses, wrong types, unknown images, impossible supplies", async () => {
    const bad = await gql.fails(AIRDROP, { input: { editionId: edition.id, holders: [holders[0], "0x1234"], idempotencyKey: "bad-1" } });
    expect([bad.code, bad.extensions.field]).toEqual(["BAD_USER_INPUT", "holders[1]"]);
    const zero = await gql.fails(AIRDROP, { input: { editionId: edition.id, holders: [ZeroAddress], idempotencyKey: "bad-2" } });
    expect([zero.code, zero.extensions.field]).toEqual(["BAD_USER_INPUT", "holders[0]"]);
    const checksum = await gql.fails(AIRDROP, { input: { editionId: edition.id, holders: [holders[0]!.replace(/[a-f]/, (c) => c.toUpperCase())], idempotencyKey: "bad-3" } });
    expect(checksum.code).toBe("BAD_USER_INPUT");
    const wrongType = await gql.raw(CREATE, { input: { ...input(), maxSupply: "many", idempotencyKey: "bad-4" } });
    expect(wrongType.body.errors?.[0]?.message).toMatch(/maxSupply/);
    const wrongPolicy = await gql.raw(CREATE, { input: { ...input(), transferPolicy: "SELLABLE", idempotencyKey: "bad-5" } });
    expect(wrongPolicy.body.errors?.length).toBeGreaterThan(0);
    const zeroSupply = await gql.fails(CREATE, { input: { ...input(), maxSupply: 0, idempotencyKey: "bad-6" } });
    expect([zeroSupply.code, zeroSupply.extensions.field]).toEqual(["BAD_USER_INPUT", "maxSupply"]);
    const unknownImage = await gql.fails(CREATE, { input: { ...input(), images: [{ cid: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", label: "x" }], idempotencyKey: "bad-7" } });
    expect([unknownImage.code, unknownImage.extensions.field]).toEqual(["NOT_FOUND", "images[0].cid"]);
    const noName = await gql.fails(CREATE, { input: { ...input(), name: "   ", idempotencyKey: "bad-8" } });
    expect([noName.code, noName.extensions.field]).toEqual(["BAD_USER_INPUT", "name"]);
    const lockedGifts = await gql.fails(CREATE, { input: { ...input(), transferPolicy: "LOCKED", idempotencyKey: "bad-9" } });
    expect(lockedGifts.code).toBe("BAD_USER_INPUT");
    const pastExpiry = await gql.fails(CODES, { input: { editionId: edition.id, count: 1, expiresAt: new Date(Date.now() - 1000).toISOString(), idempotencyKey: "bad-10" } });
    expect([pastExpiry.code, pastExpiry.extensions.field]).toEqual(["BAD_USER_INPUT", "expiresAt"]);
    const tooMany = await gql.fails(AIRDROP, { input: { editionId: edition.id, holders: Array(10_001).fill(holders[0]), idempotencyKey: "bad-11" } });
    expect(tooMany.code).toBe("BAD_USER_INPUT");
  });

  it("another institution's edition is NOT_FOUND, and its claim codes are CLAIM_CODE_INVALID", async () => {
    const [other] = await stack.db.db.insert(institutions).values({ name: "Other Museum", slug: `other-${randomUUID().slice(0, 8)}` }).returning();
    const otherKey = (await createApiKey(stack.db.db, { institutionId: other!.id, name: "other", scopes: ["read", "issue"] })).key;
    const otherGql = graphqlClient(stack.devInfo.graphqlUrl, otherKey);
    expect((await otherGql.fails(EDITION, { id: edition.id })).code).toBe("NOT_FOUND");
    expect((await otherGql.fails(AIRDROP, { input: { editionId: edition.id, holders: [holders[0]], idempotencyKey: "x" } })).code).toBe("NOT_FOUND");
    expect((await otherGql.fails(CODES, { input: { editionId: edition.id, count: 1, expiresAt: new Date(Date.now() + 60_000).toISOString(), idempotencyKey: "x" } })).code).toBe("NOT_FOUND");
    expect((await otherGql.fails(OPERATION, { id: edition.id })).code).toBe("NOT_FOUND");
    const list = await otherGql.ok("{ editions(first: 10) { totalCount edges { node { id } } } }");
    expect(list.editions.totalCount).toBe(0);
    // Its own images: the other institution cannot use this one's uploads.
    const borrowed = await otherGql.fails(CREATE, { input: { ...input(), idempotencyKey: "borrowed" } });
    expect(borrowed.code).toBe("NOT_FOUND");
  });
});
