import type { Redis } from "ioredis";
import type { Logger } from "../logger.ts";
import { institutionChannel, type LiveMessage } from "./events.ts";

export type LiveListener = (message: LiveMessage) => void;

/** One process's ear on the live channels: many listeners share one Redis connection in subscriber mode. */
export interface LiveFeed {
  /**
   * Calls `listener` with every live message of the institution from the moment the returned promise resolves
   * (the channel is subscribed in Redis by then, so a state read afterwards misses nothing in between). When
   * Redis cannot be reached it still resolves, after a warning: the caller's own reads must then carry it.
   * The returned function stops listening.
   */
  listen(institutionId: string, listener: LiveListener): Promise<() => void>;
  close(): Promise<void>;
}

/**
 * A feed on `redis`, which it takes over: a connection that subscribes can send nothing else. ioredis subscribes
 * again to every channel after a reconnect; messages published while it was away are lost, which is why the
 * subscriptions also re-read the database when nothing has been heard for a while.
 */
export function createLiveFeed(redis: Redis, logger: Logger): LiveFeed {
  const listeners = new Map<string, Set<LiveListener>>();
  const subscribing = new Map<string, Promise<unknown>>();
  redis.on("message", (channel: string, text: string) => {
    const set = listeners.get(channel);
    if (!set?.size) return;
    let message: LiveMessage;
    try {
      message = JSON.parse(text) as LiveMessage;
    } catch {
      logger.warn({ channel }, "live status: unreadable message");
      return;
    }
    for (const listener of [...set]) {
      try {
        listener(message);
      } catch (err) {
        logger.warn({ err: String(err) }, "live status: listener failed");
      }
    }
  });
  return {
    async listen(institutionId, listener) {
      const channel = institutionChannel(institutionId);
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(listener);
      if (!subscribing.has(channel)) {
        // A failed subscribe is forgotten, so the next listener of the channel tries again.
        const attempt: Promise<unknown> = redis.subscribe(channel).catch((err) => {
          if (subscribing.get(channel) === attempt) subscribing.delete(channel);
          logger.warn({ err: String(err) }, "live status: cannot subscribe; following the database only");
        });
        subscribing.set(channel, attempt);
      }
      await subscribing.get(channel);
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        set.delete(listener);
        if (set.size || listeners.get(channel) !== set) return;
        listeners.delete(channel);
        subscribing.delete(channel);
        redis.unsubscribe(channel).catch(() => {});
      };
    },
    async close() {
      listeners.clear();
      subscribing.clear();
      redis.disconnect();
    },
  };
}
