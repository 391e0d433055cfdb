import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../../core/db/index.ts";
import { editionOperations, editions, institutions, registryOperations, webhookDeliveries, webhookEndpoints } from "../../../core/db/schema.ts";
import { jobIdFor, OUTBOX_TOPICS } from "../../../core/jobs.ts";
import type { StateChange } from "../../../core/live/index.ts";
import type { Logger } from "../../../core/logger.ts";
import { createPipeline } from "../../../core/operations/context.ts";
import { CHAIN_TX_TABLES, OPERATION_KINDS } from "../../../core/operations/kinds.ts";
import { transition } from "../../../core/operations/transitions.ts";
import { forgetEndpoints } from "../../../core/webhooks/events.ts";

function recordingLogger() {
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  const logger = { info: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }), debug() {}, warn() {}, error() {} } as unknown as Logger;
  return { logger, lines };
}

describe("the kinds of operation: one registry", () => {
  it("keeps the job names, payloads and job ids that queues already hold", () => {
    expect([...OUTBOX_TOPICS].sort()).toEqual(["anchor-batch", "certificate-operation", "deploy-collection", "issue-certificate", "registry-operation", "revoke-anchored", "revoke-certificate"]);
    expect(jobIdFor("issue-certificate", { issuanceId: "a" })).toBe("issue-a");
    expect(jobIdFor("revoke-certificate", { revocationId: "b" })).toBe("revoke-b");
    expect(jobIdFor("registry-operation", { operationId: "c" })).toBe("registry-c");
    expect(jobIdFor("certificate-operation", { operationId: "d" })).toBe("certop-d");
    expect(jobIdFor("deploy-collection", { collectionId: "e" })).toBe("collection-e");
    expect(jobIdFor("anchor-batch", { batchId: "f" })).toBe("anchor-f");
    expect(jobIdFor("revoke-anchored", { revocationId: "g" })).toBe("anchored-revoke-g");
  });

  it("publishes the kinds it published before, under the same names, and moves every chain-linked table with a re-signed transaction", () => {
    const published = Object.entries(OPERATION_KINDS).filter(([, k]) => k.published).map(([name]) => name);
    expect(published.sort()).toEqual(["anchoredBatch", "anchoredRevocation", "certificateOperation", "collection", "edition", "editionOperation", "issuance", "revocation"]);
    // Every operation table but edition operations (their airdrop batches carry the transaction), audit anchors included, and those batches.
    expect(CHAIN_TX_TABLES).toHaveLength(10);
  });
});

describe("transitions of editions and registry operations", () => {
  let dir: string;
  let handle: DatabaseHandle;
  let institutionId: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hallmark-kinds-"));
    handle = await openDatabase({ dir });
    const [inst] = await handle.db.insert(institutions).values({ name: "Kinds College", slug: `kinds-${randomUUID().slice(0, 8)}` }).returning();
    institutionId = inst!.id;
    await handle.db.insert(webhookEndpoints).values({ institutionId, url: "https://example.test/hook", secret: "s" });
    forgetEndpoints(institutionId);
  });
  afterAll(async () => {
    await handle?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function newEdition() {
    const [edition] = await handle.db
      .insert(editions)
      .values({ institutionId, idempotencyKey: randomUUID(), requestHash: "h", name: "E", metadataJson: "{}", maxSupply: 10, transferPolicy: "LOCKED" })
      .returning();
    return edition!;
  }

  it("an airdrop's change tells its progress read from the row, never its internal columns; a live notice waits for the commit", async () => {
    const edition = await newEdition();
    const [op] = await handle.db
      .insert(editionOperations)
      .values({ institutionId, editionId: edition.id, kind: "AIRDROP", idempotencyKey: randomUUID(), requestHash: "h", holders: [Wallet.createRandom().address], total: 3, minted: 1 })
      .returning();
    const told: StateChange[] = [];
    const { logger, lines } = recordingLogger();
    const pipeline = createPipeline({ db: handle.db, logger, live: { stateChanged: (c) => told.push(c) } });
    await pipeline.transaction(async (ctx) => {
      expect(await transition(ctx, "editionOperation", op!.id, ["QUEUED"], "SUBMITTED", { sent: 1 }, { txHash: "0xabc" })).toBe(true);
      expect(told).toHaveLength(0);
    });
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ kind: "editionOperation", status: "SUBMITTED", rows: [{ id: op!.id, institutionId }] });
    expect((told[0]!.details as (id: string) => unknown)(op!.id)).toEqual({ txHash: "0xabc", minted: 1, total: 3 });
    const [row] = await handle.db.select().from(editionOperations);
    expect(row).toMatchObject({ status: "SUBMITTED", sent: 1 });
    const [delivery] = await handle.db.select().from(webhookDeliveries);
    expect(delivery!.eventType).toBe("editionOperation.submitted");
    expect(JSON.stringify(delivery!.payload)).not.toContain("sent");
    expect(lines.at(-1)).toMatchObject({ message: "editionOperation SUBMITTED", fields: { editionOperationId: op!.id, from: "QUEUED", to: "SUBMITTED", minted: 1, total: 3 } });
  });

  it("an edition sets its own columns as it moves; afterCommit drops the notices of work that failed", async () => {
    const edition = await newEdition();
    const told: StateChange[] = [];
    const pipeline = createPipeline({ db: handle.db, logger: recordingLogger().logger, live: { stateChanged: (c) => told.push(c) } });
    await expect(
      pipeline.afterCommit((within) =>
        handle.db.transaction(async (tx) => {
          await transition(within(tx), "edition", edition.id, ["QUEUED"], "PINNED", { metadataCid: "bafyE" });
          throw new Error("roll back");
        }),
      ),
    ).rejects.toThrow("roll back");
    expect(told).toHaveLength(0);
    await pipeline.afterCommit((within) => handle.db.transaction((tx) => transition(within(tx), "edition", edition.id, ["QUEUED"], "PINNED", { metadataCid: "bafyE" })));
    expect(told).toHaveLength(1);
    expect(told[0]!.details).toEqual({ metadataCid: "bafyE" });
    const [row] = await handle.db.select().from(editions).where(eq(editions.id, edition.id));
    expect(row).toMatchObject({ status: "PINNED", metadataCid: "bafyE" });
  });

  it("a registry operation is logged as before and published nowhere", async () => {
    const [op] = await handle.db
      .insert(registryOperations)
      .values({ kind: "REGISTER_INSTITUTION", idempotencyKey: randomUUID(), requestHash: "h", institutionId })
      .returning();
    const told: StateChange[] = [];
    const { logger, lines } = recordingLogger();
    const pipeline = createPipeline({ db: handle.db, logger, live: { stateChanged: (c) => told.push(c) } });
    const before = (await handle.db.select().from(webhookDeliveries)).length;
    expect(await transition(pipeline, "registryOperation", op!.id, ["QUEUED"], "FAILED", { error: "no admin key" })).toBe(true);
    expect(await transition(pipeline, "registryOperation", op!.id, ["QUEUED"], "FAILED", { error: "again" })).toBe(false);
    expect(told).toHaveLength(0);
    expect((await handle.db.select().from(webhookDeliveries)).length).toBe(before);
    expect(lines).toEqual([{ message: "registry operation FAILED", fields: { registryOperationId: op!.id, from: "QUEUED", to: "FAILED", error: "no admin key" } }]);
  });
});
