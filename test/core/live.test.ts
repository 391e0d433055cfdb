import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../core/db/index.ts";
import { bulkIssuances, collections, institutions, issuances } from "../../core/db/schema.ts";
import { createLivePublisher, type LiveMessage, type StateChange } from "../../core/live/index.ts";
import type { Logger } from "../../core/logger.ts";
import { createPipeline } from "../../core/operations/context.ts";
import { markPinned, transitionMany } from "../../core/operations/transitions.ts";

const quiet = { info() {}, debug() {}, warn() {}, error() {} } as unknown as Logger;

describe("live status: state changes are told after they commit", () => {
  let handle: DatabaseHandle;
  let dir: string;
  let institutionId: string;
  let collectionId: string;
  let bulkId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "hallmark-live-"));
    handle = await openDatabase({ dir });
    const [inst] = await handle.db.insert(institutions).values({ name: "Live U", slug: "live-u" }).returning();
    institutionId = inst!.id;
    const [col] = await handle.db
      .insert(collections)
      .values({ institutionId, name: "Diplomas", symbol: "DIP", chainId: 31337, contractAddress: `0x${"11".repeat(20)}`, deployBlock: 0 })
      .returning();
    collectionId = col!.id;
    const [bulk] = await handle.db.insert(bulkIssuances).values({ institutionId, collectionId, idempotencyKey: "bulk-1", total: 3 }).returning();
    bulkId = bulk!.id;
  });
  afterAll(async () => {
    await handle?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function newIssuances(n: number, bulk?: string): Promise<string[]> {
    const ids = Array.from({ length: n }, () => randomUUID());
    await handle.db.insert(issuances).values(
      ids.map((id) => ({
        id,
        institutionId,
        collectionId,
        idempotencyKey: id,
        requestHash: id,
        requestId: `0x${id.replace(/-/g, "").padEnd(64, "0")}`,
        recipient: `0x${"22".repeat(20)}`,
        document: {},
        bulkId: bulk,
      })),
    );
    return ids;
  }

  it("inside a transaction: nothing until it commits; a rollback tells nothing; outside one: at once", async () => {
    const told: StateChange[] = [];
    const pipeline = createPipeline({ db: handle.db, logger: quiet, live: { stateChanged: (c) => told.push(c) } });
    {
      const [a, b] = await newIssuances(2);
      await pipeline.transaction(async (tx) => {
        await transitionMany(tx, "issuance", [a!], ["QUEUED"], "PINNED", { metadataCid: "bafyA", digest: "0xaa" });
        expect(told).toHaveLength(0);
      });
      expect(told).toHaveLength(1);
      expect(told[0]).toMatchObject({ kind: "issuance", status: "PINNED", rows: [{ id: a, institutionId, bulkId: null }], details: { metadataCid: "bafyA" } });

      await expect(
        pipeline.transaction(async (tx) => {
          await transitionMany(tx, "issuance", [b!], ["QUEUED"], "FAILED", { error: "nope" });
          throw new Error("roll back");
        }),
      ).rejects.toThrow("roll back");
      expect(told).toHaveLength(1);

      await transitionMany(pipeline, "issuance", [b!], ["QUEUED"], "FAILED", { error: "outside" });
      expect(told).toHaveLength(2);
      expect(told[1]).toMatchObject({ status: "FAILED", details: { error: "outside" } });

      // markPinned opens its own transaction through the pipeline.
      const [c] = await newIssuances(1);
      await markPinned(pipeline, [{ id: c!, metadataCid: "bafyC", digest: "0xcc" }]);
      expect(told).toHaveLength(3);
      expect(told[2]).toMatchObject({ status: "PINNED", rows: [{ id: c }] });
      expect((told[2]!.details as (id: string) => unknown)(c!)).toEqual({ metadataCid: "bafyC", digest: "0xcc" });
    }
    // A pipeline without a sink tells nobody, and the database's own transaction method was never replaced.
    expect(Object.prototype.hasOwnProperty.call(handle.db, "transaction")).toBe(false);
    const [d] = await newIssuances(1);
    await createPipeline({ db: handle.db, logger: quiet }).transaction((tx) => transitionMany(tx, "issuance", [d!], ["QUEUED"], "PINNED"));
    expect(told).toHaveLength(3);
  });

  it("publishes each institution's changes on its channel, then the bulk's progress once its items end", async () => {
    const sent: { channel: string; message: LiveMessage }[] = [];
    const redis = { publish: async (channel: string, text: string) => (sent.push({ channel, message: JSON.parse(text) }), 1) } as unknown as Redis;
    const publisher = createLivePublisher({ redis, db: handle.db, logger: quiet });
    const pipeline = createPipeline({ db: handle.db, logger: quiet, live: publisher });
    {
      const ids = await newIssuances(3, bulkId);
      await pipeline.transaction((tx) => transitionMany(tx, "issuance", ids, ["QUEUED"], "FAILED", { error: "bad", chainTxId: null }));
      await publisher.settled();
    }
    expect(sent.map((s) => s.channel)).toEqual([`hallmark:live:${institutionId}`, `hallmark:live:${institutionId}`]);
    const [ops, bulk] = sent.map((s) => s.message);
    expect(ops).toMatchObject({ type: "operations", institutionId, kind: "issuance", status: "FAILED" });
    expect(ops!.type === "operations" && ops.operations.map((o) => o.bulkIssuanceId)).toEqual([bulkId, bulkId, bulkId]);
    // The internal chain transaction id never leaves the worker.
    expect(JSON.stringify(ops)).not.toContain("chainTxId");
    expect(bulk).toMatchObject({ type: "bulk", id: bulkId, institutionId, total: 3, done: 3, failed: 3, confirmed: 0 });
  });

  it("with Redis down: the change goes through, one warning is logged, nothing waits", async () => {
    const redis = new Redis("redis://127.0.0.1:1", { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on("error", () => {});
    const warn = vi.fn();
    const publisher = createLivePublisher({ redis, db: handle.db, logger: { ...quiet, warn } as unknown as Logger });
    const pipeline = createPipeline({ db: handle.db, logger: quiet, live: publisher });
    try {
      const ids = await newIssuances(2);
      const started = Date.now();
      for (const id of ids) await pipeline.transaction((tx) => transitionMany(tx, "issuance", [id], ["QUEUED"], "PINNED"));
      await publisher.settled();
      expect(Date.now() - started).toBeLessThan(2_000);
      const rows = await handle.db.select({ status: issuances.status }).from(issuances);
      expect(rows.filter((r) => r.status === "PINNED").length).toBeGreaterThanOrEqual(2);
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      redis.disconnect();
    }
  });
});
