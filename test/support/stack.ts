import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStack, type RunningStack } from "../../scripts/dev/stack.ts";

/** The real platform (EDR, redis-server, PGlite, Helia, server, worker) in a throwaway data folder. */
export async function startTestStack(
  env: Record<string, string> = {},
  opts: { workerProcess?: boolean } = {},
): Promise<RunningStack & { cleanup(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), "hallmark-test-"));
  const stack = await startStack({
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "test",
      HALLMARK_DATA_DIR: dataDir,
      PORT: "0",
      CHAIN_PORT: "0",
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
      ...env,
    },
    notice: () => {},
    ...opts,
  });
  return {
    ...stack,
    async cleanup() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `read` until `done` holds, or fails with the last value seen. */
export async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await read();
    if (done(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
