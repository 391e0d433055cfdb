export * from "./events.ts";
export { attachLiveSink, noteStateChange, type LiveSink } from "./hook.ts";
export { createLivePublisher, type LivePublisher } from "./publisher.ts";
export { createLiveFeed, type LiveFeed, type LiveListener } from "./subscriber.ts";
