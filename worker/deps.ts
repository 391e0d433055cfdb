import type { JsonRpcProvider } from "ethers";
import type { TxSender } from "../core/chain/tx-sender.ts";
import type { Config } from "../core/config.ts";
import type { Database } from "../core/db/index.ts";
import type { IpfsStore } from "../core/ipfs/index.ts";
import type { Logger } from "../core/logger.ts";

/** What every processor and the indexer are handed; built once by the process that runs the worker. */
export interface WorkerDeps {
  config: Config;
  db: Database;
  ipfs: IpfsStore;
  provider: JsonRpcProvider;
  /** One per signing key; the batcher spreads transactions across them. */
  senders: TxSender[];
  logger: Logger;
}
