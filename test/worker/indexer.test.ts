import { eq, inArray } from "drizzle-orm";
import { hexlify, randomBytes } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packIssueBatch } from "../../core/chain/calldata.ts";
import { certificateRegistryAt } from "../../core/chain/certificate-registry.ts";
import { certificateOperations, certificates, indexerCursors, issuances, revocations } from "../../core/db/schema.ts";
import { requestCertificateOperation } from "../../core/operations/certificate-operations.ts";
import type { Issuance } from "../../core/operations/issue.ts";
import { requestRevocation } from "../../core/operations/revoke.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { ChainIndexer } from "../../worker/indexer.ts";
import { certificateOperation } from "../../worker/processors/certificate-operation.ts";
import { revokeCertificate } from "../../worker/processors/revoke-certificate.ts";
import { TxMonitor } from "../../worker/tx-monitor.ts";
import { ACCOUNT_2_KEY } from "../support/test-chain.ts";
import { holderFor, startStageFixture, type StageFixture } from "../support/stage-fixture.ts";

/**
 * The chain indexer: the only writer of confirmations. From the registry's events it records certificates and
 * confirms the operations that made them, exactly once however often it reads the same blocks, and reflects
 * revocations, suspensions and recoveries; its cursor moves with the chain.
 */
describe("the chain indexer: what the chain says, recorded once", () => {
  let fx: StageFixture;
  let indexer: ChainIndexer;
  const cursorName = () => `registries:${fx.config.chain.chainId}`;

  beforeAll(async () => {
    fx = await startStageFixture();
    indexer = new ChainIndexer(fx.deps);
    // Another key with the issuer role: what it mints, the worker did not send.
    const admin = certificateRegistryAt(fx.collection.contractAddress, fx.chain.wallet(DEV_KEYS.deployer));
    await (await admin.getFunction("grantRole")(await admin.getFunction("ISSUER_ROLE")(), fx.chain.wallet(ACCOUNT_2_KEY).address)).wait();
  });
  afterAll(async () => {
    await indexer?.stop();
    await fx?.close();
  });

  /** Ticks until the indexer reports reaching the head. */
  async function catchUp(which = indexer): Promise<void> {
    for (let round = 0; !(await which.tick()); round++) {
      if (round === 20) throw new Error("the indexer did not reach the head in 20 ticks");
    }
  }

  /** Carries the stored transactions of processors to their receipts. */
  async function settle(): Promise<void> {
    const monitor = new TxMonitor(fx.deps, fx.deps.senders);
    for (let round = 0; (await fx.sender.inFlightCount()) > 0; round++) {
      if (round === 20) throw new Error("transactions still in flight after 20 monitor ticks");
      await monitor.tick();
    }
  }

  async function onChain(count: number, prefix: string): Promise<Issuance[]> {
    const requested = await fx.requestIssuances(count, { prefix });
    await fx.pin(requested.map((i) => i.id));
    await fx.mine(requested.map((i) => i.id));
    return fx.issuancesByIds(requested.map((i) => i.id));
  }

  const certificateOf = async (issuanceId: string) => (await fx.db.select().from(certificates).where(eq(certificates.issuanceId, issuanceId)))[0];
  const cursor = async () => (await fx.db.select().from(indexerCursors).where(eq(indexerCursors.name, cursorName())))[0]?.lastBlock;

  let issued: Issuance[] = [];

  it("records a certificate for each issuance of a mined batch, as the chain has it, and confirms the issuance", async () => {
    issued = await onChain(12, "indexed");
    expect(issued.every((i) => i.status === "SUBMITTED")).toBe(true);
    await catchUp();

    const rows = await fx.issuancesByIds(issued.map((i) => i.id));
    expect(rows.every((r) => r.status === "CONFIRMED")).toBe(true);
    for (const row of rows) {
      const certificate = (await certificateOf(row.id))!;
      // The token id is the pinned document's digest, written in decimal; its URI is the CID it was pinned as.
      const tokenId: bigint = await fx.registry.getFunction("tokenOfDocument")(row.digest);
      expect(tokenId).toBe(BigInt(row.digest!));
      expect(await fx.registry.getFunction("tokenURI")(tokenId)).toBe(`ipfs://${row.metadataCid}`);
      expect(certificate).toMatchObject({
        status: "VALID",
        tokenId: tokenId.toString(),
        owner: row.recipient,
        metadataUri: `ipfs://${row.metadataCid}`,
        digest: row.digest,
        txHash: row.txHash,
        institutionId: fx.institutionId,
        collectionId: fx.collection.id,
      });
      expect(fx.moves("issuance", "CONFIRMED", row.id)).toBe(1);
    }
  });

  it("keeps its cursor at the head it read to, and moves it on as blocks arrive", async () => {
    expect(await cursor()).toBe(await fx.chain.provider.getBlockNumber());
    // Blocks without registry events still move the cursor.
    const someone = fx.chain.wallet(ACCOUNT_2_KEY);
    for (let i = 0; i < 3; i++) await (await someone.sendTransaction({ to: someone.address, value: 0n })).wait();
    const head = await fx.chain.provider.getBlockNumber();
    expect(await indexer.tick()).toBe(true);
    expect(await cursor()).toBe(head);
    // Nothing new: the tick reads nothing and says it is at the head.
    expect(await indexer.tick()).toBe(true);
    expect(await cursor()).toBe(head);
  });

  it("reading the same blocks again (a restart from an older cursor) records nothing twice and confirms nothing twice", async () => {
    const before = await fx.db.select().from(certificates);
    await fx.db.update(indexerCursors).set({ lastBlock: fx.collection.deployBlock - 1 }).where(eq(indexerCursors.name, cursorName()));
    // A new indexer, as after a worker restart.
    await catchUp(new ChainIndexer(fx.deps));
    const after = await fx.db.select().from(certificates);
    expect(after).toHaveLength(before.length);
    expect(after.map((c) => c.id).sort()).toEqual(before.map((c) => c.id).sort());
    for (const issuance of issued) expect(fx.moves("issuance", "CONFIRMED", issuance.id)).toBe(1);
    // Without any cursor it starts from the registries' deployment: the same answer again.
    await fx.db.delete(indexerCursors).where(eq(indexerCursors.name, cursorName()));
    await catchUp(new ChainIndexer(fx.deps));
    expect(await fx.db.select().from(certificates)).toHaveLength(before.length);
    expect(await cursor()).toBe(await fx.chain.provider.getBlockNumber());
  });

  it("confirms an issuance the batcher set aside because its document was already issued, and one failed although its certificate was minted", async () => {
    const requested = await fx.requestIssuances(2, { prefix: "indexed-late" });
    await fx.pin(requested.map((i) => i.id));
    const [aside, failed] = await fx.issuancesByIds(requested.map((i) => i.id));
    // Both minted by another issuer key, outside this worker's transactions.
    const asOther = certificateRegistryAt(fx.collection.contractAddress, fx.chain.wallet(ACCOUNT_2_KEY));
    const mined = await (
      await asOther.getFunction("issueBatch")(packIssueBatch([aside!, failed!].map((i) => ({ holder: i.recipient, digest: i.digest!, validUntil: 0n }))))
    ).wait();
    await fx.db.update(issuances).set({ status: "SUBMITTED" }).where(eq(issuances.id, aside!.id));
    await fx.db.update(issuances).set({ status: "FAILED", error: "transaction reverted twice" }).where(eq(issuances.id, failed!.id));

    await catchUp();
    for (const row of await fx.issuancesByIds([aside!.id, failed!.id])) {
      expect(row).toMatchObject({ status: "CONFIRMED", error: null, txHash: mined!.hash });
      expect(await certificateOf(row.id)).toMatchObject({ status: "VALID", txHash: mined!.hash });
    }
  });

  it("records nothing for a certificate issued outside Hallmark (a document the database does not know)", async () => {
    const before = (await fx.db.select().from(certificates)).length;
    const other = certificateRegistryAt(fx.collection.contractAddress, fx.chain.wallet(ACCOUNT_2_KEY));
    const digest = hexlify(randomBytes(32));
    await (await other.getFunction("issue")(digest, holderFor(), 0n)).wait();
    await catchUp();
    expect(await fx.db.select().from(certificates)).toHaveLength(before);
    expect(fx.logs.some((l) => l.msg === "certificate issued outside Hallmark" && l.tokenId === BigInt(digest).toString())).toBe(true);
  });

  it("reflects a revocation: the certificate REVOKED with its reason, time and transaction, the revocation CONFIRMED", async () => {
    const target = issued[0]!;
    const certificate = (await certificateOf(target.id))!;
    const { revocation } = await requestRevocation(fx.db, fx.institutionId, { certificateId: certificate.id, reason: "issued in error", reasonCode: "KEY_COMPROMISE" });
    await revokeCertificate(fx.deps, { revocationId: revocation.id });
    await settle();
    const [submitted] = await fx.db.select().from(revocations).where(eq(revocations.id, revocation.id));
    expect(submitted!.status).toBe("SUBMITTED");
    expect((await certificateOf(target.id))!.status).toBe("VALID");

    await catchUp();
    const revoked = (await certificateOf(target.id))!;
    const receipt = await fx.chain.provider.getTransactionReceipt(submitted!.txHash!);
    const block = await fx.chain.provider.getBlock(receipt!.blockNumber);
    expect(revoked).toMatchObject({ status: "REVOKED", revocationReason: "KEY_COMPROMISE", revokedTxHash: submitted!.txHash });
    expect(revoked.revokedAt!.getTime()).toBe(Number(block!.timestamp) * 1000);
    const [confirmed] = await fx.db.select().from(revocations).where(eq(revocations.id, revocation.id));
    expect(confirmed!.status).toBe("CONFIRMED");
    expect(fx.moves("revocation", "CONFIRMED", revocation.id)).toBe(1);
  });

  it("reflects a suspension and its lifting: SUSPENDED, then VALID again, each operation CONFIRMED", async () => {
    const target = issued[1]!;
    const certificate = (await certificateOf(target.id))!;
    for (const [kind, status] of [["SUSPEND", "SUSPENDED"], ["UNSUSPEND", "VALID"]] as const) {
      const { operation } = await requestCertificateOperation(fx.db, fx.institutionId, {
        kind,
        input: { certificateId: certificate.id, reason: "under review", idempotencyKey: `${kind}-${certificate.id}` },
      });
      await certificateOperation(fx.deps, { operationId: operation.id });
      await settle();
      await catchUp();
      expect((await certificateOf(target.id))!.status).toBe(status);
      const [op] = await fx.db.select().from(certificateOperations).where(eq(certificateOperations.id, operation.id));
      expect(op!.status).toBe("CONFIRMED");
      expect(fx.moves("certificateOperation", "CONFIRMED", operation.id)).toBe(1);
    }
  });

  it("reflects a recovery: a new certificate for the new holder, recorded with its issuance, the old one SUPERSEDED and linked both ways", async () => {
    const target = issued[2]!;
    const previous = (await certificateOf(target.id))!;
    const newHolder = holderFor();
    const { operation } = await requestCertificateOperation(fx.db, fx.institutionId, {
      kind: "RECOVER",
      input: { certificateId: previous.id, newHolder, reason: "lost wallet", idempotencyKey: `recover-${previous.id}` },
    });
    await certificateOperation(fx.deps, { operationId: operation.id });
    await settle();
    await catchUp();
    // And once more from the start: still one new certificate.
    await fx.db.update(indexerCursors).set({ lastBlock: fx.collection.deployBlock - 1 }).where(eq(indexerCursors.name, cursorName()));
    await catchUp();

    const [op] = await fx.db.select().from(certificateOperations).where(eq(certificateOperations.id, operation.id));
    expect(op!.status).toBe("CONFIRMED");
    const next = (await fx.db.select().from(certificates).where(eq(certificates.id, op!.resultCertificateId!)))[0]!;
    expect(next).toMatchObject({ owner: newHolder, replacesId: previous.id, status: "VALID", issuanceId: op!.newIssuanceId });
    expect((await certificateOf(target.id))!).toMatchObject({ status: "SUPERSEDED", supersededById: next.id });
    const [newIssuance] = await fx.db.select().from(issuances).where(eq(issuances.id, op!.newIssuanceId!));
    expect(newIssuance).toMatchObject({ status: "CONFIRMED", recipient: newHolder, requestId: op!.requestId });
    expect(await fx.db.select().from(certificates).where(inArray(certificates.owner, [newHolder]))).toHaveLength(1);
  });
});
