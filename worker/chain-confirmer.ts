import type { Pipeline } from "../core/operations/context.ts";
import { PollLoop } from "../core/poll-loop.ts";
import { pipelineOf, type WorkerDeps } from "./deps.ts";

/**
 * A stage that takes SUBMITTED operations to CONFIRMED or FAILED by reading the chain back: each tick looks at what
 * is submitted, at the indexer's pace (every such stage waits on blocks, not on other work).
 */
export abstract class ChainConfirmer {
  protected readonly deps: WorkerDeps;
  protected readonly pipeline: Pipeline;
  private readonly loop: PollLoop;

  constructor(name: string, deps: WorkerDeps) {
    this.deps = deps;
    this.pipeline = pipelineOf(deps);
    this.loop = new PollLoop(name, async () => {
      await this.tick();
      return false;
    }, { idleMs: Math.max(100, deps.config.indexerPollMs), logger: deps.logger });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  abstract tick(): Promise<void>;
}
