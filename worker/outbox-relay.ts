import type { Queue } from "bullmq";
import { inArray, isNull } from "drizzle-orm";
import type { Database } from "../core/db/index.ts";
import { outbox } from "../core/db/schema.ts";
import { DEFAULT_JOB_OPTIONS, jobIdFor, OUTBOX_TOPICS, type JobName, type JobPayloads } from "../core/jobs.ts";
import type { Logger } from "../core/logger.ts";

const BATCH = 500;

/**
 * Moves committed outbox rows into the queue. Rows are locked while they are enqueued, so several relays
 * share the work; a crash between enqueue and marking leaves a row that is enqueued again under the same
 * job id, which BullMQ ignores.
 */
export class OutboxRelay {
  private readonly db: Database;
  private readonly queue: Queue;
  private readonly log: Logger;
  private readonly pollMs: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(opts: { db: Database; queue: Queue; logger: Logger; pollMs?: number }) {
    this.db = opts.db;
    this.queue = opts.queue;
    this.log = opts.logger;
    this.pollMs = opts.pollMs ?? 100;
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      let moved = 0;
      this.running = this.relayOnce()
        .then((n) => {
          moved = n;
        })
        .catch((err) => this.log.warn({ err: String(err) }, "outbox relay failed; retrying"));
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, moved === BATCH ? 0 : this.pollMs);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Enqueues one batch of pending rows; returns how many it moved. */
  async relayOnce(): Promise<number> {
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
