import type { JobsOptions, Queue } from "bullmq";
import { and, inArray, isNull, lt } from "drizzle-orm";
import type { Database } from "../core/db/index.ts";
import { outbox } from "../core/db/schema.ts";
import { DEFAULT_JOB_OPTIONS, jobFor, jobIdFor, OUTBOX_TOPICS, type JobName, type JobPayloads } from "../core/jobs.ts";
import { OPERATION_KIND_NAMES, OPERATION_KINDS, type JobKind } from "../core/operations/kinds.ts";
import type { Logger } from "../core/logger.ts";
import { PollLoop } from "../core/poll-loop.ts";

const BATCH = 500;
/** Operations still waiting for their job this long after their last change get it enqueued again (same job id). */
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
   * enqueue, or its data wiped) is enqueued again for every operation of a kind moved by a job that still waits
   * in one of its kind's re-dispatched states with no transaction. An existing job with the same id makes the
   * add a no-op.
   */
  async redispatchStale(): Promise<number> {
    const before = new Date(Date.now() - REDISPATCH_AFTER_MS);
    const jobs: { name: JobName; data: JobPayloads[JobName]; opts: JobsOptions & { jobId: string } }[] = [];
    for (const kind of OPERATION_KIND_NAMES) {
      const { table, job, redispatch } = OPERATION_KINDS[kind];
      if (!job || !redispatch.length) continue;
      const stale = await this.db
        .select({ id: table.id })
        .from(table)
        .where(and(inArray(table.status, [...redispatch] as never[]), isNull(table.chainTxId), lt(table.updatedAt, before)))
        .limit(5_000);
      for (const { id } of stale) {
        const { name, data } = jobFor(kind as JobKind, id);
        jobs.push({ name, data, opts: { ...DEFAULT_JOB_OPTIONS, jobId: jobIdFor(name, data) } });
      }
    }
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
