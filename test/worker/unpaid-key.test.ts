import { eq, inArray } from "drizzle-orm";
import { JsonRpcProvider, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainRoleId } from "../../core/chain/certificate-registry.ts";
import { TxSender } from "../../core/chain/tx-sender.ts";
import { certificates, chainTxs, issuances, signerNonces } from "../../core/db/schema.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { IssuanceBatcher } from "../../worker/batcher.ts";
import type { WorkerDeps } from "../../worker/deps.ts";
import { ChainIndexer } from "../../worker/indexer.ts";
import { TxMonitor } from "../../worker/tx-monitor.ts";
import { startStageFixture, type StageFixture } from "../support/stage-fixture.ts";

/** A provider that counts the transactions broadcast through it: the key that cannot pay gets one of its own. */
class CountingProvider extends JsonRpcProvider {
  broadcasts = 0;
  override send(method: string, params: unknown[] | Record<string, unknown>): Promise<unknown> {
    if (method === "eth_sendRawTransaction") this.broadcasts++;
    return super.send(method, params);
  }
}

/**
 * Two signing keys on a priced chain (EDR's default: a base fee of 1 gwei), one of which cannot pay. Its work goes
 * to the funded key, it is not broadcast from in a loop, nothing is minted twice, and once funded it is back.
 */
describe("a signing key that cannot pay", () => {
  let fixture: StageFixture;
  let funder: Wallet;

  beforeAll(async () => {
    fixture = await startStageFixture();
    funder = fixture.chain.wallet(DEV_KEYS.deployer);
  }, 120_000);
  afterAll(async () => {
    await fixture?.close();
  });

  /** A fresh key with the registry's issuer role, sending through a provider of its own that counts its broadcasts. */
  async function issuerKey(funds: bigint, fundsGas?: bigint): Promise<{ sender: TxSender; provider: CountingProvider; wallet: Wallet }> {
    const provider = new CountingProvider(fixture.chain.provider._getConnection().url, 31337, { staticNetwork: true, pollingInterval: 50, cacheTimeout: -1 });
    const wallet = new Wallet(Wallet.createRandom().privateKey, provider);
    const registry = fixture.registry.connect(funder) as typeof fixture.registry;
    await (await registry.getFunction("grantRole")(chainRoleId("ISSUER"), wallet.address)).wait();
    if (funds > 0n) await (await funder.sendTransaction({ to: wallet.address, value: funds })).wait();
    const sender = new TxSender({ db: fixture.db, provider, wallet, chainId: fixture.config.chain.chainId, logger: fixture.deps.logger, maxInFlight: fixture.config.chain.maxInFlightPerKey, fundsGas });
    return { sender, provider, wallet };
  }

  /** Batcher and monitor ticks, the batch size a few certificates so both keys would be picked, until every issuance is mined. */
  async function issueThrough(deps: WorkerDeps, monitor: TxMonitor, count: number, prefix: string): Promise<string[]> {
    const ids = (await fixture.requestIssuances(count, { prefix })).map((i) => i.id);
    await fixture.pin(ids);
    const batcher = new IssuanceBatcher(deps, deps.senders);
    try {
      for (let round = 0; ; round++) {
        const rows = await fixture.db.select({ status: issuances.status }).from(issuances).where(inArray(issuances.id, ids));
        const inFlight = (await Promise.all(deps.senders.map((s) => s.inFlightCount()))).reduce((a, b) => a + b, 0);
        if (rows.every((r) => r.status !== "PINNED") && inFlight === 0) break;
        if (round === 400) throw new Error(`not all mined: ${JSON.stringify(rows.map((r) => r.status))}, ${inFlight} in flight`);
        await batcher.tick();
        await monitor.tick();
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await batcher.stop();
    }
    const indexer = new ChainIndexer(deps);
    for (let round = 0; !(await indexer.tick()); round++) if (round === 20) throw new Error("indexer behind");
    return ids;
  }

  /** What the worker recorded of the key in `signer_nonces`. */
  async function recorded(signer: string): Promise<{ cannotPayReason: string | null; fundsCheckedAt: Date | null } | undefined> {
    const [row] = await fixture.db
      .select({ cannotPayReason: signerNonces.cannotPayReason, fundsCheckedAt: signerNonces.fundsCheckedAt })
      .from(signerNonces)
      .where(eq(signerNonces.signer, signer));
    return row;
  }

  async function signersOf(ids: string[]): Promise<string[]> {
    const rows = await fixture.db
      .select({ signer: chainTxs.signer })
      .from(issuances)
      .innerJoin(chainTxs, eq(issuances.chainTxId, chainTxs.id))
      .where(inArray(issuances.id, ids));
    return [...new Set(rows.map((r) => r.signer))];
  }

  async function expectCertified(ids: string[]): Promise<void> {
    const rows = await fixture.db.select({ status: issuances.status }).from(issuances).where(inArray(issuances.id, ids));
    expect(rows.map((r) => r.status)).toEqual(ids.map(() => "CONFIRMED"));
    const certs = await fixture.db.select({ tokenId: certificates.tokenId }).from(certificates).where(inArray(certificates.issuanceId, ids));
    expect(certs).toHaveLength(ids.length);
    expect(new Set(certs.map((c) => c.tokenId)).size).toBe(ids.length);
  }

  it("is found at start, never picked, and its certificates are all issued by the funded key", async () => {
    const { sender: poor, provider } = await issuerKey(0n);
    await poor.init();
    expect(poor.health()).toMatchObject({ address: poor.address, canPay: false, reason: expect.stringMatching(/balance 0 wei is below/) });
    expect(fixture.logs.some((l) => l.msg.startsWith("signing key cannot pay") && l.signer === poor.address)).toBe(true);
    // Recorded for every other process (the API's operator query, /metrics) to read.
    expect(await recorded(poor.address)).toEqual({ cannotPayReason: poor.health().reason, fundsCheckedAt: poor.health().checkedAt });

    const deps: WorkerDeps = { ...fixture.deps, senders: [poor, fixture.sender], config: { ...fixture.config, batch: { ...fixture.config.batch, size: 4 } } };
    const monitor = new TxMonitor(deps, deps.senders, { fundsRecheckMs: 60_000 });
    const ids = await issueThrough(deps, monitor, 20, "start");
    await expectCertified(ids);
    expect(await signersOf(ids)).toEqual([fixture.sender.address]);
    expect(provider.broadcasts).toBe(0);
  });

  it("short of funds, is taken out on the node's refusal; its signed transactions move to the funded key; funded again, it is back", async () => {
    // Enough for the start check reckoned at a plain transfer's gas, too little for any batch: the node refuses its first.
    const fees = await fixture.sender.fees();
    const price = fees.type === 2 ? fees.maxFeePerGas : fees.gasPrice;
    const { sender: drained, provider, wallet } = await issuerKey(price * 21_000n * 2n, 21_000n);
    await drained.init();
    expect(drained.health().canPay).toBe(true);
    const broadcastsBefore = provider.broadcasts;

    const deps: WorkerDeps = { ...fixture.deps, senders: [drained, fixture.sender], config: { ...fixture.config, batch: { ...fixture.config.batch, size: 4 } } };
    const monitor = new TxMonitor(deps, deps.senders, { fundsRecheckMs: 60_000 });
    const ids = await issueThrough(deps, monitor, 24, "drained");
    await expectCertified(ids);
    expect(drained.health()).toMatchObject({ canPay: false, reason: expect.stringMatching(/the node refused/) });
    expect(await recorded(drained.address)).toEqual({ cannotPayReason: expect.stringMatching(/^the node refused transaction 0x[0-9a-f]{64}: .*(insufficient|enough) funds[^|]*$/i), fundsCheckedAt: expect.any(Date) });
    expect(await signersOf(ids)).toEqual([fixture.sender.address]);
    const moved = fixture.logs.filter((l) => l.msg === "transaction of a key that cannot pay moved to another key" && l.from === drained.address);
    expect(moved.length).toBeGreaterThan(0);
    // Each transaction signed before it was found out was refused at most twice (the batcher's broadcast, and the
    // monitor's when it got there first): no re-broadcast loop.
    expect(provider.broadcasts - broadcastsBefore).toBeLessThanOrEqual(2 * moved.length);
    // Its nonces were taken back, the moved transactions' rows with them: nothing of its own waits behind them.
    expect(await fixture.db.select().from(chainTxs).where(eq(chainTxs.signer, drained.address))).toEqual([]);
    const [nonceRow] = await fixture.db.select().from(signerNonces).where(eq(signerNonces.signer, drained.address));
    expect(nonceRow?.nextNonce).toBe(await fixture.chain.provider.getTransactionCount(drained.address, "pending"));

    // Ticks well past any re-broadcast interval send nothing more from it.
    const settled = provider.broadcasts;
    for (let i = 0; i < 20; i++) {
      await monitor.tick();
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(provider.broadcasts).toBe(settled);

    // Funded again: found at the next re-check and back in rotation, its next transactions mined under the nonces it took back.
    await (await funder.sendTransaction({ to: wallet.address, value: 10n ** 18n })).wait();
    const rechecking = new TxMonitor(deps, deps.senders, { fundsRecheckMs: 0 });
    await rechecking.tick();
    expect(drained.health().canPay).toBe(true);
    expect(fixture.logs.some((l) => l.msg === "signing key can pay again: back in rotation" && l.signer === drained.address)).toBe(true);
    expect(await recorded(drained.address)).toEqual({ cannotPayReason: null, fundsCheckedAt: drained.health().checkedAt });
    const again = await issueThrough(deps, rechecking, 16, "refunded");
    await expectCertified(again);
    expect((await signersOf(again)).sort()).toEqual([drained.address, fixture.sender.address].sort());
  });
  it("gives back at start the nonces of transactions moved by a worker that stopped before it could, never below a mined one", async () => {
    const { sender: first, wallet } = await issuerKey(0n);
    await first.init();
    const call = { to: fixture.collection.contractAddress, data: "0x", purpose: "moved", gasLimit: 100_000n };
    const stored = await first.prepare(async () => call, async () => {});
    // As a move leaves it: the transaction DROPPED, the nonce not yet given back.
    await fixture.db.update(chainTxs).set({ status: "DROPPED" }).where(eq(chainTxs.id, stored!.id));
    const nextNonce = async () => (await fixture.db.select().from(signerNonces).where(eq(signerNonces.signer, wallet.address)))[0]?.nextNonce;
    expect(await nextNonce()).toBe(1);

    const restarted = new TxSender({ db: fixture.db, provider: fixture.chain.provider, wallet: wallet.connect(fixture.chain.provider), chainId: fixture.config.chain.chainId, logger: fixture.deps.logger });
    await restarted.init();
    expect(await nextNonce()).toBe(0);
    expect(await fixture.db.select().from(chainTxs).where(eq(chainTxs.signer, wallet.address))).toEqual([]);

    // A row the node's count has not caught up with (here: recorded mined) keeps the nonce where it is.
    const again = await restarted.prepare(async () => call, async () => {});
    await fixture.db.update(chainTxs).set({ status: "MINED" }).where(eq(chainTxs.id, again!.id));
    expect(await restarted.reclaimNonces()).toBe(false);
    expect(await nextNonce()).toBe(1);
  });
});
