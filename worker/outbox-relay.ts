import type { Queue } from "bullmq";
import { and, eq, inArray, isNull, lt } from "drizzle-orm";
import type { Database } from "../core/db/index.ts";
import { certificateOperations, issuances, outbox, revocations } from "../core/db/schema.ts";
import { DEFAULT_JOB_OPTIONS, jobIdFor, OUTBOX_TOPICS, type JobName, type JobPayloads } from "../core/jobs.ts";
import type { Logger } from "../core/logger.ts";
import { PollLoop } from "../core/poll-loop.ts";

const BATCH = 500;
/** Operations still QUEUED this long after their last change get their job enqueued again (same job id). */
const REDISPATCH_AFTER_MS = 20_000;
const SWEEP_EVERY_MS = 10_000;

/**
 * Moves committed outbox rows into the queue. Rows are locked while they are enqueued, so several relays
 * share the work; a crash between enqueue and marking leaves a row that is enqueued again under the same
 * job id, which BullMQ ignores.
 */
export class OutboxRelay {
  private readonly db: Database;
  private readonly queue: Queue;
  private readonly log: Logger;
  private readonly loop: PollLoop;
  private lastSweep = Date.now();

  constructor(opts: { db: Database; queue: Queue; logger: Logger; pollMs?: number }) {
    this.db = opts.db;
    this.queue = opts.queue;
    this.log = opts.logger;
    this.loop = new PollLoop("outbox relay", () => this.tick(), { idleMs: opts.pollMs ?? 100, logger: opts.logger });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async tick(): Promise<boolean> {
    const moved = await this.relayOnce();
    if (Date.now() - this.lastSweep > SWEEP_EVERY_MS) {
      this.lastSweep = Date.now();
      await this.redispatchStale();
    }
    return moved === BATCH;
  }

  /**
   * The database is the record of truth: a job lost with Redis (killed between its last AOF sync and the
   * enqueue, or its data wiped) is enqueued again for every operation still QUEUED. An existing job with the
   * same id makes the add a no-op.
   */
  async redispatchStale(): Promise<number> {
    const before = new Date(Date.now() - REDISPATCH_AFTER_MS);
    const stale = await this.db
      .select({ id: issuances.id })
      .from(issuances)
      .where(and(eq(issuances.status, "QUEUED"), lt(issuances.updatedAt, before)))
      .limit(5_000);
    const staleRevocations = await this.db
      .select({ id: revocations.id })
      .from(revocations)
      .where(and(eq(revocations.status, "QUEUED"), isNull(revocations.chainTxId), lt(revocations.updatedAt, before)))
      .limit(5_000);
    const staleOperations = await this.db
      .select({ id: certificateOperations.id })
      .from(certificateOperations)
      .where(
        and(
          inArray(certificateOperations.status, ["QUEUED", "PINNED"]),
          isNull(certificateOperations.chainTxId),
          lt(certificateOperations.updatedAt, before),
        ),
      )
      .limit(5_000);
    const jobs = [
      ...stale.map((r) => ({ name: "issue-certificate" as const, data: { issuanceId: r.id } })),
      ...staleRevocations.map((r) => ({ name: "revoke-certificate" as const, data: { revocationId: r.id } })),
      ...staleOperations.map((r) => ({ name: "certificate-operation" as const, data: { operationId: r.id } })),
    ].map((j) => ({ ...j, opts: { ...DEFAULT_JOB_OPTIONS, jobId: jobIdFor(j.name, j.data as never) } }));
    if (jobs.length) {
      // A job that failed for good under the same id would make the add a no-op: send it back to wait.
      for (const j of jobs) {
        const existing = await this.queue.getJob(j.opts.jobId);
        if (existing && (await existing.isFailed())) await existing.retry();
      }
      await this.queue.addBulk(jobs);
      this.log.info({ count: jobs.length }, "re-enqueued jobs of operations still QUEUED");
    }
    return jobs.length;
  }

  /** Enqueues one batch of pending rows; returns how many it moved. */
  async relayOnce(): Promise<number> {
    // Looked for first without a transaction: an idle relay then costs one statement a poll, not three.
    const [pending] = await this.db.select({ id: outbox.id }).from(outbox).where(isNull(outbox.dispatchedAt)).limit(1);
    if (!pending) return 0;
    return this.db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(outbox)
        .where(isNull(outbox.dispatchedAt))
        .orderBy(outbox.id)
        .limit(BATCH)
        .for("update", { skipLocked: true });
      if (!rows.length) return 0;
      const jobs = rows
        .filter((r) => (OUTBOX_TOPICS as readonly string[]).includes(r.topic))
        .map((r) => {
          const name = r.topic as JobName;
          const data = r.payload as unknown as JobPayloads[typeof name];
          return { name, data, opts: { ...DEFAULT_JOB_OPTIONS, jobId: jobIdFor(name, data) } };
        });
      await this.queue.addBulk(jobs);
      await tx
        .update(outbox)
        .set({ dispatchedAt: new Date() })
        .where(inArray(outbox.id, rows.map((r) => r.id)));
      return rows.length;
    });
  }
}
