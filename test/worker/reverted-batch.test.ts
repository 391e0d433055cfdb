import { eq } from "drizzle-orm";
import { parseUnits } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateRegistryAt } from "../../core/chain/certificate-registry.ts";
import { chainTxs } from "../../core/db/schema.ts";
import type { Issuance } from "../../core/operations/issue.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { IssuanceBatcher } from "../../worker/batcher.ts";
import { TxMonitor } from "../../worker/tx-monitor.ts";
import { startStageFixture, type StageFixture } from "../support/stage-fixture.ts";

/**
 * A batch estimated fine can still revert when mined (here: the registry is paused by a transaction mined just
 * before it). The transaction monitor hands its issuances back to the batcher once, with the reason; a second
 * revert fails them for good.
 */
describe("a reverted batch: its issuances go back to the batcher once, then fail", () => {
  let fx: StageFixture;
  let monitor: TxMonitor;

  beforeAll(async () => {
    fx = await startStageFixture({ env: { BATCH_SIZE: "10", BATCH_WINDOW_MS: "0" } });
    monitor = new TxMonitor(fx.deps, fx.deps.senders);
  });
  afterAll(async () => {
    await fx.chain?.provider.send("evm_setAutomine", [true]).catch(() => {});
    await fx?.close();
  });

  const admin = () => certificateRegistryAt(fx.collection.contractAddress, fx.chain.wallet(DEV_KEYS.deployer));

  /** Signs and broadcasts one batch, and has a pause mined ahead of it in the same block, so the batch reverts. */
  async function sendIntoPause(ids: string[]): Promise<string> {
    await fx.chain.provider.send("evm_setAutomine", [false]);
    try {
      const batcher = new IssuanceBatcher(fx.deps, fx.deps.senders);
      expect(await batcher.tick()).toBe(ids.length);
      await batcher.stop();
      // A higher tip: ordered ahead of the batch in the next block.
      await admin().getFunction("pause")({ maxPriorityFeePerGas: parseUnits("50", "gwei"), maxFeePerGas: parseUnits("500", "gwei") });
      await fx.chain.provider.send("evm_mine", []);
    } finally {
      await fx.chain.provider.send("evm_setAutomine", [true]);
    }
    const [row] = await fx.issuancesByIds([ids[0]!]);
    const receipt = await fx.chain.provider.getTransactionReceipt(row!.txHash!);
    expect(receipt?.status).toBe(0);
    return row!.txHash!;
  }

  async function follow(): Promise<void> {
    for (let round = 0; (await fx.sender.inFlightCount()) > 0; round++) {
      if (round === 20) throw new Error("transactions still in flight after 20 monitor ticks");
      await monitor.tick();
    }
  }

  let issued: Issuance[];

  it("hands the issuances of a reverted batch back to the batcher, with the reason, and they are sent again", async () => {
    issued = await fx.requestIssuances(4, { prefix: "reverted" });
    const ids = issued.map((i) => i.id);
    await fx.pin(ids);
    const revertedHash = await sendIntoPause(ids);
    await follow();

    const [stored] = await fx.db.select().from(chainTxs).where(eq(chainTxs.txHash, revertedHash));
    expect(stored!.status).toBe("REVERTED");
    for (const row of await fx.issuancesByIds(ids)) {
      expect(row).toMatchObject({ status: "PINNED", chainTxId: null, txHash: null, error: `transaction ${revertedHash} reverted; retrying once` });
    }

    // The registry unpaused, the batcher sends them again and the new batch is mined.
    await (await admin().getFunction("unpause")()).wait();
    await fx.mine(ids);
    for (const row of await fx.issuancesByIds(ids)) {
      expect(row.status).toBe("SUBMITTED");
      expect(row.txHash).not.toBe(revertedHash);
      expect((await fx.chain.provider.getTransactionReceipt(row.txHash!))?.status).toBe(1);
    }
  });

  it("fails for good the issuances of a batch that reverts a second time", async () => {
    const requested = await fx.requestIssuances(3, { prefix: "reverted-twice" });
    const ids = requested.map((i) => i.id);
    await fx.pin(ids);
    await sendIntoPause(ids);
    await follow();
    await (await admin().getFunction("unpause")()).wait();
    const secondHash = await sendIntoPause(ids);
    await follow();
    await (await admin().getFunction("unpause")()).wait();

    for (const row of await fx.issuancesByIds(ids)) {
      expect(row).toMatchObject({ status: "FAILED", error: `transaction ${secondHash} reverted twice` });
    }
  });
});
