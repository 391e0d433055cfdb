export * from "./events.ts";
export type { LiveSink } from "./sink.ts";
export { createLivePublisher, type LivePublisher } from "./publisher.ts";
export { createLiveFeed, type LiveFeed, type LiveListener } from "./subscriber.ts";
