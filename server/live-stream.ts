import { GraphQLError } from "graphql";
import { Repeater } from "graphql-yoga";
import type { LiveFeed, LiveMessage } from "../core/live/index.ts";
import type { Logger } from "../core/logger.ts";

/** With Redis: re-read the database after this long without hearing a message (lost messages cost no more). */
export const RESYNC_QUIET_MS = 5_000;
/** Without Redis the database is all there is: read it this often. */
export const POLL_WITHOUT_FEED_MS = 1_000;
/** Messages waiting for a subscriber that does not read them; past this its stream ends with an error. */
const MAX_BACKLOG = 10_000;

/** Messages heard for one subscription, waiting to be handled in order. */
class Inbox {
  private readonly items: LiveMessage[] = [];
  private wake: (() => void) | undefined;
  overflowed = false;

  put(message: LiveMessage): void {
    if (this.items.length >= MAX_BACKLOG) {
      this.overflowed = true;
    } else {
      this.items.push(message);
    }
    this.wake?.();
  }

  /** The next message, or undefined after `quietMs` without one or once `stopped` resolves. */
  async take(quietMs: number, stopped: Promise<unknown>): Promise<LiveMessage | undefined> {
    if (this.items.length || this.overflowed) return this.items.shift();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise<void>((r) => ((this.wake = r), (timer = setTimeout(r, quietMs)))), stopped]);
    clearTimeout(timer);
    this.wake = undefined;
    return this.items.shift();
  }
}

function backlogError(): GraphQLError {
  return new GraphQLError("This subscription fell too far behind; subscribe again to get the current state", {
    extensions: { code: "LIVE_BACKLOG_EXCEEDED" },
  });
}

export interface Followed<S> {
  live?: LiveFeed;
  logger: Logger;
  institutionId: string;
  /** The current state from the database; throws (NOT_FOUND) when the caller may not see it. */
  read(): Promise<S>;
  /** Whether a message concerns this state at all (others are not even kept). */
  concerns(message: LiveMessage): boolean;
  /** The state after `message`, or undefined when it brings nothing newer than `state`. */
  apply(state: S, message: LiveMessage): S | undefined;
  /** Whether a fresh read differs from what the subscriber last got. */
  differs(last: S, fresh: S): boolean;
  /** A state after which nothing is sent: the stream ends. */
  ended(state: S): boolean;
}

/**
 * One thing's state, live: its current state first (read after the institution's channel is subscribed, so no
 * change falls in between), then each newer state heard, until `ended`. When nothing has been heard for a while
 * the database is read again, so a lost message (or no Redis at all) delays a change but never hides it.
 */
export async function followState<S>(f: Followed<S>): Promise<AsyncIterable<S>> {
  const inbox = new Inbox();
  const unlisten = f.live ? await f.live.listen(f.institutionId, (m) => f.concerns(m) && inbox.put(m)) : () => {};
  const quietMs = f.live ? RESYNC_QUIET_MS : POLL_WITHOUT_FEED_MS;
  let initial: S;
  try {
    initial = await f.read();
  } catch (err) {
    unlisten();
    throw err;
  }
  return new Repeater<S>(async (push, stop) => {
    let closed = false;
    void stop.then(() => (closed = true));
    let state = initial;
    try {
      await push(state);
      while (!closed && !f.ended(state)) {
        const message = await inbox.take(quietMs, stop);
        if (closed) break;
        if (inbox.overflowed) throw backlogError();
        let next: S | undefined;
        if (message) {
          next = f.apply(state, message);
        } else {
          const fresh = await f.read().catch((err) => {
            f.logger.warn({ err: String(err) }, "live status: re-reading the state failed");
            return undefined;
          });
          if (fresh !== undefined && f.differs(state, fresh)) next = fresh;
        }
        if (next !== undefined) {
          state = next;
          await push(state);
        }
      }
      stop();
    } finally {
      unlisten();
    }
  });
}

/**
 * Every message of one institution that `expand` turns into events, from the moment the returned promise
 * resolves until the subscriber leaves. Without a feed nothing is ever heard.
 */
export async function followEvents<E>(opts: { live?: LiveFeed; institutionId: string; expand(message: LiveMessage): E[] }): Promise<AsyncIterable<E>> {
  const inbox = new Inbox();
  const unlisten = opts.live ? await opts.live.listen(opts.institutionId, (m) => opts.expand(m).length > 0 && inbox.put(m)) : () => {};
  return new Repeater<E>(async (push, stop) => {
    let closed = false;
    void stop.then(() => (closed = true));
    try {
      while (!closed) {
        const message = await inbox.take(60_000, stop);
        if (closed) break;
        if (inbox.overflowed) throw backlogError();
        if (message) for (const event of opts.expand(message)) await push(event);
      }
    } finally {
      unlisten();
    }
  });
}
