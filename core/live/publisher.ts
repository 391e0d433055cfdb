import { eq, inArray } from "drizzle-orm";
import type { Redis } from "ioredis";
import type { Database } from "../db/index.ts";
import { bulkIssuances, certificates } from "../db/schema.ts";
import type { Logger } from "../logger.ts";
import { bulkProgress } from "../operations/bulk-issue.ts";
import { institutionChannel, type BulkProgressed, type LiveMessage, type OperationChange, type OperationsChanged, type StateChange } from "./events.ts";
import type { LiveSink } from "./sink.ts";

/** At most one "cannot publish" warning per this many milliseconds: a Redis outage must not flood the log. */
const WARN_EVERY_MS = 30_000;

export interface LivePublisher extends LiveSink {
  /** Publishes one message on its institution's channel; resolves when sent or given up, never rejects. */
  publish(message: LiveMessage): Promise<void>;
  /** Resolves once every publish begun so far has been sent or given up (for tests and shutdown). */
  settled(): Promise<void>;
}

/**
 * Sends committed state changes to Redis pub/sub, where every server process hears them. Fire-and-forget: a
 * change is handed over in the caller's tick and published later; a Redis that is down costs a warning, never
 * an error or a wait in the pipeline (give it a connection without an offline queue, so a command fails at
 * once). A CONFIRMED issuance is published with its certificate's id, and a bulk issuance whose item ended is
 * followed by its progress, each read after the commit (one read per burst of changes of a bulk issuance).
 */
export function createLivePublisher(opts: { redis: Redis; db: Database; logger: Logger }): LivePublisher {
  const { redis, db, logger } = opts;
  const inFlight = new Set<Promise<void>>();
  let lastWarning = 0;
  const warn = (err: unknown, what: string) => {
    const now = Date.now();
    if (now - lastWarning < WARN_EVERY_MS) return;
    lastWarning = now;
    logger.warn({ err: String(err) }, `live status: ${what}; subscribers catch up from the database`);
  };
  const track = (work: Promise<void>) => {
    const p = work.catch((err) => warn(err, "could not publish")).finally(() => inFlight.delete(p));
    inFlight.add(p);
    return p;
  };

  const publish = (message: LiveMessage) => track(redis.publish(institutionChannel(message.institutionId), JSON.stringify(message)).then(() => {}));

  /** One progress read per bulk at a time; changes that arrive meanwhile ask for exactly one more. */
  const progressRuns = new Map<string, { again: boolean }>();
  const followBulk = (bulkId: string) => {
    const run = progressRuns.get(bulkId);
    if (run) {
      run.again = true;
      return;
    }
    const state = { again: false };
    progressRuns.set(bulkId, state);
    void track(
      (async () => {
        try {
          do {
            state.again = false;
            const [bulk] = await db.select().from(bulkIssuances).where(eq(bulkIssuances.id, bulkId));
            if (!bulk) return;
            const at = new Date().toISOString();
            const p = await bulkProgress(db, bulk);
            const message: BulkProgressed = {
              type: "bulk",
              institutionId: bulk.institutionId,
              id: bulk.id,
              total: p.total,
              done: p.done,
              failed: p.byStatus.FAILED,
              confirmed: p.byStatus.CONFIRMED,
              rejected: p.rejected,
              byStatus: p.byStatus,
              at,
            };
            await publish(message);
          } while (state.again);
        } finally {
          progressRuns.delete(bulkId);
        }
      })(),
    );
  };

  const send = async (change: StateChange) => {
    const certificateOf = new Map<string, string>();
    if (change.kind === "issuance" && change.status === "CONFIRMED") {
      const ids = change.rows.map((r) => r.id);
      const rows = await db
        .select({ id: certificates.id, issuanceId: certificates.issuanceId })
        .from(certificates)
        .where(inArray(certificates.issuanceId, ids))
        .catch((err) => {
          warn(err, "could not read the confirmed certificates");
          return [];
        });
      for (const r of rows) if (r.issuanceId) certificateOf.set(r.issuanceId, r.id);
    }
    const byInstitution = new Map<string, OperationChange[]>();
    for (const row of change.rows) {
      const details = typeof change.details === "function" ? change.details(row.id) : change.details;
      const op: OperationChange = { id: row.id, ...pick(details) };
      if (change.kind === "issuance") op.bulkIssuanceId = row.bulkId ?? null;
      if (certificateOf.has(row.id)) op.certificateId = certificateOf.get(row.id)!;
      byInstitution.set(row.institutionId, [...(byInstitution.get(row.institutionId) ?? []), op]);
    }
    await Promise.all(
      [...byInstitution].map(([institutionId, operations]) => {
        const message: OperationsChanged = { type: "operations", institutionId, kind: change.kind, status: change.status, at: change.at.toISOString(), operations };
        return publish(message);
      }),
    );
    if (change.kind === "issuance" && (change.status === "CONFIRMED" || change.status === "FAILED")) {
      for (const bulkId of new Set(change.rows.map((r) => r.bulkId).filter((b): b is string => !!b))) followBulk(bulkId);
    }
  };

  return {
    stateChanged(change) {
      void track(send(change));
    },
    publish,
    async settled() {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
  };
}

/** The fields a live message may carry; anything else (internal ids) stays out. */
function pick(details: Record<string, unknown>): Omit<OperationChange, "id"> {
  const out: Omit<OperationChange, "id"> = {};
  if ("txHash" in details) out.txHash = (details.txHash as string | null) ?? null;
  if ("error" in details) out.error = (details.error as string | null) ?? null;
  if (typeof details.metadataCid === "string") out.metadataCid = details.metadataCid;
  if (typeof details.digest === "string") out.digest = details.digest;
  if (typeof details.minted === "number") out.minted = details.minted;
  if (typeof details.total === "number") out.total = details.total;
  return out;
}
