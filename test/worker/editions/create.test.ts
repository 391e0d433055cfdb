import { eq } from "drizzle-orm";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Contract, Wallet, ZeroHash } from "ethers";
import { loadArtifact } from "../../../core/chain/artifacts.ts";
import { createdAddress } from "../../../core/chain/contract-creation.ts";
import { openSecret } from "../../../core/custody/sealed.ts";
import { chainTxs, editionContractCreations, editionContracts, institutions } from "../../../core/db/schema.ts";
import { readEditionFromChain } from "../../../core/editions/chain.ts";
import { createPinnedEditions } from "../../../worker/editions/create.ts";
import { EditionContracts, editionsContractName, editionsContractPurpose } from "../../../worker/editions/deploy-contract.ts";
import { indexEditionEvents } from "../../../worker/editions/indexer.ts";
import { pinQueuedEditions } from "../../../worker/editions/pin.ts";
import { asAdmin, createEditions, editionRow, queueEdition, startEditionsFixture, toldFor, type EditionsFixture } from "./fixture.ts";

/** An edition's way to the chain, stage by stage: pin, create (deploying the institution's contract), indexer. */
describe("editions stages: pin, create, indexer", () => {
  let f: EditionsFixture;
  beforeAll(async () => {
    f = await startEditionsFixture();
  });
  afterAll(async () => {
    await f?.close();
  });

  it("QUEUED → PINNED → SUBMITTED → CONFIRMED: the metadata's exact bytes pinned, the contract deployed with a sealed voucher key, createEdition sent with the policy's index, EditionCreated read", async () => {
    const queued = await queueEdition(f, { maxSupply: 153, transferPolicy: "GIFT_AFTER_LOCKUP", lockupSeconds: 3600, maxGifts: 2 });

    await pinQueuedEditions(f.deps);
    const pinned = await editionRow(f, queued.id);
    const bytes = new TextEncoder().encode(queued.metadataJson);
    expect(pinned).toMatchObject({ status: "PINNED", metadataCid: CID.create(1, raw.code, await sha256.digest(bytes)).toString() });
    expect(await f.ipfs.has(pinned.metadataCid!)).toBe(true);

    // The institution has no contract: its creation is signed and stored with its sealed voucher key, and the
    // edition waits, PINNED, while it is mined; the stage does not wait for a block.
    await createPinnedEditions(f.deps, f.rotation, f.contracts);
    expect(await editionRow(f, queued.id)).toMatchObject({ status: "PINNED", chainTxId: null });
    const [creation] = await f.db.select().from(editionContractCreations).where(eq(editionContractCreations.institutionId, f.institutionId));
    expect(creation!.voucherSignerKey).toMatch(/^sealed:/);
    const [creationTx] = await f.db.select().from(chainTxs).where(eq(chainTxs.purpose, editionsContractPurpose(f.institutionId)));
    expect(creationTx).toMatchObject({ to: null, signer: f.sender.address });
    expect(await f.db.select().from(editionContracts).where(eq(editionContracts.institutionId, f.institutionId))).toEqual([]);
    // Asked again before it is mined, the stage signs no second creation.
    await createPinnedEditions(f.deps, f.rotation, f.contracts);
    expect(await f.db.select().from(chainTxs).where(eq(chainTxs.purpose, editionsContractPurpose(f.institutionId)))).toHaveLength(1);

    await f.monitor.tick();
    await createPinnedEditions(f.deps, f.rotation, f.contracts);
    const submitted = await editionRow(f, queued.id);
    expect(submitted).toMatchObject({ status: "SUBMITTED", chainEditionId: null });
    const [contract] = await f.db.select().from(editionContracts).where(eq(editionContracts.institutionId, f.institutionId));
    expect(contract).toMatchObject({
      id: submitted.contractId,
      name: "Stage Museum Collectibles",
      chainId: 31337,
      contractAddress: createdAddress(creationTx!.signer, creationTx!.nonce),
      deployTxHash: creationTx!.txHash,
      voucherSignerKey: creation!.voucherSignerKey,
    });
    expect(await f.db.select().from(editionContractCreations).where(eq(editionContractCreations.institutionId, f.institutionId))).toEqual([]);
    const [stored] = await f.db.select().from(chainTxs).where(eq(chainTxs.id, submitted.chainTxId!));
    expect(stored).toMatchObject({ txHash: submitted.txHash, purpose: `editions:create:${queued.id}`, to: contract!.contractAddress });
    const editionsContract = asAdmin(f, contract!.contractAddress);
    expect(await editionsContract.hasRole!(await editionsContract.ISSUER_ROLE!(), f.sender.address)).toBe(true);
    // The deployer is the admin whichever key sent the creation; the voucher key signs vouchers and nothing else.
    expect(await editionsContract.hasRole!(ZeroHash, f.deployer.address)).toBe(true);
    const voucherSigner = new Wallet(openSecret(contract!.voucherSignerKey, f.deps.custody.keyring())).address;
    expect(await editionsContract.hasRole!(await editionsContract.VOUCHER_SIGNER_ROLE!(), voucherSigner)).toBe(true);
    expect(await editionsContract.hasRole!(await editionsContract.ISSUER_ROLE!(), voucherSigner)).toBe(false);
    // Created naming its ERC-7572 document under the public URL, its own address appended on read.
    const metadata = new Contract(contract!.contractAddress, loadArtifact("CollectibleEditions").abi, f.chain.provider);
    expect(await metadata.getFunction("contractURI")()).toBe(`https://hallmark.example/contracts/31337/${contract!.contractAddress.toLowerCase()}/contract.json`);

    expect(await indexEditionEvents(f.deps, f.cursor)).toBe(true);
    const confirmed = await editionRow(f, queued.id);
    expect(confirmed).toMatchObject({ status: "CONFIRMED", chainEditionId: "1", error: null });
    const onChain = await readEditionFromChain(f.chain.provider, contract!.contractAddress, 1n);
    expect(onChain).toMatchObject({ name: queued.name, uri: `ipfs://${pinned.metadataCid}`, maxSupply: 153, policy: "GiftAfterLockup" });
    // Each move told once, after its transaction committed.
    expect(toldFor(f, queued.id)).toEqual(["PINNED", "SUBMITTED", "CONFIRMED"]);
  });

  it("a second edition of the institution goes to the same contract; the cursor moves on, so nothing is confirmed twice", async () => {
    const queued = await queueEdition(f, { transferPolicy: "ISSUER_MEDIATED" });
    await pinQueuedEditions(f.deps);
    await createPinnedEditions(f.deps, f.rotation, f.contracts);
    expect((await editionRow(f, queued.id)).status).toBe("SUBMITTED");
    expect(await indexEditionEvents(f.deps, f.cursor)).toBe(true);
    expect(await indexEditionEvents(f.deps, f.cursor)).toBe(true);
    const confirmed = await editionRow(f, queued.id);
    expect(confirmed).toMatchObject({ status: "CONFIRMED", chainEditionId: "2" });
    expect(await f.db.select().from(editionContracts).where(eq(editionContracts.institutionId, f.institutionId))).toHaveLength(1);
    expect(toldFor(f, queued.id)).toEqual(["PINNED", "SUBMITTED", "CONFIRMED"]);
  });

  it("the contract's refusal fails the edition with the error by name, and sends nothing", async () => {
    // maxSupply 0 is refused by the contract (EditionInvalid): only the database lets it through.
    const queued = await queueEdition(f, { maxSupply: 0 });
    await pinQueuedEditions(f.deps);
    await createPinnedEditions(f.deps, f.rotation, f.contracts);
    const failed = await editionRow(f, queued.id);
    expect(failed).toMatchObject({ status: "FAILED", error: "rejected by the contract: EditionInvalid()", chainTxId: null });
    expect(toldFor(f, queued.id)).toEqual(["PINNED", "FAILED"]);
  });

  it("an institution whose name is too long for an EIP-712 domain gets a contract named within its 31 bytes", async () => {
    const long = "Königliche Staatliche Kunstsammlungen Dresden";
    expect(editionsContractName(long)).toBe("Königliche Staatl Collectibles");
    expect(Buffer.byteLength(editionsContractName(long))).toBeLessThanOrEqual(31);
    expect(editionsContractName("Stage Museum")).toBe("Stage Museum Collectibles");
    const [other] = await f.db.insert(institutions).values({ name: long, slug: `long-${Date.now()}` }).returning();
    const queued = await queueEdition(f, { institutionId: other!.id });
    await pinQueuedEditions(f.deps);
    await createEditions(f);
    const [contract] = await f.db.select().from(editionContracts).where(eq(editionContracts.institutionId, other!.id));
    expect(contract!.name).toBe("Königliche Staatl Collectibles");
    expect(await asAdmin(f, contract!.contractAddress).name!()).toBe("Königliche Staatl Collectibles");
    expect((await editionRow(f, queued.id)).status).toBe("SUBMITTED");
  });

  it("without a deployer key, an edition of an institution with no contract fails saying so", async () => {
    const [other] = await f.db.insert(institutions).values({ name: "No Keys", slug: `no-keys-${Date.now()}` }).returning();
    const queued = await queueEdition(f, { institutionId: other!.id });
    const deps = { ...f.deps, deployer: undefined };
    await pinQueuedEditions(deps);
    await createPinnedEditions(deps, f.rotation, new EditionContracts(deps));
    expect(await editionRow(f, queued.id)).toMatchObject({
      status: "FAILED",
      error: "no deployer key is configured (DEPLOYER_PRIVATE_KEY or ADMIN_PRIVATE_KEY)",
    });
  });
});
