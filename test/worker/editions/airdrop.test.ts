import { asc, eq } from "drizzle-orm";
import { toQuantity, Transaction } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainTxs, editionMintBatches } from "../../../core/db/schema.ts";
import { LOG_BLOCK_RANGE, readEditionFromChain } from "../../../core/editions/chain.ts";
import { voucherCodeOf } from "../../../core/editions/operations.ts";
import { PIPELINE_DEPTH, sendAirdropBatches } from "../../../worker/editions/airdrop.ts";
import { VOUCHER_REDEEMED_ON_CHAIN } from "../../../worker/editions/failures.ts";
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
    let most = 0;
    for (let round = 0; round < 40 && (await operationRow(f, op.id)).status !== "CONFIRMED"; round++) {
      await sendAirdropBatches(f.deps, f.rotation, batchSizes);
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
    for (const batch of batches) {
      expect(batch).toMatchObject({ start: next, status: "CONFIRMED" });
      next += batch.count;
      const [stored] = await f.db.select().from(chainTxs).where(eq(chainTxs.id, batch.chainTxId));
      expect(stored!.purpose).toBe(`editions:airdrop:${op.id}:${batch.start}`);
      expect(Transaction.from(stored!.rawTx).gasLimit).toBeLessThanOrEqual(BigInt(GAS_CAP));
    }
    expect(next).toBe(60);
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
});
