import type { StateChange } from "./events.ts";

/**
 * Hears committed state changes; must return at once and never throw (see `createLivePublisher`). Handed to the
 * pipeline the worker builds (core/operations/context.ts), which tells it of each change once it has committed.
 */
export interface LiveSink {
  stateChanged(change: StateChange): void;
}
