import { UnrecoverableError, Worker, type Queue } from "bullmq";
import { eq, inArray, isNull, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateOperations, issuances, outbox, revocations } from "../../core/db/schema.ts";
import { OPERATIONS_QUEUE } from "../../core/jobs.ts";
import { requestCertificateOperation } from "../../core/operations/certificate-operations.ts";
import { requestRoleChange } from "../../core/operations/operator-requests.ts";
import { requestRevocation } from "../../core/operations/revoke.ts";
import { OutboxRelay } from "../../worker/outbox-relay.ts";
import { holderFor, startStageFixture, within, type StageFixture } from "../support/stage-fixture.ts";

/**
 * The outbox relay: what the API committed (an operation row and its outbox row, in one transaction) reaches the
 * queue as exactly one job per operation, whatever crashes in between; the database stays the record of truth
 * when Redis loses or fails a job.
 */
describe("the outbox relay: committed operations become exactly one job each", () => {
  let fx: StageFixture;
  let queue: Queue;
  let relay: OutboxRelay;

  beforeAll(async () => {
    fx = await startStageFixture({ redis: true });
    queue = fx.queue!;
    relay = new OutboxRelay({ db: fx.db, queue, logger: fx.deps.logger });
  });
  afterAll(async () => {
    await relay?.stop();
    await fx?.close();
  });

  const jobIdOf = (issuanceId: string) => `issue-${issuanceId}`;
  const pendingRows = async () => (await fx.db.select().from(outbox).where(isNull(outbox.dispatchedAt))).length;
  const waitingIds = async () => new Set((await queue.getJobs(["waiting"])).map((j) => j.id));
  /** Ages the operations past the relay's re-dispatch delay, as if they had waited that long. */
  const age = (ids: string[]) => fx.db.update(issuances).set({ updatedAt: sql`now() - interval '10 minutes'` }).where(inArray(issuances.id, ids));

  it("enqueues each committed outbox row as one job named for its operation, and marks the rows dispatched", async () => {
    const requested = await fx.requestIssuances(5, { prefix: "relay" });
    expect(await pendingRows()).toBe(5);
    expect(await relay.relayOnce()).toBe(5);
    expect(await pendingRows()).toBe(0);
    for (const issuance of requested) {
      const job = await queue.getJob(jobIdOf(issuance.id));
      expect(job).toMatchObject({ name: "issue-certificate", data: { issuanceId: issuance.id } });
    }
    expect(await queue.getWaitingCount()).toBe(5);
    // Nothing left: an idle relay moves nothing.
    expect(await relay.relayOnce()).toBe(0);
    expect(await queue.getWaitingCount()).toBe(5);
  });

  it("two outbox rows for the same operation still make one job", async () => {
    const [issuance] = await fx.requestIssuances(1, { prefix: "relay-twice" });
    await fx.db.insert(outbox).values({ topic: "issue-certificate", payload: { issuanceId: issuance!.id } });
    const before = await queue.getWaitingCount();
    expect(await relay.relayOnce()).toBe(2);
    expect(await queue.getWaitingCount()).toBe(before + 1);
    expect(await waitingIds()).toContain(jobIdOf(issuance!.id));
  });

  it("a crash after enqueueing but before marking the rows: the next relay enqueues them again and the queue still holds one job each", async () => {
    const requested = await fx.requestIssuances(3, { prefix: "relay-crash" });
    const before = await queue.getWaitingCount();
    // The jobs reach Redis, then the relay dies before its transaction commits.
    const dying = Object.create(queue, {
      addBulk: {
        value: async (jobs: Parameters<Queue["addBulk"]>[0]) => {
          await queue.addBulk(jobs);
          throw new Error("killed between enqueue and marking");
        },
      },
    }) as Queue;
    await expect(new OutboxRelay({ db: fx.db, queue: dying, logger: fx.deps.logger }).relayOnce()).rejects.toThrow(/killed/);
    expect(await pendingRows()).toBe(3);
    expect(await queue.getWaitingCount()).toBe(before + 3);

    // A new relay (the restarted worker) finds the rows still pending.
    expect(await new OutboxRelay({ db: fx.db, queue, logger: fx.deps.logger }).relayOnce()).toBe(3);
    expect(await pendingRows()).toBe(0);
    expect(await queue.getWaitingCount()).toBe(before + 3);
    const waiting = await waitingIds();
    for (const issuance of requested) expect(waiting).toContain(jobIdOf(issuance.id));
  });

  it("re-enqueues an operation still QUEUED whose job Redis lost, once it has waited; leaves recent and moved-on ones alone", async () => {
    const [lost, recent, pinned] = await fx.requestIssuances(3, { prefix: "relay-lost" });
    await relay.relayOnce();
    await fx.pin([pinned!.id]);
    // Redis loses every one of these jobs (killed before its last sync, or wiped).
    for (const i of [lost!, recent!, pinned!]) await (await queue.getJob(jobIdOf(i.id)))!.remove();
    await age([lost!.id, pinned!.id]);

    await relay.redispatchStale();
    const waiting = await waitingIds();
    expect(waiting).toContain(jobIdOf(lost!.id));
    expect(waiting).not.toContain(jobIdOf(recent!.id));
    expect(waiting).not.toContain(jobIdOf(pinned!.id));
    // Sweeping again adds nothing beside the job already there.
    const count = await queue.getWaitingCount();
    await relay.redispatchStale();
    expect(await queue.getWaitingCount()).toBe(count);
  });

  it("every kind of operation: its committed row becomes its own job, and one still QUEUED whose job was lost is enqueued again", async () => {
    const [revoked, suspended] = await fx.certify(2, "relay-kinds");
    await relay.relayOnce();
    const { revocation } = await requestRevocation(fx.db, fx.institutionId, { certificateId: revoked!.id, reason: "relay kinds" });
    const { operation } = await requestCertificateOperation(fx.db, fx.institutionId, {
      kind: "SUSPEND",
      input: { certificateId: suspended!.id, reason: "relay kinds", idempotencyKey: "relay-kinds-suspend" },
    });
    const { operation: roleChange } = await requestRoleChange(fx.db, { collectionId: fx.collection.id, role: "MINTER", account: holderFor(), grant: true });
    const expected = [
      { id: `revoke-${revocation.id}`, name: "revoke-certificate", data: { revocationId: revocation.id } },
      { id: `certop-${operation.id}`, name: "certificate-operation", data: { operationId: operation.id } },
      { id: `registry-${roleChange.id}`, name: "registry-operation", data: { operationId: roleChange.id } },
    ];
    expect(await relay.relayOnce()).toBe(3);
    for (const job of expected) expect(await queue.getJob(job.id)).toMatchObject({ name: job.name, data: job.data });

    // Redis loses them; the revocation and the certificate operation are still QUEUED in the database.
    for (const job of expected) await (await queue.getJob(job.id))!.remove();
    await fx.db.update(revocations).set({ updatedAt: sql`now() - interval '10 minutes'` }).where(eq(revocations.id, revocation.id));
    await fx.db.update(certificateOperations).set({ updatedAt: sql`now() - interval '10 minutes'` }).where(eq(certificateOperations.id, operation.id));
    await relay.redispatchStale();
    for (const job of expected.slice(0, 2)) expect(await queue.getJob(job.id)).toMatchObject({ name: job.name, data: job.data });
  });

  it("sends a job that failed for good under the same id back to wait, when its operation is still QUEUED", async () => {
    await queue.drain();
    const [issuance] = await fx.requestIssuances(1, { prefix: "relay-failed" });
    await relay.relayOnce();
    // A worker whose every attempt fails for good (as a processor bug would).
    const worker = new Worker(
      OPERATIONS_QUEUE,
      async () => {
        throw new UnrecoverableError("processor bug");
      },
      { connection: { url: fx.redisUrl!, maxRetriesPerRequest: null } },
    );
    try {
      const failed = new Promise<void>((ok) => worker.on("failed", (job) => job?.id === jobIdOf(issuance!.id) && ok()));
      await within(failed, 10_000, "the worker to fail the job");
    } finally {
      await worker.close();
    }
    expect(await (await queue.getJob(jobIdOf(issuance!.id)))!.getState()).toBe("failed");
    await age([issuance!.id]);

    await relay.redispatchStale();
    expect(await (await queue.getJob(jobIdOf(issuance!.id)))!.getState()).toBe("waiting");
  });
});
