import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eq, inArray } from "drizzle-orm";
import { Wallet } from "ethers";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createdAddress } from "../../core/chain/contract-creation.ts";
import type { FaultPoint } from "../../core/chain/faults.ts";
import { chainTxs, editionContractCreations, editionContracts, editions, institutions } from "../../core/db/schema.ts";
import { buildEditionMetadata } from "../../core/editions/metadata.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { editionsContractPurpose } from "../../worker/editions/deploy-contract.ts";
import { startChaosHarness, within, type ChaosHarness } from "./harness.ts";

/** A worker armed with a fault must reach it well within this; an edition must be confirmed within SETTLE_MS of a restart. */
const FAULT_MS = 60_000;
const SETTLE_MS = 60_000;
/** The deployer key creates editions contracts (and, as the admin key, signs nothing else here). */
const DEPLOYER = new Wallet(DEV_KEYS.deployer).address;
const WORKER_ENV = { DEPLOYER_PRIVATE_KEY: DEV_KEYS.deployer };

/** What each seam left, for the chaos summary. */
const outcomes: { seam: FaultPoint; creationsSigned: number; contractsOnChain: number; confirmed: boolean }[] = [];

/**
 * A worker killed at each seam of an editions contract's creation (signed, stored, broadcast, mined but not
 * recorded), then started again, leaves exactly one editions contract for the institution, recorded at the address
 * of the creation that was mined, and the edition that asked for it is confirmed.
 */
describe("an editions contract creation under worker crashes", () => {
  let h: ChaosHarness;
  beforeAll(async () => {
    h = await startChaosHarness();
  });
  afterEach(async () => {
    await h?.killAll();
  });
  afterAll(async () => {
    if (!h) return;
    try {
      const line = outcomes.map((o) => `${o.seam} ${o.contractsOnChain} contract${o.contractsOnChain === 1 ? "" : "s"}${o.confirmed ? "" : " (edition not confirmed)"}`).join(", ");
      mkdirSync(join(process.cwd(), "test-results"), { recursive: true });
      writeFileSync(join(process.cwd(), "test-results", "chaos-summary-contract-creation.txt"), `chaos: editions contract creations after a crash: ${line || "none ran"}\n`);
    } finally {
      await h.stop();
    }
  });

  /** An institution of its own, with one edition QUEUED as the API records it. */
  async function queueFirstEdition(seam: string) {
    const [institution] = await h.db.insert(institutions).values({ name: `Crash Museum ${seam}`, slug: `crash-${seam}-${randomUUID().slice(0, 8)}` }).returning();
    const image = CID.create(1, raw.code, await sha256.digest(new TextEncoder().encode(`an image for ${seam}`))).toString();
    const { bytes } = buildEditionMetadata({ name: `Keepsake ${seam}`, description: "A keepsake.", images: [{ cid: image, label: "The keepsake" }] });
    const [edition] = await h.db
      .insert(editions)
      .values({
        institutionId: institution!.id,
        idempotencyKey: randomUUID(),
        requestHash: "chaos",
        name: `Keepsake ${seam}`,
        metadataJson: new TextDecoder().decode(bytes),
        maxSupply: 10,
        transferPolicy: "LOCKED",
      })
      .returning();
    return { institutionId: institution!.id, editionId: edition!.id };
  }

  async function editionConfirmed(editionId: string): Promise<void> {
    for (;;) {
      const [row] = await h.db.select({ status: editions.status, error: editions.error }).from(editions).where(eq(editions.id, editionId));
      if (row!.status === "CONFIRMED") return;
      if (row!.status === "FAILED") throw new Error(`edition failed: ${row!.error}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function allSettled(): Promise<void> {
    for (;;) {
      const open = await h.db.select({ id: chainTxs.id }).from(chainTxs).where(inArray(chainTxs.status, ["SIGNED", "SENT"]));
      if (open.length === 0) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  for (const seam of ["after-sign", "after-commit", "after-broadcast", "after-receipt"] as const) {
    it(`a crash ${seam.replace("-", " ")} of the creation: one contract, recorded where the mined creation put it, and the edition confirmed`, async () => {
      const { institutionId, editionId } = await queueFirstEdition(seam);
      const nonceBefore = await h.provider.getTransactionCount(DEPLOYER, "pending");

      // The first transaction this worker signs is the creation: nothing else is waiting.
      const doomed = h.startWorker({ ...WORKER_ENV, HALLMARK_FAULT: seam });
      await within(doomed.exited, FAULT_MS, `the worker armed with HALLMARK_FAULT=${seam} to reach its fault and exit`).catch((err: Error) => {
        throw new Error(`${err.message}\n${doomed.stderr.slice(-2000)}\n${doomed.log.slice(-3000)}`);
      });
      expect(doomed.stderr).toContain(`fault injected: ${seam}`);
      // Before the crash the signature was stored (or, at after-sign, rolled back with the voucher key's row).
      const stored = await h.db.select().from(chainTxs).where(eq(chainTxs.purpose, editionsContractPurpose(institutionId)));
      const [pendingRow] = await h.db.select().from(editionContractCreations).where(eq(editionContractCreations.institutionId, institutionId));
      if (seam === "after-sign") expect({ stored: stored.length, creation: pendingRow }).toEqual({ stored: 0, creation: undefined });
      else expect({ stored: stored.length, sealed: pendingRow?.voucherSignerKey.startsWith("sealed:") }).toEqual({ stored: 1, sealed: true });

      const restarted = h.startWorker(WORKER_ENV);
      await within(editionConfirmed(editionId), SETTLE_MS, `the edition to be confirmed by the restarted worker (${seam})`).catch((err: Error) => {
        throw new Error(`${err.message}\n${restarted.stderr.slice(-2000)}\n${restarted.log.slice(-3000)}`);
      });
      // The next seam's worker must meet no receipt but its own creation's: let this one settle every sent transaction first.
      await within(allSettled(), SETTLE_MS, `the restarted worker to record the outcome of every transaction it sent (${seam})`);
      await h.killWorker(restarted);

      // Every nonce the deployer used since is a creation; exactly one of them made a contract.
      const nonceAfter = await h.provider.getTransactionCount(DEPLOYER, "latest");
      const codes = [];
      for (let n = nonceBefore; n < nonceAfter; n++) codes.push(await h.provider.getCode(createdAddress(DEPLOYER, n)));
      const contractsOnChain = codes.filter((c) => c !== "0x").length;
      const creations = await h.db.select().from(chainTxs).where(eq(chainTxs.purpose, editionsContractPurpose(institutionId)));
      outcomes.push({ seam, creationsSigned: creations.length, contractsOnChain, confirmed: true });

      expect({ deployerNonces: nonceAfter - nonceBefore, contractsOnChain, creationsSigned: creations.length }).toEqual({
        deployerNonces: 1,
        contractsOnChain: 1,
        creationsSigned: 1,
      });
      const recorded = await h.db.select().from(editionContracts).where(eq(editionContracts.institutionId, institutionId));
      expect(recorded).toHaveLength(1);
      expect(recorded[0]).toMatchObject({ contractAddress: createdAddress(DEPLOYER, nonceBefore), deployTxHash: creations[0]!.txHash });
      expect(await h.db.select().from(editionContractCreations).where(eq(editionContractCreations.institutionId, institutionId))).toEqual([]);
      const [edition] = await h.db.select({ contractId: editions.contractId }).from(editions).where(eq(editions.id, editionId));
      expect(edition!.contractId).toBe(recorded[0]!.id);
    });
  }
});
