import { asc, eq } from "drizzle-orm";
import { toQuantity, Transaction } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainTxs, editionMintBatches } from "../../../core/db/schema.ts";
import { LOG_BLOCK_RANGE, readEditionFromChain } from "../../../core/editions/chain.ts";
import { voucherCodeOf } from "../../../core/editions/operations.ts";
import { PIPELINE_DEPTH, sendAirdropBatches, UNESTIMATED } from "../../../worker/editions/airdrop.ts";
import { SenderRotation } from "../../../core/chain/sender-rotation.ts";
import { TxSender } from "../../../core/chain/tx-sender.ts";
import { ACCOUNT_3_KEY } from "../../support/test-chain.ts";
import { VOUCHER_REDEEMED_ON_CHAIN } from "../../../worker/editions/failures.ts";
import { failReverted } from "../../../worker/editions/follow.ts";
import { pinQueuedEditions } from "../../../worker/editions/pin.ts";
import {
  asAdmin,
  confirmedEdition,
  createEditions,
  editionRow,
  holders,
  issueClaimCode,
  operationRow,
  queueAirdrop,
  queueEdition,
  settle,
  startEditionsFixture,
  toldFor,
  type EditionsFixture,
} from "./fixture.ts";

/** A cap that takes only a few items a transaction, so an airdrop of dozens goes in several batches. */
const GAS_CAP = 1_000_000;

describe("editions stage: airdrop", () => {
  let f: EditionsFixture;
  beforeAll(async () => {
    f = await startEditionsFixture({ txGasCap: GAS_CAP });
  });
  afterAll(async () => {
    await f?.close();
  });

  it("sends batches under the gas cap, several in flight from one key, serials following the holders' order; CONFIRMED when every item is minted", async () => {
    const edition = await confirmedEdition(f, { maxSupply: 100 });
    const to = holders(60);
    const op = await queueAirdrop(f, edition, to);
    const batchSizes = new Map<string, number>();
    const gasPerItem = new Map<string, bigint>();
    let most = 0;
    for (let round = 0; round < 40 && (await operationRow(f, op.id)).status !== "CONFIRMED"; round++) {
      await sendAirdropBatches(f.deps, f.rotation, batchSizes, gasPerItem);
      const inFlight = await f.db
        .select({ signer: chainTxs.signer })
        .from(editionMintBatches)
        .innerJoin(chainTxs, eq(chainTxs.id, editionMintBatches.chainTxId))
        .where(eq(editionMintBatches.status, "SUBMITTED"));
      expect(inFlight.length).toBeLessThanOrEqual(PIPELINE_DEPTH);
      expect(new Set(inFlight.map((b) => b.signer)).size).toBeLessThanOrEqual(1);
      most = Math.max(most, inFlight.length);
      await settle(f);
    }
    // Batches go out without waiting for the last one's events.
    expect(most).toBeGreaterThan(1);

    expect(await operationRow(f, op.id)).toMatchObject({ status: "CONFIRMED", sent: 60, minted: 60, total: 60, error: null });
    expect(await editionRow(f, edition.id)).toMatchObject({ minted: 60, reserved: 60 });
    const batches = await f.db.select().from(editionMintBatches).where(eq(editionMintBatches.operationId, op.id)).orderBy(asc(editionMintBatches.start));
    expect(batches.length).toBeGreaterThan(1);
    let next = 0;
    const purposes: string[] = [];
    for (const batch of batches) {
      expect(batch).toMatchObject({ start: next, status: "CONFIRMED" });
      next += batch.count;
      const [stored] = await f.db.select().from(chainTxs).where(eq(chainTxs.id, batch.chainTxId));
      purposes.push(stored!.purpose);
      expect(Transaction.from(stored!.rawTx).gasLimit).toBeLessThanOrEqual(BigInt(GAS_CAP));
    }
    expect(next).toBe(60);
    // The first batch is estimated; once it told the edition's gas per item, the next ones are sent without.
    expect(purposes[0]).toBe(`editions:airdrop:${op.id}:0`);
    expect(purposes.slice(1)).toEqual(batches.slice(1).map((b) => `editions:airdrop:${op.id}:${b.start}${UNESTIMATED}`));
    expect(gasPerItem.get(edition.id)).toBeGreaterThan(0n);
    // The size the cap allowed is kept for the edition's next airdrop.
    expect(batchSizes.get(edition.id)).toBe(batches[0]!.count);

    const onChain = await readEditionFromChain(f.chain.provider, edition.contractAddress, BigInt(edition.chainEditionId!));
    expect(onChain.items.map((i) => [i.serial, i.holder])).toEqual(to.map((h, i) => [i + 1, h]));

    // SUBMITTED once with the first batch, progress as items are minted, CONFIRMED once.
    const told = f.changes.filter((c) => c.rows.some((r) => r.id === op.id));
    expect(told[0]!.status).toBe("SUBMITTED");
    expect(told.filter((c) => c.status === "CONFIRMED")).toHaveLength(1);
    expect(told.at(-1)!.status).toBe("CONFIRMED");
    const minted = told.map((c) => (typeof c.details === "function" ? c.details(op.id) : c.details).minted as number);
    expect([...minted].sort((a, b) => a - b)).toEqual(minted);
    expect(minted.filter((m) => m > 0 && m < 60).length).toBeGreaterThanOrEqual(1);
  });

  it("the chain read of a gallery follows a move made more than one log range after the mint", async () => {
    const edition = await confirmedEdition(f, { maxSupply: 5, transferPolicy: "ISSUER_MEDIATED" });
    const to = holders(3, "gallery-range");
    const op = await queueAirdrop(f, edition, to);
    for (let round = 0; round < 10 && (await operationRow(f, op.id)).status !== "CONFIRMED"; round++) {
      await sendAirdropBatches(f.deps, f.rotation, new Map());
      await settle(f);
    }
    expect((await operationRow(f, op.id)).status).toBe("CONFIRMED");
    const chainEditionId = BigInt(edition.chainEditionId!);
    const minted = await readEditionFromChain(f.chain.provider, edition.contractAddress, chainEditionId);
    // Blocks enough that the mint and the move fall in different log ranges.
    await f.chain.provider.send("hardhat_mine", [toQuantity(LOG_BLOCK_RANGE + 5)]);
    const admin = asAdmin(f, edition.contractAddress);
    await (await admin.grantRole!(await admin.ISSUER_ROLE!(), f.deployer.address)).wait();
    const recovered = holders(1, "recovered")[0]!;
    await (await admin.issuerTransfer!(to[1], recovered, minted.items[1]!.tokenId)).wait();

    const onChain = await readEditionFromChain(f.chain.provider, edition.contractAddress, chainEditionId);
    expect(onChain.items.map((i) => [i.serial, i.holder])).toEqual([
      [1, to[0]],
      [2, recovered],
      [3, to[2]],
    ]);
  });

  it("a redeemed claim mints with redeemFor, spending the code's voucher on chain", async () => {
    const edition = await confirmedEdition(f, { maxSupply: 5 });
    const { code, claim } = await issueClaimCode(f, edition);
    const op = await queueAirdrop(f, edition, [f.outsider.address], { kind: "CLAIM", claimCodeId: claim.id });
    await sendAirdropBatches(f.deps, f.rotation, new Map());
    await settle(f);
    expect(await operationRow(f, op.id)).toMatchObject({ status: "CONFIRMED", minted: 1 });
    expect(await asAdmin(f, edition.contractAddress).voucherUsed!(voucherCodeOf(code))).toBe(true);
  });

  it("a claim whose voucher was redeemed on chain first fails CLAIM_CODE_USED and keeps its item reserved", async () => {
    const edition = await confirmedEdition(f, { maxSupply: 5 });
    const { code, claim } = await issueClaimCode(f, edition);
    const op = await queueAirdrop(f, edition, [f.outsider.address], { kind: "CLAIM", claimCodeId: claim.id });
    // The voucher spent on chain before the worker gets to it (here by the admin, made an issuer for it).
    const admin = asAdmin(f, edition.contractAddress);
    await (await admin.grantRole!(await admin.ISSUER_ROLE!(), f.deployer.address)).wait();
    await (await admin.redeemFor!(BigInt(edition.chainEditionId!), voucherCodeOf(code), f.deployer.address)).wait();

    await sendAirdropBatches(f.deps, f.rotation, new Map());
    expect(await operationRow(f, op.id)).toMatchObject({ status: "FAILED", error: VOUCHER_REDEEMED_ON_CHAIN });
    expect((await editionRow(f, edition.id)).reserved).toBe(1);
    expect(toldFor(f, op.id)).toEqual(["FAILED"]);
  });

  it("a claim without its code fails, never minted as an airdrop, and gives its item back", async () => {
    const edition = await confirmedEdition(f, { maxSupply: 5 });
    const op = await queueAirdrop(f, edition, [f.outsider.address], { kind: "CLAIM" });
    await sendAirdropBatches(f.deps, f.rotation, new Map());
    expect(await operationRow(f, op.id)).toMatchObject({ status: "FAILED", error: "the claim's code is missing", sent: 0 });
    expect((await editionRow(f, edition.id)).reserved).toBe(0);
  });

  it("an airdrop of an edition that was never created on chain fails and gives its items back", async () => {
    const queued = await queueEdition(f, { maxSupply: 0 });
    await pinQueuedEditions(f.deps);
    await createEditions(f);
    const failed = await editionRow(f, queued.id);
    expect(failed.status).toBe("FAILED");
    const op = await queueAirdrop(f, failed, holders(2, "never"));
    await sendAirdropBatches(f.deps, f.rotation, new Map());
    expect(await operationRow(f, op.id)).toMatchObject({ status: "FAILED", error: "the edition was never created on chain" });
    expect((await editionRow(f, queued.id)).reserved).toBe(0);
  });

  it("the contract's refusal fails the airdrop with the error by name (more holders than the edition has left)", async () => {
    const edition = await confirmedEdition(f, { maxSupply: 2 });
    // Reserved as though the database had let three through: the contract is the last word.
    const op = await queueAirdrop(f, edition, holders(3, "sold-out"));
    await sendAirdropBatches(f.deps, f.rotation, new Map());
    expect(await operationRow(f, op.id)).toMatchObject({ status: "FAILED", error: `rejected by the contract: EditionSoldOut(${edition.chainEditionId})` });
  });
  /** Sends, records and indexes an airdrop's batches until it is no longer open (or 40 rounds went by). */
  async function airdropUntilSettled(opId: string, batchSizes: Map<string, number>, gasPerItem: Map<string, bigint>): Promise<void> {
    for (let round = 0; round < 40 && ["QUEUED", "SUBMITTED"].includes((await operationRow(f, opId)).status); round++) {
      await sendAirdropBatches(f.deps, f.rotation, batchSizes, gasPerItem);
      await settle(f);
      await failReverted(f.deps, (id) => gasPerItem.delete(id));
    }
  }

  it("a holder that is a contract refusing ERC-721, in a batch after the edition's gas per item is known: that batch is estimated, and the airdrop fails naming it, the batches before it minted", async () => {
    const edition = await confirmedEdition(f, { maxSupply: 100 });
    const batchSizes = new Map<string, number>();
    const gasPerItem = new Map<string, bigint>();
    // A first airdrop tells the edition's batch size and gas per item.
    const first = await queueAirdrop(f, edition, holders(12, "teach-size"));
    await airdropUntilSettled(first.id, batchSizes, gasPerItem);
    expect((await operationRow(f, first.id)).status).toBe("CONFIRMED");
    const before = (await editionRow(f, edition.id)).reserved;
    // The editions contract itself does not accept ERC-721 tokens.
    const to = [...holders(25, "before-refuser"), edition.contractAddress, ...holders(4, "after-refuser")];
    const op = await queueAirdrop(f, edition, to);
    await airdropUntilSettled(op.id, batchSizes, gasPerItem);

    const size = batchSizes.get(edition.id)!;
    const minted = Math.floor(25 / size) * size;
    expect(minted).toBeGreaterThan(size);
    expect(await operationRow(f, op.id)).toMatchObject({ status: "FAILED", error: `rejected by the contract: ERC721InvalidReceiver(${edition.contractAddress})`, minted });
    expect((await editionRow(f, edition.id)).reserved).toBe(before + minted);
    const batches = await f.db.select().from(editionMintBatches).where(eq(editionMintBatches.operationId, op.id)).orderBy(asc(editionMintBatches.start));
    expect(batches.map((b) => [b.start, b.status])).toEqual(Array.from({ length: minted / size }, (_, i) => [i * size, "CONFIRMED"]));
    // Sent without estimates, none carrying the refused holder: none reverted.
    const sent = await Promise.all(batches.map(async (b) => (await f.db.select().from(chainTxs).where(eq(chainTxs.id, b.chainTxId)))[0]!));
    expect(sent.map((t) => [t.purpose, t.status])).toEqual(batches.map((b) => [`editions:airdrop:${op.id}:${b.start}${UNESTIMATED}`, "MINED"]));
    const onChain = await readEditionFromChain(f.chain.provider, edition.contractAddress, BigInt(edition.chainEditionId!));
    expect(onChain.items.slice(12).map((i) => [i.serial, i.holder])).toEqual(to.slice(0, minted).map((h, i) => [i + 13, h]));
  });

  it("a batch sent unestimated that reverts (a holder's address got a contract refusing ERC-721 in the same block) is handed back, estimated, and fails the airdrop naming the holder; nothing minted twice", async () => {
    const edition = await confirmedEdition(f, { maxSupply: 100 });
    const batchSizes = new Map<string, number>();
    const gasPerItem = new Map<string, bigint>();
    // A first airdrop tells the edition's gas per item.
    const first = await queueAirdrop(f, edition, holders(12, "teach"));
    await airdropUntilSettled(first.id, batchSizes, gasPerItem);
    expect((await operationRow(f, first.id)).status).toBe("CONFIRMED");
    expect(gasPerItem.has(edition.id)).toBe(true);

    const before = (await editionRow(f, edition.id)).reserved;
    const [victim] = holders(1, "counterfactual");
    const to = [...holders(2, "beside-a"), victim!, ...holders(2, "beside-b")];
    const op = await queueAirdrop(f, edition, to);
    const refusing = await f.chain.provider.send("eth_getCode", [edition.contractAddress, "latest"]);
    const provider = f.chain.provider;
    await provider.send("evm_setAutomine", [false]);
    try {
      // Sent while the holder's address has no code: not estimated.
      expect(await sendAirdropBatches(f.deps, f.rotation, batchSizes, gasPerItem)).toBe(1);
      const [sent] = await f.db.select().from(editionMintBatches).where(eq(editionMintBatches.operationId, op.id));
      const [tx] = await f.db.select().from(chainTxs).where(eq(chainTxs.id, sent!.chainTxId));
      expect(tx!.purpose).toBe(`editions:airdrop:${op.id}:0${UNESTIMATED}`);
      // A contract that refuses ERC-721 tokens appears at the holder's address before the batch is mined (as a
      // wallet deployed at its counterfactual address would).
      await provider.send("hardhat_setCode", [victim, refusing]);
      await provider.send("evm_mine", []);
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
    await settle(f);
    const [reverted] = await f.db.select({ status: chainTxs.status }).from(chainTxs).innerJoin(editionMintBatches, eq(editionMintBatches.chainTxId, chainTxs.id)).where(eq(editionMintBatches.operationId, op.id));
    expect(reverted!.status).toBe("REVERTED");

    // Handed back: its progress back at the start, the edition's next batches estimated.
    await failReverted(f.deps, (id) => gasPerItem.delete(id));
    expect(await operationRow(f, op.id)).toMatchObject({ status: "SUBMITTED", sent: 0, minted: 0 });
    expect(gasPerItem.has(edition.id)).toBe(false);

    await airdropUntilSettled(op.id, batchSizes, gasPerItem);
    expect(await operationRow(f, op.id)).toMatchObject({ status: "FAILED", error: `rejected by the contract: ERC721InvalidReceiver(${victim})`, minted: 0 });
    expect((await editionRow(f, edition.id)).reserved).toBe(before);
    const batches = await f.db.select().from(editionMintBatches).where(eq(editionMintBatches.operationId, op.id));
    expect(batches.map((b) => b.status)).toEqual(["FAILED"]);
    expect(toldFor(f, op.id)).toEqual(["SUBMITTED", "FAILED"]);
    // The edition's items are the first airdrop's, serials 1 to 12: none of this airdrop's holders has one.
    const onChain = await readEditionFromChain(f.chain.provider, edition.contractAddress, BigInt(edition.chainEditionId!));
    expect(onChain.items.map((i) => i.serial)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });
  it("a key at its limit of transactions in flight, all of them airdrop batches already mined, sends the edition's next batches without waiting for the transaction monitor", async () => {
    const edition = await confirmedEdition(f, { maxSupply: 100 });
    const narrow = new TxSender({ db: f.db, provider: f.chain.provider, wallet: f.chain.wallet(ACCOUNT_3_KEY), chainId: 31337, logger: f.deps.logger, maxInFlight: 2 });
    await narrow.init();
    const deps = { ...f.deps, senders: [narrow] };
    const batchSizes = new Map<string, number>();
    const gasPerItem = new Map<string, bigint>();
    const op = await queueAirdrop(f, edition, holders(50, "narrow-key"));
    // One pass, the monitor never ticked: more batches than the key's limit, each recorded mined before the next.
    const sent = await sendAirdropBatches(deps, new SenderRotation([narrow]), batchSizes, gasPerItem);
    expect(sent).toBeGreaterThan(2);
    expect(sent).toBeLessThanOrEqual(PIPELINE_DEPTH);
    const txs = await f.db
      .select({ status: chainTxs.status })
      .from(editionMintBatches)
      .innerJoin(chainTxs, eq(chainTxs.id, editionMintBatches.chainTxId))
      .where(eq(editionMintBatches.operationId, op.id));
    expect(txs.filter((t) => t.status === "MINED").length).toBeGreaterThanOrEqual(sent - 2);
    await airdropUntilSettled(op.id, batchSizes, gasPerItem);
    expect(await operationRow(f, op.id)).toMatchObject({ status: "CONFIRMED", minted: 50 });
  });
});
