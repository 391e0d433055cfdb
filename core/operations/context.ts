import type { Database, DbTransaction } from "../db/index.ts";
import type { StateChange } from "../live/events.ts";
import type { LiveSink } from "../live/sink.ts";
import type { Logger } from "../logger.ts";


/**
 * What a state change needs: the handle it writes through (the database, or the transaction it is part of), the
 * logger, and where to tell of it once it has committed. `transition`, `transitionMany` and `markPinned` take one.
 */
export interface OperationContext {
  readonly db: Database | DbTransaction;
  readonly logger: Logger;
  /** Told of a change made through `db`: at once outside a transaction, after the commit inside one. */
  notice(change: StateChange): void;
}

/**
 * The context a worker builds once and hands to its stages. Outside a transaction it is itself the context (a
 * change is told at once); `transaction` and `afterCommit` give the context of a transaction, whose notices wait
 * for its commit and are dropped when it rolls back.
 */
export interface Pipeline extends OperationContext {
  readonly db: Database;
  /** Runs `work` in one database transaction; its changes are told once it has committed. */
  transaction<T>(work: (ctx: OperationContext & { db: DbTransaction }) => Promise<T>): Promise<T>;
  /**
   * For a transaction another module opens (a `TxSender` signing and storing a transaction): `within(tx)` is the
   * context of that transaction; what was noticed through it is told once `work` has resolved, nothing if it
   * rejects. `work` should commit at most one transaction through `within`.
   */
  afterCommit<T>(work: (within: (tx: DbTransaction) => OperationContext) => Promise<T>): Promise<T>;
}

/** A pipeline on `db`; `live` hears committed changes (absent: nobody does, as in a process without live status). */
export function createPipeline(opts: { db: Database; logger: Logger; live?: LiveSink }): Pipeline {
  const { db, logger, live } = opts;
  const tell = (change: StateChange) => {
    if (live && change.rows.length) live.stateChanged(change);
  };
  const deferred = <T>(work: (defer: (tx: DbTransaction) => OperationContext) => Promise<T>): Promise<T> => {
    const pending: StateChange[] = [];
    const within = (tx: DbTransaction): OperationContext => ({ db: tx, logger, notice: (change) => void pending.push(change) });
    return work(within).then((result) => {
      for (const change of pending) tell(change);
      return result;
    });
  };
  return {
    db,
    logger,
    notice: tell,
    transaction: (work) => deferred((within) => db.transaction((tx) => work(within(tx) as OperationContext & { db: DbTransaction }))),
    afterCommit: deferred,
  };
}
