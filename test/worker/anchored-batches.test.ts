import { UnrecoverableError } from "bullmq";
import { eq, like } from "drizzle-orm";
import { Contract, Transaction } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateAnchorInterface } from "../../core/anchoring/anchor-contract.ts";
import { deployCertificateAnchor } from "../../core/chain/deploy.ts";
import { anchoredBatches, anchoredCertificates, anchoredRevocations, chainTxs, collections, webhookDeliveries, webhookEndpoints } from "../../core/db/schema.ts";
import { requestAnchoredBatch, requestAnchoredRevocation } from "../../core/operations/anchored.ts";
import { forgetEndpoints } from "../../core/webhooks/events.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { AnchoredBatchStage, anchorBatch, revokeAnchored } from "../../worker/anchored-batches.ts";
import { TxMonitor } from "../../worker/tx-monitor.ts";
import { holderFor, startStageFixture, type StageFixture } from "../support/stage-fixture.ts";

/**
 * The anchored-batches stage on its own: the anchor-batch and revoke-anchored jobs sign one transaction each however
 * often they run, through the fixture's nonce-managed sender; the stage confirms from the anchor contract.
 */
describe("anchored batches: one issue(root) or revoke per operation, confirmed from the anchor contract", () => {
  let fx: StageFixture;
  let stage: AnchoredBatchStage;
  let collectionId: string;
  let anchor: Contract;

  const batchRow = async (id: string) => (await fx.db.select().from(anchoredBatches).where(eq(anchoredBatches.id, id)))[0]!;
  const revocationRow = async (id: string) => (await fx.db.select().from(anchoredRevocations).where(eq(anchoredRevocations.id, id)))[0]!;
  const certificatesOf = (batchId: string) => fx.db.select().from(anchoredCertificates).where(eq(anchoredCertificates.batchId, batchId)).orderBy(anchoredCertificates.position);
  const request = (key: string, n = 3, collection = collectionId) =>
    requestAnchoredBatch({ db: fx.db, quotas: fx.config.quotas }, fx.institutionId, {
      collectionId: collection,
      idempotencyKey: key,
      certificates: Array.from({ length: n }, (_, i) => ({ recipient: holderFor(), title: `Transcript ${i}`, recipientName: `Holder ${i}` })),
    });
  async function mineAndConfirm(): Promise<void> {
    const monitor = new TxMonitor(fx.deps, [fx.sender]);
    for (let round = 0; (await fx.sender.inFlightCount()) > 0; round++) {
      if (round === 20) throw new Error("transactions still in flight after 20 monitor ticks");
      await monitor.tick();
    }
    await stage.tick();
  }
  async function anchoredCollection(name: string, issuer: string): Promise<{ id: string; address: string }> {
    const deployment = await deployCertificateAnchor(fx.chain.wallet(DEV_KEYS.deployer), { name, admin: fx.chain.wallet(DEV_KEYS.deployer).address, issuer });
    const [row] = await fx.db
      .insert(collections)
      .values({ institutionId: fx.institutionId, name, symbol: "ANC", kind: "ANCHORED", chainId: fx.config.chain.chainId, contractAddress: deployment.address, deployTxHash: deployment.txHash, deployBlock: deployment.blockNumber })
      .returning();
    return { id: row!.id, address: deployment.address };
  }

  beforeAll(async () => {
    fx = await startStageFixture();
    stage = new AnchoredBatchStage(fx.deps);
    const made = await anchoredCollection("Stage Transcripts", fx.sender.address);
    collectionId = made.id;
    anchor = new Contract(made.address, certificateAnchorInterface(), fx.chain.provider);
    await fx.db.insert(webhookEndpoints).values({ institutionId: fx.institutionId, url: "https://example.test/hook", secret: "s" });
    forgetEndpoints(fx.institutionId);
  }, 60_000);
  afterAll(async () => {
    await stage?.stop();
    await fx?.close();
  });

  it("signs one issue(root) however often its job runs, and confirms the batch with the block the anchor names", async () => {
    const { batch } = await request("stage-batch");
    await Promise.all([anchorBatch(fx.deps, { batchId: batch.id }), anchorBatch(fx.deps, { batchId: batch.id })]);
    await anchorBatch(fx.deps, { batchId: batch.id });
    const signed = await fx.db.select().from(chainTxs).where(eq(chainTxs.purpose, `anchor:${batch.id}`));
    expect(signed).toHaveLength(1);
    // The stored bytes are the call: issue(root) on the collection's anchor.
    const stored = Transaction.from(signed[0]!.rawTx);
    expect(stored.to).toBe(await anchor.getAddress());
    expect(certificateAnchorInterface().decodeFunctionData("issue", stored.data)[0]).toBe(batch.root);
    expect(await batchRow(batch.id)).toMatchObject({ status: "SUBMITTED", txHash: signed[0]!.txHash });
    await mineAndConfirm();
    const confirmed = await batchRow(batch.id);
    expect(confirmed).toMatchObject({ status: "CONFIRMED", error: null });
    expect(confirmed.blockNumber).toBe(Number(await anchor.getFunction("getIssuedBlock")(batch.root)));
    expect(fx.moves("anchoredBatch", "CONFIRMED", batch.id)).toBe(1);
    const events = await fx.db.select({ type: webhookDeliveries.eventType }).from(webhookDeliveries).where(like(webhookDeliveries.eventId, `evt_anchoredBatch_${batch.id}_%`));
    expect(events.map((e) => e.type).sort()).toEqual(["anchoredBatch.confirmed", "anchoredBatch.submitted"]);
  }, 60_000);

  it("a root already on the anchor (an earlier attempt, or the CLI) is confirmed without a second transaction", async () => {
    const { batch } = await request("already-there", 2);
    await (await (anchor.connect(fx.chain.wallet(DEV_KEYS.minter)) as Contract).getFunction("issue")(batch.root)).wait();
    await anchorBatch(fx.deps, { batchId: batch.id });
    expect(await fx.db.select().from(chainTxs).where(eq(chainTxs.purpose, `anchor:${batch.id}`))).toHaveLength(0);
    expect(await batchRow(batch.id)).toMatchObject({ status: "SUBMITTED", chainTxId: null });
    await stage.tick();
    expect(await batchRow(batch.id)).toMatchObject({ status: "CONFIRMED" });
  }, 60_000);

  it("revokes one certificate by its digest, then the whole batch by its root, each with one transaction, and marks what they cover", async () => {
    const { batch } = await request("to-revoke", 3);
    await anchorBatch(fx.deps, { batchId: batch.id });
    await mineAndConfirm();
    const [first, second] = await certificatesOf(batch.id);
    const one = await requestAnchoredRevocation(fx.db, fx.institutionId, "apiKey:test", { target: { digest: second!.digest }, reason: "typo in the name", idempotencyKey: "one" });
    await Promise.all([revokeAnchored(fx.deps, { revocationId: one.revocation.id }), revokeAnchored(fx.deps, { revocationId: one.revocation.id })]);
    expect(await fx.db.select().from(chainTxs).where(eq(chainTxs.purpose, `anchor:revoke:${one.revocation.id}`))).toHaveLength(1);
    await mineAndConfirm();
    expect(await revocationRow(one.revocation.id)).toMatchObject({ status: "CONFIRMED", requestedBy: "apiKey:test", reason: "typo in the name" });
    expect(await anchor.getFunction("isRevoked")(second!.digest)).toBe(true);
    expect((await certificatesOf(batch.id)).map((c) => c.status)).toEqual(["VALID", "REVOKED", "VALID"]);

    const all = await requestAnchoredRevocation(fx.db, fx.institutionId, "apiKey:test", { target: { batchId: batch.id }, reason: "session annulled", idempotencyKey: "all" });
    expect(all.revocation).toMatchObject({ target: batch.root, certificateId: null });
    await revokeAnchored(fx.deps, { revocationId: all.revocation.id });
    await mineAndConfirm();
    expect(await revocationRow(all.revocation.id)).toMatchObject({ status: "CONFIRMED" });
    expect(await anchor.getFunction("isRevoked")(batch.root)).toBe(true);
    expect((await batchRow(batch.id)).revokedAt).not.toBeNull();
    expect((await certificatesOf(batch.id)).map((c) => c.status)).toEqual(["REVOKED", "REVOKED", "REVOKED"]);
    expect(first!.status).toBe("VALID");
    const events = await fx.db.select({ type: webhookDeliveries.eventType }).from(webhookDeliveries).where(like(webhookDeliveries.eventId, `evt_anchoredRevocation_${all.revocation.id}_%`));
    expect(events.map((e) => e.type).sort()).toEqual(["anchoredRevocation.confirmed", "anchoredRevocation.submitted"]);
  }, 60_000);

  it("an anchor that refuses the worker's key fails the batch for good, naming the contract's error, with nothing signed", async () => {
    const other = await anchoredCollection("Foreign Anchor", fx.chain.wallet(DEV_KEYS.deployer).address);
    const { batch } = await request("not-an-issuer", 1, other.id);
    await expect(anchorBatch(fx.deps, { batchId: batch.id })).rejects.toBeInstanceOf(UnrecoverableError);
    const failed = await batchRow(batch.id);
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toContain("AccessControlUnauthorizedAccount");
    expect(await fx.db.select().from(chainTxs).where(eq(chainTxs.purpose, `anchor:${batch.id}`))).toHaveLength(0);
  }, 60_000);
});
