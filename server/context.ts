import type { Database } from "../core/db/index.ts";
import type { IpfsStore } from "../core/ipfs/index.ts";
import type { Logger } from "../core/logger.ts";
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
  /** Absent for anonymous requests. */
  caller?: Caller;
}
