import type { Logger } from "../logger.ts";

/** One thing to stop on shutdown; `name` is what the log says is still running if the bound passes. */
export interface ShutdownStep {
  name: string;
  run(): Promise<void>;
}

/**
 * On SIGTERM or SIGINT runs `steps` in order (stop taking work first, release connections last) and exits 0. Past
 * `timeoutMs` it exits 1, logging the step it was waiting for: an orchestrator's kill would come anyway, and the
 * log line says what did not drain. A second signal while stopping changes nothing.
 */
export function installShutdown(opts: { steps: ShutdownStep[]; timeoutMs: number; logger: Logger; exit?: (code: number) => void }): void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    opts.logger.info({ signal, timeoutMs: opts.timeoutMs }, "shutting down");
    let current = "starting";
    const timer = setTimeout(() => {
      opts.logger.error({ stillRunning: current, timeoutMs: opts.timeoutMs }, `shutdown took longer than ${opts.timeoutMs} ms; still running: ${current}`);
      exit(1);
    }, opts.timeoutMs);
    timer.unref();
    for (const step of opts.steps) {
      current = step.name;
      try {
        await step.run();
      } catch (err) {
        opts.logger.warn({ step: step.name, err: String(err) }, "error while shutting down");
      }
    }
    clearTimeout(timer);
    opts.logger.info({ signal }, "stopped");
    exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
