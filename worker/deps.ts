import type { JsonRpcProvider, Signer } from "ethers";
import type { TxSender } from "../core/chain/tx-sender.ts";
import type { Config } from "../core/config.ts";
import type { Custody } from "../core/custody/custody-secret.ts";
import type { Database } from "../core/db/index.ts";
import type { IpfsStore } from "../core/ipfs/index.ts";
import type { Logger } from "../core/logger.ts";
import { createPipeline, type Pipeline } from "../core/operations/context.ts";

/** What every processor and the indexer are handed; built once by the process that runs the worker. */
export interface WorkerDeps {
  config: Config;
  db: Database;
  ipfs: IpfsStore;
  provider: JsonRpcProvider;
  /** One per signing key; the batcher spreads transactions across them. */
  senders: TxSender[];
  /**
   * Signs the platform operator's registry changes (ADMIN_PRIVATE_KEY, in development the deployer): the issuer
   * registry's OPERATOR_ROLE and the certificate registries' admin. Absent: those operations fail.
   */
  adminSender?: TxSender;
  /** The issuer registry those changes go to, when not configured (the dev stack's own). */
  issuerRegistry?: string;
  logger: Logger;
  /**
   * Deploys each institution's CollectibleEditions contract on its first edition (its admin): DEPLOYER_PRIVATE_KEY,
   * else ADMIN_PRIVATE_KEY; the dev stack's deployer. Absent: editions fail with a message saying so.
   */
  deployer?: Signer;
  /** The custody secret's keys: stored secrets (an editions contract's voucher key, webhook secrets) are sealed under them. */
  custody: Custody;
  /**
   * What every state change goes through (core/operations/context.ts): built once by `startWorker` with the live
   * publisher. Absent (a stage run on its own, as in a focused test): changes are logged and recorded for
   * webhooks, and told to no live sink.
   */
  pipeline?: Pipeline;
}

/** The stages' pipeline: the one the worker built, or one without live status. */
export function pipelineOf(deps: Pick<WorkerDeps, "db" | "logger" | "pipeline">): Pipeline {
  return deps.pipeline ?? createPipeline({ db: deps.db, logger: deps.logger });
}
