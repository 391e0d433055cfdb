import type { Database } from "../core/db/index.ts";
import type { IpfsStore } from "../core/ipfs/index.ts";
import type { LiveFeed } from "../core/live/index.ts";
import type { Logger } from "../core/logger.ts";
import type { Verifier } from "../core/verification/index.ts";
import type { ApiKeyScope } from "./auth/api-keys.ts";

export interface Caller {
  institutionId: string;
  institutionName: string;
  apiKeyId: string;
  scopes: readonly ApiKeyScope[];
}

/** Built once per request. */
export interface Context {
  db: Database;
  ipfs: IpfsStore;
  logger: Logger;
  /** Verifies certificates against the chain and IPFS (public). */
  verifier: Verifier;
  /** Absent for anonymous requests. */
  caller?: Caller;
  /** Live state changes from Redis, for subscriptions; without it they follow the database alone. */
  live?: LiveFeed;
}
