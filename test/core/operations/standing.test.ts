import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../../core/db/index.ts";
import { collections, editionMintBatches, editionOperations, editions, institutions, issuances, type IssuanceStatus } from "../../../core/db/schema.ts";
import { recentRate, standings } from "../../../core/operations/standing.ts";

const NOW = new Date("2031-06-01T12:00:00Z");
const ago = (ms: number) => new Date(NOW.getTime() - ms);

describe("where an operation stands: its place in the queue and its estimated confirmation", () => {
  let dir: string;
  let handle: DatabaseHandle;
  let institutionId: string;
  let collectionId: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hallmark-position-"));
    handle = await openDatabase({ dir });
    const db = handle.db;
    const [inst] = await db.insert(institutions).values({ name: "Queue College", slug: `queue-${randomUUID().slice(0, 8)}` }).returning();
    institutionId = inst!.id;
    const [col] = await db
      .insert(collections)
      .values({ institutionId, name: "Q", symbol: "Q", chainId: 1, contractAddress: Wallet.createRandom().address, deployBlock: 0 })
      .returning();
    collectionId = col!.id;
  });
  afterAll(async () => {
    await handle?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const issuance = (status: IssuanceStatus, createdAt: Date, updatedAt = createdAt) => {
    const id = randomUUID();
    return {
      id,
      institutionId,
      collectionId,
      idempotencyKey: id,
      requestHash: "x",
      requestId: `0x${id.replaceAll("-", "").padEnd(64, "0")}`,
      recipient: Wallet.createRandom().address,
      document: {},
      status,
      createdAt,
      updatedAt,
    };
  };

  it("issuances: the waiting ones ahead are counted, a sent one is next (0), an ended one has no standing; the pace of the last minute sets the time", async () => {
    const db = handle.db;
    // 120 confirmed in the last minute (2/s) and 500 long before, which do not count.
    await db.insert(issuances).values([
      ...Array.from({ length: 120 }, (_, i) => issuance("CONFIRMED", ago(3_600_000), ago(i * 400))),
      ...Array.from({ length: 500 }, () => issuance("CONFIRMED", ago(7_200_000), ago(7_000_000))),
    ]);
    const waiting = Array.from({ length: 10 }, (_, i) => issuance(i % 2 ? "PINNED" : "QUEUED", ago(60_000 - i * 1000)));
    const sent = issuance("SUBMITTED", ago(120_000));
    const failed = issuance("FAILED", ago(30_000));
    await db.insert(issuances).values([...waiting, sent, failed]);

    const rate = await recentRate(db, "issuance", NOW);
    expect(rate).toBe(2);
    const asked = [waiting[0]!, waiting[9]!, sent, failed];
    const [first, last, submitted, ended] = await standings(db, "issuance", asked, rate, NOW);
    expect(first).toEqual({ position: 0, estimatedConfirmationAt: new Date(NOW.getTime() + 500 + 3_000) });
    // Nine ahead, each a unit of work at 2/s, then itself.
    expect(last).toEqual({ position: 9, estimatedConfirmationAt: new Date(NOW.getTime() + 5_000 + 3_000) });
    expect(submitted!.position).toBe(0);
    expect(ended).toEqual({ position: null, estimatedConfirmationAt: null });
  });

  it("a quiet minute assumes the kind's usual pace rather than never", async () => {
    const op = issuance("QUEUED", NOW);
    const [s] = await standings(handle.db, "revocation", [op], 0, NOW);
    expect(s!.position).toBe(0);
    expect(s!.estimatedConfirmationAt!.getTime()).toBeGreaterThan(NOW.getTime());
  });

  it("airdrops: the time is the items left ahead and its own, at the pace items were minted in the last minute", async () => {
    const db = handle.db;
    const [edition] = await db
      .insert(editions)
      .values({ institutionId, idempotencyKey: "q-edition", requestHash: "x", name: "Q", metadataJson: "{}", maxSupply: 100_000, transferPolicy: "LOCKED", status: "CONFIRMED" })
      .returning();
    const op = (status: IssuanceStatus, total: number, minted: number, createdAt: Date) => ({
      institutionId,
      editionId: edition!.id,
      kind: "AIRDROP" as const,
      idempotencyKey: randomUUID(),
      requestHash: "x",
      holders: [],
      total,
      minted,
      status,
      createdAt,
    });
    const [done, older, running, mine] = await db
      .insert(editionOperations)
      .values([op("CONFIRMED", 600, 600, ago(50_000)), op("QUEUED", 300, 0, ago(40_000)), op("SUBMITTED", 1_000, 400, ago(45_000)), op("QUEUED", 200, 0, ago(10_000))])
      .returning();
    // 600 items minted in the last minute: 10 items/s.
    await db
      .insert(editionMintBatches)
      .values([0, 1, 2].map((i) => ({ operationId: done!.id, start: i * 200, count: 200, status: "CONFIRMED" as const, chainTxId: randomUUID(), txHash: `0x${i}`, updatedAt: ago(i * 10_000) })));
    const rate = await recentRate(db, "editionOperation", NOW);
    expect(rate).toBe(10);
    const [a, b, c] = await standings(db, "editionOperation", [mine!, running!, older!], rate, NOW);
    // One airdrop waits ahead of it (300 items), one is being sent (600 left): 900 + its own 200 items at 10/s.
    expect(a).toEqual({ position: 1, estimatedConfirmationAt: new Date(NOW.getTime() + 110_000 + 3_000) });
    // Being sent: only its 600 items left.
    expect(b).toEqual({ position: 0, estimatedConfirmationAt: new Date(NOW.getTime() + 60_000 + 3_000) });
    expect(c!.position).toBe(0);
  });
});
