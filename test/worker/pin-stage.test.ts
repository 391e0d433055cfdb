import { createHash, randomUUID } from "node:crypto";
import { UnrecoverableError } from "bullmq";
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issuances, webhookDeliveries, webhookEndpoints } from "../../core/db/schema.ts";
import { forgetEndpoints } from "../../core/webhooks/events.ts";
import { cidDigestMatches } from "../../core/ipfs/index.ts";
import { documentUri } from "../../core/chain/certificate-registry.ts";
import { createPinStage } from "../../worker/pin-stage.ts";
import { issueCertificate } from "../../worker/processors/issue-certificate.ts";
import { issuanceById, startStageFixture, type StageFixture } from "../support/stage-fixture.ts";

async function bytesAt(fx: StageFixture, cid: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of fx.ipfs.cat(cid)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * The pin stage (the issue-certificate processor and its shared database side): a QUEUED issuance gets its
 * certificate document built and kept on IPFS, and moves to PINNED with the CID and digest the chain will carry.
 */
describe("the pin stage: QUEUED → PINNED with the document on IPFS", () => {
  let fx: StageFixture;

  beforeAll(async () => {
    fx = await startStageFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  it("pins the certificate document: the CID names its bytes, the digest is their sha256, the document names the issuance", async () => {
    const [issuance] = await fx.requestIssuances(1, { prefix: "pin-one" });
    expect(issuance!.status).toBe("QUEUED");
    await issueCertificate(fx.deps, createPinStage(fx.deps), { issuanceId: issuance!.id });

    const pinned = await issuanceById(fx.db, issuance!.id);
    expect(pinned.status).toBe("PINNED");
    expect(pinned.metadataCid).toBeTruthy();
    expect(await fx.ipfs.has(pinned.metadataCid!)).toBe(true);
    const bytes = await bytesAt(fx, pinned.metadataCid!);
    expect(await cidDigestMatches(pinned.metadataCid!, bytes)).toBe(true);
    expect(pinned.digest).toBe(`0x${createHash("sha256").update(bytes).digest("hex")}`);
    const document = JSON.parse(bytes.toString("utf8"));
    expect(JSON.stringify(document)).toContain(issuance!.requestId);
    expect(JSON.stringify(document)).toContain(issuance!.recipient);
    expect(JSON.stringify(document)).toContain(fx.collection.contractAddress);
    expect(fx.moves("issuance", "PINNED", issuance!.id)).toBe(1);
  });

  it("pins under exactly the CID the registry's tokenURI derives from the digest, and refuses to mark any other", async () => {
    const [issuance] = await fx.requestIssuances(1, { prefix: "pin-cid" });
    await issueCertificate(fx.deps, createPinStage(fx.deps), { issuanceId: issuance!.id });
    const pinned = await issuanceById(fx.db, issuance!.id);
    expect(`ipfs://${pinned.metadataCid}`).toBe(documentUri(pinned.digest!));

    // A document pinned as a UnixFS DAG (more than one chunk) has another CID: its token could not name it.
    const [other] = await fx.requestIssuances(1, { prefix: "pin-cid-dag" });
    const dag = await fx.ipfs.add(new Uint8Array(300_000).fill(7));
    const refused = createPinStage(fx.deps).markPinned({ id: other!.id, metadataCid: dag, digest: pinned.digest! });
    await expect(refused).rejects.toBeInstanceOf(UnrecoverableError);
    expect((await issuanceById(fx.db, other!.id)).status).toBe("QUEUED");
  });

  it("a retried job (the same issuance again, then twice at once) moves it once and keeps the same CID", async () => {
    const [issuance] = await fx.requestIssuances(1, { prefix: "pin-retry" });
    const pins = createPinStage(fx.deps);
    // Two deliveries of the same job at once (a stalled job run again while the first still runs).
    await Promise.all([issueCertificate(fx.deps, pins, { issuanceId: issuance!.id }), issueCertificate(fx.deps, createPinStage(fx.deps), { issuanceId: issuance!.id })]);
    const first = await issuanceById(fx.db, issuance!.id);
    expect(first.status).toBe("PINNED");
    // And once more later, as after a crash before the job was acknowledged.
    await issueCertificate(fx.deps, createPinStage(fx.deps), { issuanceId: issuance!.id });
    const again = await issuanceById(fx.db, issuance!.id);
    expect(again).toMatchObject({ status: "PINNED", metadataCid: first.metadataCid, digest: first.digest });
    expect(again.updatedAt.getTime()).toBe(first.updatedAt.getTime());
    expect(fx.moves("issuance", "PINNED", issuance!.id)).toBe(1);
  });

  it("a crash after pinning but before PINNED was recorded: the retry rebuilds the same bytes, so the same CID", async () => {
    const [issuance] = await fx.requestIssuances(1, { prefix: "pin-crash" });
    // The first attempt pins, then "crashes" before its write reaches the database.
    const crashed = createPinStage(fx.deps);
    const lost: string[] = [];
    await issueCertificate(fx.deps, { load: crashed.load, markPinned: async (p) => (lost.push(p.metadataCid), false) }, { issuanceId: issuance!.id });
    expect((await issuanceById(fx.db, issuance!.id)).status).toBe("QUEUED");
    await issueCertificate(fx.deps, createPinStage(fx.deps), { issuanceId: issuance!.id });
    const pinned = await issuanceById(fx.db, issuance!.id);
    expect(pinned.status).toBe("PINNED");
    expect(pinned.metadataCid).toBe(lost[0]);
  });

  it("pins many concurrent jobs, each to its own document, every one PINNED once", async () => {
    const batch = await fx.requestIssuances(25, { prefix: "pin-many" });
    await fx.pin(batch.map((i) => i.id));
    const rows = await fx.issuancesByIds(batch.map((i) => i.id));
    expect(rows.every((r) => r.status === "PINNED")).toBe(true);
    expect(new Set(rows.map((r) => r.metadataCid)).size).toBe(25);
    for (const r of rows) expect(fx.moves("issuance", "PINNED", r.id)).toBe(1);
  });

  it("leaves an issuance that has moved on alone", async () => {
    const [issuance] = await fx.requestIssuances(1, { prefix: "pin-later" });
    await fx.pin([issuance!.id]);
    const { digest, metadataCid } = await issuanceById(fx.db, issuance!.id);
    // Already past the pin stage (e.g. SUBMITTED by the batcher): a late job changes nothing.
    await fx.db.update(issuances).set({ status: "SUBMITTED" }).where(eq(issuances.id, issuance!.id));
    await issueCertificate(fx.deps, createPinStage(fx.deps), { issuanceId: issuance!.id });
    expect(await issuanceById(fx.db, issuance!.id)).toMatchObject({ status: "SUBMITTED", digest, metadataCid });
  });

  it("fails a job for an issuance that does not exist for good (no retries)", async () => {
    await expect(issueCertificate(fx.deps, createPinStage(fx.deps), { issuanceId: randomUUID() })).rejects.toBeInstanceOf(UnrecoverableError);
  });

  it("records the PINNED webhook event with the move once the institution has an endpoint, and none before", async () => {
    const [before] = await fx.requestIssuances(1, { prefix: "pin-hook-before" });
    await issueCertificate(fx.deps, createPinStage(fx.deps), { issuanceId: before!.id });
    const institutionId = before!.institutionId;
    const [endpoint] = await fx.db.insert(webhookEndpoints).values({ institutionId, url: "https://127.0.0.1:9/hook", secret: "sealed" }).returning();
    // As registering one through the API does in its process.
    forgetEndpoints(institutionId);
    try {
      const after = await fx.requestIssuances(3, { prefix: "pin-hook-after" });
      const pins = createPinStage(fx.deps);
      await Promise.all(after.map((i) => issueCertificate(fx.deps, pins, { issuanceId: i.id })));
      const events = await fx.db
        .select({ eventId: webhookDeliveries.eventId })
        .from(webhookDeliveries)
        .where(inArray(webhookDeliveries.eventId, [before!, ...after].map((i) => `evt_issuance_${i.id}_pinned`)));
      expect(events.map((e) => e.eventId).sort()).toEqual(after.map((i) => `evt_issuance_${i.id}_pinned`).sort());
      for (const i of after) expect((await issuanceById(fx.db, i.id)).status).toBe("PINNED");
    } finally {
      await fx.db.delete(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint!.id));
      await fx.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint!.id));
      forgetEndpoints(institutionId);
    }
  });
});
