import { and, count, gt, inArray, sql, sum, type SQL } from "drizzle-orm";
import { pgArray } from "../db/arrays.ts";
import type { Database } from "../db/index.ts";
import { editionMintBatches, issuances, type OperationStatus } from "../db/schema.ts";
import { OPERATION_KINDS, type StandingKind } from "./kinds.ts";

export type { StandingKind } from "./kinds.ts";

/** One operation as far as its standing goes. */
export interface Queued {
  id: string;
  status: OperationStatus;
  createdAt: Date;
  /** Airdrops: items in all and minted so far (their work is items, not operations). */
  total?: number;
  minted?: number;
}

export interface Standing {
  /** Operations of the same kind accepted earlier and not yet sent to the chain; 0 once this one is sent; null once it has ended. */
  position: number | null;
  /** When it should be CONFIRMED at the pace of the last minute; null once it has ended. */
  estimatedConfirmationAt: Date | null;
}

/** How a kind's queue counts when its unit of work is not one operation. */
interface Units {
  /** Units of work left for an operation `w`: one, or an airdrop's items not yet minted. */
  work?: SQL;
  /** States whose work is ahead of a waiting operation: the waiting ones, and for airdrops those being sent too. */
  busy?: OperationStatus[];
  /** Units of work done over the last minute, when it is not the CONFIRMED operations counted. */
  done?: (db: Database, since: Date) => Promise<number>;
}

/** Airdrops: their work is items, minted batch by batch, not operations. */
const UNITS: Partial<Record<StandingKind, Units>> = {
  editionOperation: {
    work: sql.raw("(w.total - w.minted)"),
    busy: ["QUEUED", "PINNED", "SUBMITTED"],
    done: async (db, since) => {
      const [row] = await db
        .select({ n: sum(editionMintBatches.count) })
        .from(editionMintBatches)
        .where(and(inArray(editionMintBatches.status, ["CONFIRMED"]), gt(editionMintBatches.updatedAt, since)));
      return Number(row?.n ?? 0);
    },
  },
};

/** A kind's queue: its table, its pace after a quiet minute, and how it counts its work. */
function queueOf(kind: StandingKind) {
  const { table, standing } = OPERATION_KINDS[kind];
  // One query shape for every kind: drizzle sees one of the tables.
  return { table: table as typeof issuances, coldRate: standing.coldRate, ...UNITS[kind] };
}

const WINDOW_MS = 60_000;
/** A transaction's wait for its block and the indexer, on top of its wait in the queue. */
const CONFIRMATION_MS = 3_000;
const WAITING: OperationStatus[] = ["QUEUED", "PINNED"];
const ENDED: OperationStatus[] = ["CONFIRMED", "FAILED", "REJECTED", "EXPIRED"];

/** Units of work of this kind done per second over the last minute. */
export async function recentRate(db: Database, kind: StandingKind, now = new Date()): Promise<number> {
  const q = queueOf(kind);
  const since = new Date(now.getTime() - WINDOW_MS);
  const done = q.done
    ? await q.done(db, since)
    : ((await db.select({ n: count() }).from(q.table).where(and(inArray(q.table.status, ["CONFIRMED"]), gt(q.table.updatedAt, since))))[0]?.n ?? 0);
  return done / (WINDOW_MS / 1000);
}

/**
 * Where operations of one kind stand, all in one query: each one's place among the waiting ones and the work
 * ahead of it, and when it should be confirmed at `rate` (from `recentRate`; a cold start assumes the kind's
 * usual pace).
 */
export async function standings(db: Database, kind: StandingKind, ops: readonly Queued[], rate: number, now = new Date()): Promise<Standing[]> {
  const q = queueOf(kind);
  const open = ops.filter((o) => !ENDED.includes(o.status));
  const ahead = new Map<string, { n: number; work: number }>();
  if (open.length) {
    const t = q.table;
    const work = q.work ?? sql`1`;
    const waiting = pgArray(WAITING);
    const busy = pgArray(q.busy ?? WAITING);
    // For each operation asked about, one pass over the older ones still ahead of it: how many wait, and their work.
    const rows = (await db.execute(sql`
      select o.id::text as id, a.n::int as n, a.work::float8 as work
      from ${t} o
      cross join lateral (
        select count(*) filter (where w.status = any(${waiting}::text[])) as n, coalesce(sum(${work}), 0) as work
        from ${t} w where w.status = any(${busy}::text[]) and w.created_at < o.created_at
      ) a
      where o.id = any(${pgArray(open.map((o) => o.id))}::uuid[])`)) as unknown as { rows: { id: string; n: number; work: number }[] };
    for (const r of rows.rows) ahead.set(r.id, { n: Number(r.n), work: Number(r.work) });
  }
  const pace = rate > 0 ? rate : q.coldRate;
  return ops.map((o) => {
    if (ENDED.includes(o.status)) return { position: null, estimatedConfirmationAt: null };
    const before = ahead.get(o.id) ?? { n: 0, work: 0 };
    const waiting = WAITING.includes(o.status);
    const own = o.total != null ? Math.max(0, o.total - (o.minted ?? 0)) : 1;
    const workLeft = (waiting ? before.work : 0) + own;
    return { position: waiting ? before.n : 0, estimatedConfirmationAt: new Date(now.getTime() + (workLeft / pace) * 1000 + CONFIRMATION_MS) };
  });
}
