import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChainTx } from "../../../core/chain/tx-sender.ts";
import type { DbTransaction } from "../../../core/db/index.ts";
import { chainTxs, editionMintBatches, editionOperations, editions } from "../../../core/db/schema.ts";
import { collectibleEditionsInterface } from "../../../core/editions/abi.ts";
import { voucherCodeOf, type EditionRow } from "../../../core/editions/operations.ts";
import { VOUCHER_REDEEMED_ON_CHAIN } from "../../../worker/editions/failures.ts";
import { failReverted } from "../../../worker/editions/follow.ts";
import { pinQueuedEditions } from "../../../worker/editions/pin.ts";
import { asAdmin, confirmedEdition, editionRow, holders, indexToHead, operationRow, issueClaimCode, queueAirdrop, queueEdition, startEditionsFixture, toldFor, type EditionsFixture } from "./fixture.ts";

/**
 * Transactions that revert on chain, sent with a fixed gas limit (no estimate to refuse them first), as happens
 * when the chain changes between the estimate and the block: the follow stage settles what they carried.
 */
describe("editions stage: follow (reverted transactions)", () => {
  let f: EditionsFixture;
  let edition: EditionRow & { contractAddress: string };
  beforeAll(async () => {
    f = await startEditionsFixture();
    edition = await confirmedEdition(f, { maxSupply: 10 });
  });
  afterAll(async () => {
    await f?.close();
  });

  /** Signs, stores and broadcasts a call that will revert, linked by `link` as a stage would link it. */
  async function sendReverting(call: { to: string; data: string; purpose: string }, link: (tx: DbTransaction, stored: ChainTx) => Promise<unknown>): Promise<ChainTx> {
    const chainTx = (await f.sender.prepare(async () => ({ ...call, gasLimit: 500_000n }), async (tx, stored) => void (await link(tx, stored))))!;
    await f.sender.broadcast(chainTx).catch(() => {});
    return chainTx;
  }

  /** Ticks the transaction monitor until it has recorded what became of `sent` (the node may refuse the first broadcast of a reverting call). */
  async function monitorSees(sent: ChainTx): Promise<void> {
    for (let i = 0; i < 10; i++) {
      await f.monitor.tick();
      const [row] = await f.db.select({ status: chainTxs.status }).from(chainTxs).where(eq(chainTxs.id, sent.id));
      if (row!.status === "REVERTED") return;
    }
    throw new Error(`the monitor never saw ${sent.txHash} revert`);
  }

  /** An airdrop batch on a transaction that reverts (its edition id does not exist on chain). */
  async function revertedBatch(op: { id: string }, to: string[], data = collectibleEditionsInterface().encodeFunctionData("airdrop", [999n, to])): Promise<ChainTx> {
    return sendReverting({ to: edition.contractAddress, data, purpose: `editions:airdrop:${op.id}:0` }, async (tx, stored) => {
      await tx.insert(editionMintBatches).values({ operationId: op.id, start: 0, count: to.length, chainTxId: stored.id, txHash: stored.txHash });
      await tx.update(editionOperations).set({ status: "SUBMITTED", sent: to.length }).where(eq(editionOperations.id, op.id));
    });
  }

  it("a reverted airdrop batch fails with its operation, naming the transaction, and gives back the items not minted", async () => {
    const before = (await editionRow(f, edition.id)).reserved;
    const to = holders(3, "reverted");
    const op = await queueAirdrop(f, edition, to);
    const sent = await revertedBatch(op, to);
    // The monitor records the revert; an airdrop's batches are left to this stage (the kinds registry says so).
    await monitorSees(sent);
    expect((await operationRow(f, op.id)).status).toBe("SUBMITTED");

    await failReverted(f.deps);
    expect(await operationRow(f, op.id)).toMatchObject({ status: "FAILED", error: `airdrop transaction ${sent.txHash} reverted` });
    const [batch] = await f.db.select().from(editionMintBatches).where(eq(editionMintBatches.operationId, op.id));
    expect(batch!.status).toBe("FAILED");
    expect((await editionRow(f, edition.id)).reserved).toBe(before);
    expect(toldFor(f, op.id)).toEqual(["FAILED"]);
  });

  it("a reverted batch with a batch of the same airdrop sent behind it waits for that one's items, then gives back exactly those not minted", async () => {
    const before = (await editionRow(f, edition.id)).reserved;
    const to = holders(4, "behind");
    const op = await queueAirdrop(f, edition, to);
    const sent = await revertedBatch(op, to.slice(0, 2));
    // The second batch, on its own nonce after the first, mints its two items.
    const data = collectibleEditionsInterface().encodeFunctionData("airdrop", [BigInt(edition.chainEditionId!), to.slice(2)]);
    const behind = (await f.sender.prepare(
      async () => ({ to: edition.contractAddress, data, purpose: `editions:airdrop:${op.id}:2`, gasLimit: 500_000n }),
      async (tx, stored) => {
        await tx.insert(editionMintBatches).values({ operationId: op.id, start: 2, count: 2, chainTxId: stored.id, txHash: stored.txHash });
        await tx.update(editionOperations).set({ sent: 4 }).where(eq(editionOperations.id, op.id));
      },
    ))!;
    await f.sender.broadcast(behind);
    await monitorSees(sent);

    // Its items not counted yet: failing now would give back all four reservations, two of them minted.
    await failReverted(f.deps);
    expect((await operationRow(f, op.id)).status).toBe("SUBMITTED");
    expect((await editionRow(f, edition.id)).reserved).toBe(before + 4);

    await indexToHead(f);
    expect((await operationRow(f, op.id)).minted).toBe(2);
    await failReverted(f.deps);
    expect(await operationRow(f, op.id)).toMatchObject({ status: "FAILED", error: `airdrop transaction ${sent.txHash} reverted`, minted: 2 });
    expect((await editionRow(f, edition.id)).reserved).toBe(before + 2);
  });

  it("a claim's redeemFor reverted because its voucher was claimed on chain meanwhile: CLAIM_CODE_USED, the item stays reserved", async () => {
    const { code, claim } = await issueClaimCode(f, edition);
    const op = await queueAirdrop(f, edition, [f.outsider.address], { kind: "CLAIM", claimCodeId: claim.id });
    const reserved = (await editionRow(f, edition.id)).reserved;
    const admin = asAdmin(f, edition.contractAddress);
    await (await admin.grantRole!(await admin.ISSUER_ROLE!(), f.deployer.address)).wait();
    await (await admin.redeemFor!(BigInt(edition.chainEditionId!), voucherCodeOf(code), f.deployer.address)).wait();
    const data = collectibleEditionsInterface().encodeFunctionData("redeemFor", [BigInt(edition.chainEditionId!), voucherCodeOf(code), f.outsider.address]);
    await monitorSees(await revertedBatch(op, [f.outsider.address], data));

    await failReverted(f.deps);
    expect(await operationRow(f, op.id)).toMatchObject({ status: "FAILED", error: VOUCHER_REDEEMED_ON_CHAIN });
    expect((await editionRow(f, edition.id)).reserved).toBe(reserved);
  });

  /** An edition SUBMITTED on a createEdition that reverts (maxSupply 0: EditionInvalid). */
  async function revertedCreation(): Promise<{ id: string; sent: ChainTx }> {
    const queued = await queueEdition(f, { maxSupply: 0 });
    await pinQueuedEditions(f.deps);
    const data = collectibleEditionsInterface().encodeFunctionData("createEdition", [queued.name, "ipfs://x", 0, 0, 0, 0]);
    const sent = await sendReverting({ to: edition.contractAddress, data, purpose: `editions:create:${queued.id}` }, (tx, stored) =>
      tx.update(editions).set({ status: "SUBMITTED", contractId: edition.contractId, chainTxId: stored.id, txHash: stored.txHash }).where(eq(editions.id, queued.id)),
    );
    return { id: queued.id, sent };
  }

  it("an edition whose creation reverted is failed by the monitor's release, naming the transaction; following it again changes nothing", async () => {
    const { id, sent } = await revertedCreation();
    await monitorSees(sent);
    expect(await editionRow(f, id)).toMatchObject({ status: "FAILED", error: `transaction ${sent.txHash} reverted` });
    await failReverted(f.deps);
    expect(toldFor(f, id).filter((s) => s === "FAILED")).toHaveLength(1);
  });

  it("an edition whose revert was recorded but not released (a crash in between) is failed by this stage", async () => {
    const { id, sent } = await revertedCreation();
    // What the monitor records before it releases: the outcome alone.
    await f.sender.outcome(sent);
    expect((await editionRow(f, id)).status).toBe("SUBMITTED");
    await failReverted(f.deps);
    expect(await editionRow(f, id)).toMatchObject({ status: "FAILED", error: `transaction ${sent.txHash} reverted` });
  });
});
