import { asc, eq, inArray } from "drizzle-orm";
import { Transaction, ZeroAddress, getBytes } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeIssueBatch, ISSUE_ENTRY_SIZE } from "../../core/chain/calldata.ts";
import { certificateRegistryAt, certificateRegistryInterface } from "../../core/chain/certificate-registry.ts";
import { TxSender } from "../../core/chain/tx-sender.ts";
import { chainTxs, issuances } from "../../core/db/schema.ts";
import type { Issuance } from "../../core/operations/issue.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { IssuanceBatcher } from "../../worker/batcher.ts";
import type { WorkerDeps } from "../../worker/deps.ts";
import { TxMonitor } from "../../worker/tx-monitor.ts";
import { createChainProvider } from "../../core/chain/provider.ts";
import { startRpcRecorder } from "../support/rpc-recorder.ts";
import { ACCOUNT_2_KEY } from "../support/test-chain.ts";
import { holderFor, startStageFixture, type StageFixture } from "../support/stage-fixture.ts";

const BATCH_SIZE = 10;

/**
 * The batcher: PINNED issuances of a registry leave in `issueBatch` transactions of at most the batch size; an
 * issuance the contract refuses is found before any nonce is taken and held back alone; however many batchers tick
 * at once or restart, each issuance is signed into one transaction.
 */
describe("the batcher: pinned issuances go on chain in batches, each once", () => {
  let fx: StageFixture;

  beforeAll(async () => {
    fx = await startStageFixture({ env: { BATCH_SIZE: String(BATCH_SIZE), BATCH_WINDOW_MS: "0", MAX_IN_FLIGHT_PER_KEY: "64" } });
  });
  afterAll(async () => {
    await fx?.close();
  });

  /** Every issueBatch the database holds signed, with the document digests (token ids) it carries. */
  async function signedBatches(): Promise<{ id: string; txHash: string; nonce: number; digests: string[] }[]> {
    const rows = await fx.db.select().from(chainTxs).orderBy(asc(chainTxs.nonce));
    const iface = certificateRegistryInterface();
    return rows
      .filter((r) => r.purpose.startsWith("issueBatch:"))
      .map((r) => {
        const packed = Buffer.from(getBytes(iface.decodeFunctionData("issueBatch", Transaction.from(r.rawTx).data)[0] as string));
        const digests = Array.from({ length: packed.length / ISSUE_ENTRY_SIZE }, (_, i) => `0x${packed.subarray(i * ISSUE_ENTRY_SIZE, i * ISSUE_ENTRY_SIZE + 32).toString("hex")}`);
        return { id: r.id, txHash: r.txHash, nonce: r.nonce, digests };
      });
  }

  async function pinned(count: number, prefix: string, recipient?: (i: number) => string): Promise<Issuance[]> {
    const requested = await fx.requestIssuances(count, { prefix, recipient });
    await fx.pin(requested.map((i) => i.id));
    return requested;
  }

  /** Ticks until none of `ids` is PINNED, then lets every broadcast finish. */
  async function drain(batchers: IssuanceBatcher[], ids: string[]): Promise<void> {
    for (let round = 0; ; round++) {
      const left = (await fx.issuancesByIds(ids)).filter((i) => i.status === "PINNED");
      if (!left.length) break;
      if (round === 40) throw new Error(`${left.length} issuances still PINNED after 40 rounds of ticks`);
      await Promise.all(batchers.map((b) => b.tick()));
    }
    await Promise.all(batchers.map((b) => b.stop()));
  }

  async function minted(digest: string | null): Promise<boolean> {
    return (await fx.registry.getFunction("tokenOfDocument")(digest)) > 0n;
  }

  it("sends 25 pinned issuances as three transactions of at most the batch size, every one mined and on chain", async () => {
    const before = (await signedBatches()).length;
    const requested = await pinned(25, "batch");
    const batcher = new IssuanceBatcher(fx.deps, fx.deps.senders);
    const sent: number[] = [];
    for (let n = await batcher.tick(); n > 0; n = await batcher.tick()) sent.push(n);
    await batcher.stop();
    expect(sent).toEqual([10, 10, 5]);

    const batches = (await signedBatches()).slice(before);
    expect(batches.map((b) => b.digests.length)).toEqual([10, 10, 5]);
    const rows = await fx.issuancesByIds(requested.map((i) => i.id));
    for (const row of rows) {
      expect(row.status).toBe("SUBMITTED");
      const batch = batches.find((b) => b.id === row.chainTxId)!;
      expect(batch.txHash).toBe(row.txHash);
      expect(batch.digests).toContain(row.digest);
    }
    for (const b of batches) expect((await fx.chain.provider.getTransactionReceipt(b.txHash))?.status).toBe(1);
    for (const row of rows) expect(await minted(row.digest)).toBe(true);
  });

  it("holds a partial batch until its oldest issuance has waited the batch window", async () => {
    const windowed: WorkerDeps = { ...fx.deps, config: { ...fx.config, batch: { size: BATCH_SIZE, windowMs: 60_000 } } };
    const requested = await pinned(3, "window");
    const batcher = new IssuanceBatcher(windowed, fx.deps.senders);
    expect(await batcher.tick()).toBe(0);
    expect((await fx.issuancesByIds(requested.map((i) => i.id))).every((i) => i.status === "PINNED")).toBe(true);
    // Full, it leaves at once.
    const more = await pinned(BATCH_SIZE - 3, "window-full");
    expect(await batcher.tick()).toBe(BATCH_SIZE);
    await batcher.stop();
    expect((await fx.issuancesByIds([...requested, ...more].map((i) => i.id))).every((i) => i.status === "SUBMITTED")).toBe(true);
  });

  it("halves a batch whose gas would pass the per-transaction cap until it fits; every issuance still goes, each once", async () => {
    const requested = await pinned(BATCH_SIZE, "capped");
    const rows = await fx.issuancesByIds(requested.map((i) => i.id));
    const full = await fx.chain.provider.estimateGas({
      from: fx.sender.address,
      to: fx.collection.contractAddress,
      data: encodeIssueBatch(rows.map((r) => ({ holder: r.recipient, digest: r.digest!, validUntil: 0n }))),
    });
    // Room for about half the batch.
    const txGasCap = Number((full * 6n) / 10n);
    const capped: WorkerDeps = { ...fx.deps, config: { ...fx.config, chain: { ...fx.config.chain, txGasCap } } };
    const before = (await signedBatches()).length;
    await drain([new IssuanceBatcher(capped, fx.deps.senders)], rows.map((r) => r.id));

    const batches = (await signedBatches()).slice(before);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flatMap((b) => b.digests).sort()).toEqual(rows.map((r) => r.digest).sort());
    for (const b of batches) {
      const [stored] = await fx.db.select().from(chainTxs).where(eq(chainTxs.id, b.id));
      expect(Transaction.from(stored!.rawTx).gasLimit).toBeLessThanOrEqual(BigInt(txGasCap));
      expect((await fx.chain.provider.getTransactionReceipt(b.txHash))?.status).toBe(1);
    }
  });

  it("fails an issuance whose holder the contract refuses, with the contract's reason, and sends the rest of its batch; the refusal takes no nonce", async () => {
    const before = await signedBatches();
    // The API refuses the zero address; a row that holds it anyway (written by hand, say) the registry refuses too.
    const requested = await pinned(12, "poison");
    const poison = requested[4]!;
    await fx.db.update(issuances).set({ recipient: ZeroAddress }).where(eq(issuances.id, poison.id));
    await drain([new IssuanceBatcher(fx.deps, fx.deps.senders)], requested.map((i) => i.id));

    const rows = await fx.issuancesByIds(requested.map((i) => i.id));
    const failed = rows.filter((r) => r.status === "FAILED");
    expect(failed.map((r) => r.id)).toEqual([poison.id]);
    expect(failed[0]!.error).toMatch(/^rejected by the contract: HolderInvalid\(/);
    expect(failed[0]!.chainTxId).toBeNull();
    expect(rows.filter((r) => r.status === "SUBMITTED")).toHaveLength(11);

    const batches = (await signedBatches()).slice(before.length);
    expect(batches.flatMap((b) => b.digests)).not.toContain(failed[0]!.digest);
    // Nonces stay contiguous (no gap a refused transaction would leave) and every transaction is mined.
    const nonces = (await signedBatches()).map((b) => b.nonce);
    expect(nonces).toEqual(nonces.map((_, i) => nonces[0]! + i));
    for (const b of batches) expect((await fx.chain.provider.getTransactionReceipt(b.txHash))?.status).toBe(1);
    for (const r of rows.filter((r) => r.status === "SUBMITTED")) expect(await minted(r.digest)).toBe(true);
    expect(await minted(failed[0]!.digest)).toBe(false);
  });

  it("never sends again an issuance whose document (and so request id) is already issued on chain; it waits for the indexer, the rest go through", async () => {
    const requested = await pinned(5, "already");
    const [early] = await fx.issuancesByIds([requested[2]!.id]);
    // Minted already (say, by a transaction whose record was lost), by another key with the issuer role.
    const deployer = fx.chain.wallet(DEV_KEYS.deployer);
    const other = fx.chain.wallet(ACCOUNT_2_KEY);
    const asAdmin = certificateRegistryAt(fx.collection.contractAddress, deployer);
    await (await asAdmin.getFunction("grantRole")(await asAdmin.getFunction("ISSUER_ROLE")(), other.address)).wait();
    await (await certificateRegistryAt(fx.collection.contractAddress, other).getFunction("issue")(early!.digest, early!.recipient, 0n)).wait();

    const before = (await signedBatches()).length;
    await drain([new IssuanceBatcher(fx.deps, fx.deps.senders)], requested.map((i) => i.id));
    const rows = await fx.issuancesByIds(requested.map((i) => i.id));
    expect(rows.map((r) => r.status)).toEqual(["SUBMITTED", "SUBMITTED", "SUBMITTED", "SUBMITTED", "SUBMITTED"]);
    const setAside = rows[2]!;
    expect(setAside.chainTxId).toBeNull();
    expect(setAside.error).toBeNull();
    const batches = (await signedBatches()).slice(before);
    expect(batches.flatMap((b) => b.digests).sort()).toEqual(rows.filter((r) => r !== setAside).map((r) => r.digest).sort());
    for (const b of batches) expect((await fx.chain.provider.getTransactionReceipt(b.txHash))?.status).toBe(1);
  });

  it("batchers of two workers ticking at once, one of them restarted midway, sign each issuance into exactly one transaction", async () => {
    const before = (await signedBatches()).length;
    const requested = await pinned(60, "race");
    const ids = requested.map((i) => i.id);
    // Each worker has its own sender for the same key, as separate processes do; the nonce is shared through the database.
    const secondSender = new TxSender({ db: fx.db, provider: fx.chain.provider, wallet: fx.chain.wallet(DEV_KEYS.minter), chainId: fx.config.chain.chainId, logger: fx.deps.logger, maxInFlight: 64 });
    await secondSender.init();
    const first = new IssuanceBatcher(fx.deps, [fx.sender]);
    const second = new IssuanceBatcher({ ...fx.deps, senders: [secondSender] }, [secondSender]);
    await Promise.all([first.tick(), second.tick(), first.tick(), second.tick()]);
    await first.stop();
    // The first worker restarts: a new batcher, nothing of the old one's memory.
    const restarted = new IssuanceBatcher(fx.deps, [fx.sender]);
    await drain([second, restarted], ids);

    const batches = (await signedBatches()).slice(before);
    const sentIds = batches.flatMap((b) => b.digests);
    expect(sentIds).toHaveLength(60);
    expect(new Set(sentIds).size).toBe(60);
    expect(batches.every((b) => b.digests.length <= BATCH_SIZE)).toBe(true);
    const rows = await fx.issuancesByIds(ids);
    expect(rows.every((r) => r.status === "SUBMITTED" && r.chainTxId)).toBe(true);
    expect(rows.every((r) => fx.moves("issuance", "SUBMITTED", r.id) === 1)).toBe(true);

    // The broadcasts of two senders may reach the node out of nonce order: the monitor carries each to its receipt.
    const monitor = new TxMonitor(fx.deps, [fx.sender, secondSender]);
    for (let round = 0; (await fx.db.select().from(chainTxs).where(inArray(chainTxs.status, ["SIGNED", "SENT"]))).length; round++) {
      if (round === 40) throw new Error("transactions still in flight after 40 monitor ticks");
      await monitor.tick();
    }
    for (const b of batches) {
      const [stored] = await fx.db.select().from(chainTxs).where(eq(chainTxs.id, b.id));
      expect(stored!.status).toBe("MINED");
    }
    for (const r of rows) expect(await minted(r.digest)).toBe(true);
  });
  it("estimates a registry's batch once: later batches go unestimated and are mined, and a batch naming the zero address is still estimated and refused with no nonce taken", async () => {
    const recorder = await startRpcRecorder(fx.chain.provider._getConnection().url);
    const provider = createChainProvider(recorder.rpcUrl, 31337);
    try {
      const recorded: WorkerDeps = { ...fx.deps, provider };
      const batcher = new IssuanceBatcher(recorded, fx.deps.senders);
      const before = (await signedBatches()).length;
      const requested = await pinned(3 * BATCH_SIZE, "known");
      await drain([batcher], requested.map((i) => i.id));
      // The first batch taught what a certificate costs; the next two were sent on that.
      expect(recorder.methods.get("eth_estimateGas")).toBe(1);
      const batches = (await signedBatches()).slice(before);
      expect(batches.map((b) => b.digests.length)).toEqual([BATCH_SIZE, BATCH_SIZE, BATCH_SIZE]);
      for (const b of batches) expect((await fx.chain.provider.getTransactionReceipt(b.txHash))?.status).toBe(1);
      for (const r of await fx.issuancesByIds(requested.map((i) => i.id))) expect(await minted(r.digest)).toBe(true);

      // A batch naming the zero address (the one holder the contract refuses) is estimated, so the refusal costs no
      // transaction.
      const mixed = await pinned(BATCH_SIZE, "known-poison");
      await fx.db.update(issuances).set({ recipient: ZeroAddress }).where(eq(issuances.id, mixed[2]!.id));
      const sentBefore = (await signedBatches()).length;
      // The same batcher (stopped only waits for its broadcasts): it knows the registry's cost.
      await drain([batcher], mixed.map((i) => i.id));
      expect(recorder.methods.get("eth_estimateGas")).toBeGreaterThan(1);
      const rows = await fx.issuancesByIds(mixed.map((i) => i.id));
      expect(rows.filter((r) => r.status === "FAILED").map((r) => r.id)).toEqual([mixed[2]!.id]);
      const sent = (await signedBatches()).slice(sentBefore);
      expect(sent.flatMap((b) => b.digests)).not.toContain(rows.find((r) => r.id === mixed[2]!.id)!.digest);
      for (const b of sent) expect((await fx.chain.provider.getTransactionReceipt(b.txHash))?.status).toBe(1);
    } finally {
      provider.destroy();
      await recorder.close();
    }
  });
});
