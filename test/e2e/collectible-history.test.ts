import { randomUUID } from "node:crypto";
import { Contract, Wallet, type JsonRpcProvider } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { institutions } from "../../core/db/schema.ts";
import { readCollectibleHistories } from "../../core/editions/index.ts";
import { encodePng } from "../../scripts/dev/demo-edition.ts";
import { createApiKey } from "../../server/auth/api-keys.ts";
import { createTestEdition } from "../support/editions.ts";
import { graphqlClient } from "../support/graphql-http.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

const EVENT = "kind from to at txHash blockNumber";
const COLLECTIBLE_FIELDS = `contract tokenId editionId editionName serial maxSupply transferPolicy holder history { ${EVENT} }`;
const COLLECTIBLE = `query ($contract: String!, $tokenId: String!) { collectible(contract: $contract, tokenId: $tokenId) { ${COLLECTIBLE_FIELDS} } }`;
const ITEM = `query ($id: ID!, $serial: Int!) { edition(id: $id) { item(serial: $serial) { ${COLLECTIBLE_FIELDS} } } }`;
const HOLDER = `query { holder { address collectibles { contract tokenId editionId serial maxSupply history { ${EVENT} } } } }`;
const CREATE = `mutation ($input: CreateEditionInput!) { createEdition(input: $input) { ... on CreateEditionPayload { edition { id } } ... on Error { __typename code message field } } }`;
const EDITION = `query ($id: ID!) { edition(id: $id) { id status contractAddress chainEditionId error } }`;
const AIRDROP = `mutation ($input: AirdropInput!) { airdrop(input: $input) { ... on EditionOperationPayload { operation { id } } ... on Error { __typename code message field } } }`;
const OPERATION = `query ($id: ID!) { editionOperation(id: $id) { status error txHashes } }`;
const CODES = `mutation ($input: CreateClaimCodesInput!) { createClaimCodes(input: $input) { ... on CreateClaimCodesPayload { codes { voucher { editionId code deadline signature } } } ... on Error { __typename code message field } } }`;
const CHALLENGE = `mutation ($address: String!) { requestHolderSignIn(address: $address) { ... on HolderSignInChallenge { message nonce } ... on Error { __typename code message field } } }`;
const SIGN_IN = `mutation ($nonce: String!, $signature: String!) { holderSignIn(nonce: $nonce, signature: $signature) { ... on HolderSession { token } ... on Error { __typename code message field } } }`;

const HOLDER_ABI = [
  "function transferFrom(address from, address to, uint256 tokenId)",
  "function claim((uint256 editionId, bytes32 code, uint64 deadline) voucher, bytes signature) returns (uint256)",
  "function ownerOf(uint256 tokenId) view returns (address)",
];
const LOCKUP = 3600;

describe("collectible history over HTTP, read from the chain", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let gql: ReturnType<typeof graphqlClient>;
  let provider: JsonRpcProvider;
  let edition: { id: string; contractAddress: string; chainEditionId: string };
  let airdropTx: string;
  // The visitor who receives serial #1 and gives it away, the friend who receives it, one who claims on chain.
  let visitor: Wallet;
  let friend: Wallet;
  let claimer: Wallet;
  let claimTx: string;

  /** A wallet of its own, with gas money (EDR's balance setter: test set-up only). */
  const wallet = async () => {
    const w = Wallet.createRandom().connect(provider) as unknown as Wallet;
    await provider.send("hardhat_setBalance", [w.address, "0x8AC7230489E80000"]);
    return w;
  };

  const signedIn = async (w: Wallet) => {
    const anonymous = graphqlClient(stack.devInfo.graphqlUrl);
    const { requestHolderSignIn: c } = await anonymous.ok(CHALLENGE, { address: w.address });
    const { holderSignIn } = await anonymous.ok(SIGN_IN, { nonce: c.nonce, signature: await w.signMessage(c.message) });
    return graphqlClient(stack.devInfo.graphqlUrl, holderSignIn.token);
  };

  const blockTime = async (n: number) => new Date((await provider.getBlock(n))!.timestamp * 1000).toISOString();

  beforeAll(async () => {
    stack = await startTestStack();
    provider = stack.provider as JsonRpcProvider;
    gql = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.apiKey);
    [visitor, friend, claimer] = [await wallet(), await wallet(), await wallet()];

    const form = new FormData();
    form.set("file", new Blob([new Uint8Array(encodePng(8, 8, (x, y) => [x * 30, y * 30, 120]))]), "lamp.png");
    const uploaded = await fetch(stack.devInfo.graphqlUrl.replace(/\/graphql$/, "/media"), {
      method: "POST",
      headers: { authorization: `Bearer ${stack.devInfo.apiKey}`, "x-graphql-csrf": "1" },
      body: form,
    });
    const { cid } = (await uploaded.json()) as { cid: string };
    const input = { name: "Lamp Keepsakes", images: [{ cid, label: "A lamp" }], maxSupply: 10, transferPolicy: "GIFT_AFTER_LOCKUP", lockupSeconds: LOCKUP, maxGifts: 1, idempotencyKey: "history-edition" };
    const { createEdition } = await gql.ok(CREATE, { input });
    edition = (await waitFor(() => gql.ok(EDITION, { id: createEdition.edition.id }), (d) => ["CONFIRMED", "FAILED"].includes(d.edition.status), 60_000)).edition;
    expect(edition).toMatchObject({ status: "CONFIRMED", error: null });

    const { airdrop } = await gql.ok(AIRDROP, { input: { editionId: edition.id, holders: [visitor.address, Wallet.createRandom().address], idempotencyKey: "history-airdrop" } });
    const done = (await waitFor(() => gql.ok(OPERATION, { id: airdrop.operation.id }), (d) => ["CONFIRMED", "FAILED"].includes(d.editionOperation.status), 60_000)).editionOperation;
    expect(done).toMatchObject({ status: "CONFIRMED", error: null });
    airdropTx = done.txHashes[0];

    // Serial #3: claimed on chain by the holder with a signed voucher, from their own wallet.
    const { createClaimCodes } = await gql.ok(CODES, { input: { editionId: edition.id, count: 1, expiresAt: new Date(Date.now() + 3600_000).toISOString(), idempotencyKey: "history-codes" } });
    const v = createClaimCodes.codes[0].voucher;
    const asClaimer = new Contract(edition.contractAddress, HOLDER_ABI, claimer);
    claimTx = (await (await asClaimer.getFunction("claim")({ editionId: v.editionId, code: v.code, deadline: v.deadline }, v.signature)).wait()).hash;
  }, 150_000);

  afterAll(async () => {
    await stack?.cleanup();
  });

  it("Edition.item(serial) shows an airdropped item: its holder and one MINTED event, in the airdrop's transaction", async () => {
    const { edition: e } = await gql.ok(ITEM, { id: edition.id, serial: 1 });
    const receipt = (await provider.getTransactionReceipt(airdropTx))!;
    expect(e.item).toMatchObject({
      contract: edition.contractAddress,
      editionId: edition.chainEditionId,
      editionName: "Lamp Keepsakes",
      serial: 1,
      maxSupply: 10,
      transferPolicy: "GIFT_AFTER_LOCKUP",
      holder: visitor.address,
    });
    expect(e.item.history).toEqual([{ kind: "MINTED", from: null, to: visitor.address, at: await blockTime(receipt.blockNumber), txHash: airdropTx, blockNumber: receipt.blockNumber }]);
    // A serial not minted yet is no item; one outside the edition is bad input.
    expect((await gql.ok(ITEM, { id: edition.id, serial: 9 })).edition.item).toBeNull();
    const bad = await gql.fails(ITEM, { id: edition.id, serial: -1 });
    expect([bad.code, bad.extensions.field]).toEqual(["BAD_USER_INPUT", "serial"]);
  });

  it("a holder's gift after the lockup shows as MINTED then GIFTED, with the gift's transaction, and the new holder", async () => {
    const { edition: e } = await gql.ok(ITEM, { id: edition.id, serial: 1 });
    const asVisitor = new Contract(edition.contractAddress, HOLDER_ABI, visitor);
    // Inside the lockup the contract refuses the gift (nothing in the history).
    await expect(asVisitor.getFunction("transferFrom").staticCall(visitor.address, friend.address, e.item.tokenId)).rejects.toThrow();
    // EDR's clock moves past the lockup (test only; the API reads nothing but standard JSON-RPC).
    await provider.send("evm_increaseTime", [LOCKUP + 1]);
    await provider.send("evm_mine", []);
    const gift = (await (await asVisitor.getFunction("transferFrom")(visitor.address, friend.address, e.item.tokenId)).wait())!;

    const { collectible } = await gql.ok(COLLECTIBLE, { contract: edition.contractAddress.toLowerCase(), tokenId: e.item.tokenId });
    expect(collectible).toMatchObject({ contract: edition.contractAddress, tokenId: e.item.tokenId, serial: 1, holder: friend.address });
    expect(collectible.history.map((h: any) => [h.kind, h.from, h.to])).toEqual([
      ["MINTED", null, visitor.address],
      ["GIFTED", visitor.address, friend.address],
    ]);
    expect(collectible.history[1]).toMatchObject({ txHash: gift.hash, blockNumber: gift.blockNumber, at: await blockTime(gift.blockNumber) });
    expect(collectible.history[0].txHash).toBe(airdropTx);
    expect(Date.parse(collectible.history[1].at) - Date.parse(collectible.history[0].at)).toBeGreaterThan(LOCKUP * 1000);
  });

  it("an item claimed on chain with a voucher shows one CLAIMED event in the claim's transaction", async () => {
    const { edition: e } = await gql.ok(ITEM, { id: edition.id, serial: 3 });
    expect(e.item.holder).toBe(claimer.address);
    expect(e.item.history).toMatchObject([{ kind: "CLAIMED", from: null, to: claimer.address, txHash: claimTx }]);
  });

  it("a signed-in holder sees the same history on HeldCollectible; the giver no longer holds the item", async () => {
    const { edition: e } = await gql.ok(ITEM, { id: edition.id, serial: 1 });
    const asFriend = await signedIn(friend);
    const { holder } = await asFriend.ok(HOLDER);
    const held = holder.collectibles.filter((c: any) => c.contract === edition.contractAddress);
    expect(held).toEqual([{ contract: edition.contractAddress, tokenId: e.item.tokenId, editionId: edition.chainEditionId, serial: 1, maxSupply: 10, history: e.item.history }]);
    expect(held[0].history.map((h: any) => h.kind)).toEqual(["MINTED", "GIFTED"]);

    const asVisitor = await signedIn(visitor);
    expect((await asVisitor.ok(HOLDER)).holder.collectibles.filter((c: any) => c.contract === edition.contractAddress)).toEqual([]);
    const asClaimer = await signedIn(claimer);
    const claimed = (await asClaimer.ok(HOLDER)).holder.collectibles.filter((c: any) => c.contract === edition.contractAddress);
    expect(claimed.map((c: any) => [c.serial, c.history.map((h: any) => h.kind)])).toEqual([[3, ["CLAIMED"]]]);
  });

  it("an issuer's move in an ISSUER_MEDIATED edition reads as MOVED_BY_ISSUER (the history reader on the same chain)", async () => {
    const lost = Wallet.createRandom().address;
    const recovered = Wallet.createRandom().address;
    // A contract of its own, the dev deployer as issuer (idle once the stack is up): policy 2 is IssuerMediated.
    const made = await createTestEdition(stack, { images: [{ label: "x", width: 4, height: 4 }], holders: [lost], maxSupply: 2, policy: 2 });
    const moved = await (await made.editions.getFunction("issuerTransfer")(lost, recovered, 1n)).wait();
    const histories = await readCollectibleHistories(provider, made.contract, [{ tokenId: 1n, policy: "IssuerMediated" }]);
    expect(histories.get(1n)!.map((h) => [h.kind, h.from, h.to])).toEqual([
      ["MINTED", null, lost],
      ["MOVED_BY_ISSUER", lost, recovered],
    ]);
    expect(histories.get(1n)![1]!.txHash).toBe(moved.hash);
  });

  it("another institution's collectible is answered exactly like a missing one: NOT_FOUND", async () => {
    const { edition: e } = await gql.ok(ITEM, { id: edition.id, serial: 1 });
    const [b] = await stack.db.db.insert(institutions).values({ name: "Other Museum", slug: `other-${randomUUID().slice(0, 8)}` }).returning();
    const asB = graphqlClient(stack.devInfo.graphqlUrl, (await createApiKey(stack.db.db, { institutionId: b!.id, name: "history-test", scopes: ["read"] })).key);

    const theirs = await asB.raw(COLLECTIBLE, { contract: edition.contractAddress, tokenId: e.item.tokenId });
    const missing = await gql.raw(COLLECTIBLE, { contract: edition.contractAddress, tokenId: "999999" });
    expect(theirs.body.data).toEqual({ collectible: null });
    expect(theirs.body.errors!.map((x) => [x.message, x.extensions])).toEqual(missing.body.errors!.map((x) => [x.message, x.extensions]));
    expect(missing.body.errors![0]!.extensions!.code).toBe("NOT_FOUND");
    expect(JSON.stringify(theirs.body)).not.toContain(friend.address);
    // A contract that is not the caller's own (here the dev stack's demo museum) is not found either.
    const demo = await gql.fails(COLLECTIBLE, { contract: stack.devInfo.contracts.CollectibleEditions!, tokenId: "1" });
    expect([demo.code, demo.message]).toEqual(["NOT_FOUND", missing.body.errors![0]!.message]);
  });

  it("a malformed address or token id is BAD_USER_INPUT naming the argument", async () => {
    // Mixed case with a broken EIP-55 checksum: one letter's case flipped (still mixed case).
    const letters = [...edition.contractAddress.slice(2)].filter((c) => /[a-fA-F]/.test(c));
    const flip = letters.find((c, _i, all) => all.some((o) => o !== c && /[a-fA-F]/.test(o) && (o === o.toUpperCase()) === (c === c.toUpperCase())))!;
    const badChecksum = `0x${edition.contractAddress.slice(2).replace(flip, flip === flip.toUpperCase() ? flip.toLowerCase() : flip.toUpperCase())}`;
    for (const contract of ["0x123", "not an address", `0x${"g".repeat(40)}`, badChecksum]) {
      const bad = await gql.fails(COLLECTIBLE, { contract, tokenId: "1" });
      expect([bad.code, bad.extensions.field], contract).toEqual(["BAD_USER_INPUT", "contract"]);
    }
    for (const tokenId of ["-1", "1.5", "0x01", "", (1n << 256n).toString()]) {
      const bad = await gql.fails(COLLECTIBLE, { contract: edition.contractAddress, tokenId });
      expect([bad.code, bad.extensions.field], tokenId).toEqual(["BAD_USER_INPUT", "tokenId"]);
    }
  });
});
