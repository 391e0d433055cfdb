import { AsyncLocalStorage } from "node:async_hooks";
import type { Database } from "../db/index.ts";
import type { StateChange } from "./events.ts";

/** Hears committed state changes; must return at once and never throw (see `createLivePublisher`). */
export interface LiveSink {
  stateChanged(change: StateChange): void;
}

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** Changes made inside one top-level transaction, told to its sink once that transaction has committed. */
interface Frame {
  sink: LiveSink;
  pending: StateChange[];
  settled: boolean;
}

const frames = new AsyncLocalStorage<Frame>();
const attached = new WeakMap<object, { sinks: LiveSink[]; original: Database["transaction"] }>();

/**
 * Tells `sink` of the state changes made through `db` (`transitionMany`, `markPinned`) once they have committed:
 * at once for a statement outside a transaction; after the commit for one inside `db.transaction(…)` (nothing
 * when it rolls back). `db.transaction` of this one instance is wrapped to keep that list, so every transaction
 * on it counts, whoever opens it (processors, the batcher, a `TxSender`). The last sink attached is told;
 * the returned function detaches it.
 */
export function attachLiveSink(db: Database, sink: LiveSink): () => void {
  let entry = attached.get(db);
  if (!entry) {
    const original = db.transaction;
    entry = { sinks: [], original };
    attached.set(db, entry);
    const own = entry;
    const wrapped = function (this: Database, ...args: Parameters<Database["transaction"]>) {
      const current = own.sinks.at(-1);
      if (!current) return original.apply(this, args);
      const frame: Frame = { sink: current, pending: [], settled: false };
      return frames.run(frame, async () => {
        try {
          const result = await original.apply(this, args);
          for (const change of frame.pending) frame.sink.stateChanged(change);
          return result;
        } finally {
          frame.settled = true;
          frame.pending.length = 0;
        }
      });
    } as Database["transaction"];
    Object.defineProperty(db, "transaction", { value: wrapped, configurable: true, writable: true });
  }
  entry.sinks.push(sink);
  return () => {
    const e = attached.get(db);
    if (!e) return;
    const i = e.sinks.lastIndexOf(sink);
    if (i >= 0) e.sinks.splice(i, 1);
    if (!e.sinks.length) {
      delete (db as { transaction?: unknown }).transaction;
      if (db.transaction !== e.original) Object.defineProperty(db, "transaction", { value: e.original, configurable: true, writable: true });
      attached.delete(db);
    }
  };
}

/**
 * Called by the state-changing functions with the handle they wrote through: the change is told after the
 * enclosing transaction commits, or now when `db` is an attached database used outside one. A transaction of
 * a database with no sink tells nobody.
 */
export function noteStateChange(db: Database | Tx, change: StateChange): void {
  if (!change.rows.length) return;
  const direct = attached.get(db)?.sinks.at(-1);
  if (direct) {
    direct.stateChanged(change);
    return;
  }
  const frame = frames.getStore();
  if (frame && !frame.settled) frame.pending.push(change);
}
