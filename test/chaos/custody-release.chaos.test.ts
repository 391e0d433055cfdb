import { randomUUID } from "node:crypto";
import { eq, inArray, like } from "drizzle-orm";
import { Contract, Wallet } from "ethers";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FaultPoint } from "../../core/chain/faults.ts";
import { claimAllCustody } from "../../core/custody/holder-claims.ts";
import { chainTxs, custodialHolders, editionContracts, editionOperations, editions, institutions } from "../../core/db/schema.ts";
import { collectibleEditionsInterface } from "../../core/editions/abi.ts";
import { buildEditionMetadata } from "../../core/editions/metadata.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { startChaosHarness, within, type ChaosHarness, type WorkerProcess } from "./harness.ts";

const FAULT_MS = 60_000;
const SETTLE_MS = 60_000;
const WORKER_ENV = { DEPLOYER_PRIVATE_KEY: DEV_KEYS.deployer };
const SEAMS = ["after-sign", "after-commit", "after-broadcast", "after-receipt"] as const satisfies readonly FaultPoint[];

/**
 * A worker killed at each seam of a release from custody (signed, stored, broadcast, mined but not recorded), then
 * started again, moves the claimed holder's Locked item to their wallet exactly once: one release transaction
 * stored, one CustodyReleased on chain, the operation CONFIRMED.
 */
describe("a release from custody under worker crashes", () => {
  let h: ChaosHarness;
  let contract: Contract;
  let institutionId: string;
  let editionId: string;
  /** One custodial account a seam, each holding one item of the edition in custody. */
  const custodians = SEAMS.map(() => Wallet.createRandom().address);

  const settle = async <T>(w: WorkerProcess, promise: Promise<T>, what: string) =>
    within(promise, SETTLE_MS, what).catch((err: Error) => {
      throw new Error(`${err.message}\n${w.stderr.slice(-2000)}\n${w.log.slice(-3000)}`);
    });

  async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
    for (;;) {
      const v = await read();
      if (done(v)) return v;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const operation = (id: string) => h.db.select().from(editionOperations).where(eq(editionOperations.id, id)).then((r) => r[0]!);

  beforeAll(async () => {
    h = await startChaosHarness();
    const [institution] = await h.db.insert(institutions).values({ name: "Custody Museum", slug: `custody-${randomUUID().slice(0, 8)}` }).returning();
    institutionId = institution!.id;
    const image = CID.create(1, raw.code, await sha256.digest(new TextEncoder().encode("a lamp"))).toString();
    const { bytes } = buildEditionMetadata({ name: "Harbour lamp", description: "A keepsake.", images: [{ cid: image, label: "The lamp" }] });
    const [edition] = await h.db
      .insert(editions)
      .values({ institutionId, idempotencyKey: randomUUID(), requestHash: "chaos", name: "Harbour lamp", metadataJson: new TextDecoder().decode(bytes), maxSupply: 10, transferPolicy: "LOCKED", reserved: SEAMS.length })
      .returning();
    editionId = edition!.id;
    await h.db.insert(custodialHolders).values(custodians.map((custodialAddress, i) => ({ institutionId, referenceHash: `chaos-${i}`, custodialAddress, holderKey: `chaos-holder-${i}` })));
    const [airdrop] = await h.db
      .insert(editionOperations)
      .values({ institutionId, editionId, kind: "AIRDROP", idempotencyKey: randomUUID(), requestHash: "chaos", holders: custodians, total: custodians.length })
      .returning();
    // An ordinary worker creates the contract and the edition, and mints the items into custody.
    const worker = h.startWorker(WORKER_ENV);
    await settle(worker, until(() => operation(airdrop!.id), (o) => o.status === "CONFIRMED" || o.status === "FAILED"), "the airdrop into custody to be confirmed");
    expect((await operation(airdrop!.id)).error).toBeNull();
    await h.killWorker(worker);
    const [row] = await h.db.select({ address: editionContracts.contractAddress }).from(editionContracts).where(eq(editionContracts.institutionId, institutionId));
    contract = new Contract(row!.address, collectibleEditionsInterface(), h.provider);
  }, 180_000);
  afterEach(async () => {
    await h?.killAll();
  });
  afterAll(async () => {
    await h?.stop();
  });

  SEAMS.forEach((seam, i) => {
    it(`a crash ${seam.replace("-", " ")} of the release: the item in the wallet, released once`, async () => {
      const wallet = Wallet.createRandom().address;
      const custodian = custodians[i]!;
      const [tokenId] = (await contract.queryFilter(contract.filters.Transfer!(null, custodian))).map((l) => (l as unknown as { args: { tokenId: bigint } }).args.tokenId);
      expect(await contract.inCustody!(tokenId)).toBe(true);
      const { releases } = await claimAllCustody(h.db, { holderKey: `chaos-holder-${i}`, wallet });
      expect(releases).toHaveLength(1);
      const release = releases[0]!;

      // The first transaction this worker signs is the release: nothing else is waiting.
      const doomed = h.startWorker({ ...WORKER_ENV, HALLMARK_FAULT: seam });
      await within(doomed.exited, FAULT_MS, `the worker armed with HALLMARK_FAULT=${seam} to reach its fault and exit`).catch((err: Error) => {
        throw new Error(`${err.message}\n${doomed.stderr.slice(-2000)}\n${doomed.log.slice(-3000)}`);
      });
      expect(doomed.stderr).toContain(`fault injected: ${seam}`);
      // The fault hit this release: its signed transaction was stored with its batch (or, signed only, rolled back).
      const storedBefore = await h.db.select().from(chainTxs).where(like(chainTxs.purpose, `editions:release:${release.id}:%`));
      expect(storedBefore).toHaveLength(seam === "after-sign" ? 0 : 1);

      const restarted = h.startWorker(WORKER_ENV);
      const done = await settle(restarted, until(() => operation(release.id), (o) => o.status === "CONFIRMED" || o.status === "FAILED"), `the release to be confirmed after a crash ${seam}`);
      await settle(restarted, until(() => h.db.select().from(chainTxs).where(inArray(chainTxs.status, ["SIGNED", "SENT"])), (open) => open.length === 0), "every sent transaction recorded");
      await h.killWorker(restarted);

      expect(done).toMatchObject({ status: "CONFIRMED", error: null, minted: 1, total: 1 });
      expect(await contract.ownerOf!(tokenId)).toBe(wallet);
      expect(await contract.inCustody!(tokenId)).toBe(false);
      const released = await contract.queryFilter(contract.filters.CustodyReleased!(tokenId));
      expect(released).toHaveLength(1);
      const stored = await h.db.select().from(chainTxs).where(like(chainTxs.purpose, `editions:release:${release.id}:%`));
      expect(stored).toHaveLength(1);
      expect(stored[0]!.txHash).toBe(released[0]!.transactionHash);
    });
  });
});
