import type { Logger } from "./logger.ts";

/**
 * Runs `tick` until stopped: again at once while it reports more work waiting, after `idleMs` otherwise. A
 * failing tick is logged and tried again later, so a passing outage (database, node, Redis) never ends the loop.
 */
export class PollLoop {
  private readonly name: string;
  private readonly tick: () => Promise<boolean>;
  private readonly idleMs: number;
  private readonly log: Logger;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(name: string, tick: () => Promise<boolean>, opts: { idleMs: number; logger: Logger }) {
    this.name = name;
    this.tick = tick;
    this.idleMs = opts.idleMs;
    this.log = opts.logger;
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      let more = false;
      this.running = this.tick().then(
        (m) => {
          more = m;
        },
        (err) => this.log.warn({ err: String(err).slice(0, 500) }, `${this.name} failed; retrying`),
      );
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, more ? 0 : this.idleMs);
    };
    void loop();
  }

  /** Stops after the tick under way, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
