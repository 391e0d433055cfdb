import { Redis } from "ioredis";

export class RedisConfigError extends Error {}

/**
 * Refuses a Redis that would silently lose jobs: one that evicts keys under memory pressure, or (outside
 * development) one that keeps no append-only file and so forgets queued work on restart.
 */
export async function checkRedis(url: string, opts: { requireAof: boolean }): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000, enableOfflineQueue: false });
  try {
    try {
      await redis.connect();
    } catch (err) {
      throw new RedisConfigError(`Redis at ${redact(url)} is unreachable: ${(err as Error).message}`);
    }
    const [, policy] = (await redis.config("GET", "maxmemory-policy")) as [string, string];
    if (policy !== "noeviction") {
      throw new RedisConfigError(`Redis maxmemory-policy is "${policy}": set it to "noeviction" or queued jobs may be evicted`);
    }
    if (opts.requireAof) {
      const [, aof] = (await redis.config("GET", "appendonly")) as [string, string];
      if (aof !== "yes") throw new RedisConfigError('Redis keeps no append-only file: set "appendonly yes" so queued work survives a restart');
    }
  } finally {
    redis.disconnect();
  }
}

/** A URL without its password, for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "<invalid url>";
  }
}
