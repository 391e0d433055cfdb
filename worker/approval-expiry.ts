import { expireApprovals } from "../core/approvals/expire.ts";
import { PollLoop } from "../core/poll-loop.ts";
import { pipelineOf, type WorkerDeps } from "./deps.ts";

/** How often requests past their approval deadline are looked for: a deadline is met within about this. */
const POLL_MS = 1_000;

/**
 * Ends what waited for approval too long: each tick expires the requests past their deadline (EXPIRED, their held
 * operations too, each an audit event), a hundred at a time, looping at once while there are more.
 */
export class ApprovalExpiryStage {
  private readonly loop: PollLoop;

  constructor(deps: WorkerDeps) {
    const pipeline = pipelineOf(deps);
    this.loop = new PollLoop("approval expiry", async () => (await expireApprovals(pipeline)) === 100, { idleMs: POLL_MS, logger: deps.logger });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
