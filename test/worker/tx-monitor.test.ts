import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TxSender } from "../../core/chain/tx-sender.ts";
import type { DatabaseHandle } from "../../core/db/index.ts";
import { openMigratedDatabase } from "../support/stage-fixture.ts";
import { chainTxs, editionMintBatches, editionOperations, editions, institutions } from "../../core/db/schema.ts";
import { createLogger } from "../../core/logger.ts";
import type { WorkerDeps } from "../../worker/deps.ts";
import { TxMonitor } from "../../worker/tx-monitor.ts";
import { ACCOUNT_3_KEY, startTestChain, type TestChain } from "../support/test-chain.ts";

/**
 * A stored transaction whose nonce another transaction took can never be mined: the monitor signs the same call
 * under a new nonce, and every operation on the old transaction follows it to the new one. Editions and airdrop
 * batches follow like issuances do.
 */
describe("the transaction monitor: a dropped transaction's operations move to its replacement", () => {
  let chain: TestChain;
  let dir: string;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    chain = await startTestChain();
    dir = await mkdtemp(join(tmpdir(), "hallmark-monitor-"));
    handle = await openMigratedDatabase(dir);
  });
  afterAll(async () => {
    await handle?.close();
    await rm(dir, { recursive: true, force: true });
    await chain?.close();
  });

  it("re-signs a dropped edition creation and airdrop batch under new nonces; the edition and the batch follow, and the replacements are mined", async () => {
    const db = handle.db;
    const logger = createLogger("silent");
    const wallet = chain.wallet(ACCOUNT_3_KEY);
    const sender = new TxSender({ db, provider: chain.provider, wallet, chainId: 31337, logger });
    await sender.init();

    const [inst] = await db.insert(institutions).values({ name: "Monitor Museum", slug: `monitor-${randomUUID().slice(0, 8)}` }).returning();
    const [edition] = await db
      .insert(editions)
      .values({ institutionId: inst!.id, idempotencyKey: "m-1", requestHash: "x", name: "M", metadataJson: "{}", maxSupply: 5, transferPolicy: "LOCKED", status: "SUBMITTED" })
      .returning();
    const [op] = await db
      .insert(editionOperations)
      .values({ institutionId: inst!.id, editionId: edition!.id, kind: "AIRDROP", idempotencyKey: "m-op", requestHash: "x", holders: [], total: 1, status: "SUBMITTED" })
      .returning();
    const target = Wallet.createRandom().address;
    // Signed and stored, never broadcast.
    const created = await sender.prepare(
      async () => ({ to: target, data: "0x", purpose: `editions:create:${edition!.id}`, gasLimit: 30_000n }),
      async (tx, stored) => {
        await tx.update(editions).set({ chainTxId: stored.id, txHash: stored.txHash }).where(eq(editions.id, edition!.id));
      },
    );
    let batchId = "";
    const minted = await sender.prepare(
      async () => ({ to: target, data: "0x", purpose: `editions:airdrop:${op!.id}:0`, gasLimit: 30_000n }),
      async (tx, stored) => {
        const [batch] = await tx.insert(editionMintBatches).values({ operationId: op!.id, start: 0, count: 1, chainTxId: stored.id, txHash: stored.txHash }).returning();
        batchId = batch!.id;
      },
    );
    // Another transaction of the same key takes each nonce first.
    for (const nonce of [created!.nonce, minted!.nonce]) await (await wallet.sendTransaction({ to: wallet.address, value: 0n, nonce })).wait();

    const monitor = new TxMonitor({ db, logger } as unknown as WorkerDeps, [sender]);
    const moved = async () => {
      const [e] = await db.select().from(editions).where(eq(editions.id, edition!.id));
      const [b] = await db.select().from(editionMintBatches).where(eq(editionMintBatches.id, batchId));
      return { edition: e!, batch: b! };
    };
    for (let i = 0; i < 20; i++) {
      await monitor.tick();
      const now = await moved();
      if (now.edition.chainTxId !== created!.id && now.batch.chainTxId !== minted!.id) break;
    }
    const { edition: e, batch: b } = await moved();
    expect(e.chainTxId).not.toBe(created!.id);
    expect(b.chainTxId).not.toBe(minted!.id);
    const olds = await db.select().from(chainTxs).where(eq(chainTxs.signer, wallet.address));
    expect(olds.find((t) => t.id === created!.id)!.status).toBe("DROPPED");
    expect(olds.find((t) => t.id === minted!.id)!.status).toBe("DROPPED");
    const replacementOfEdition = olds.find((t) => t.id === e.chainTxId)!;
    const replacementOfBatch = olds.find((t) => t.id === b.chainTxId)!;
    expect(replacementOfEdition).toMatchObject({ purpose: `editions:create:${edition!.id}`, txHash: e.txHash });
    expect(replacementOfBatch).toMatchObject({ purpose: `editions:airdrop:${op!.id}:0`, txHash: b.txHash });
    expect(replacementOfEdition.nonce).toBeGreaterThan(minted!.nonce);
    // The replacements are sent and mined.
    for (let i = 0; i < 20 && (await db.select().from(chainTxs).where(eq(chainTxs.id, b.chainTxId))).at(0)!.status !== "MINED"; i++) await monitor.tick();
    for (const tx of [e, b]) expect((await chain.provider.getTransactionReceipt(tx.txHash!))?.status).toBe(1);
  });
});
