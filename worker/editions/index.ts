import { sql } from "drizzle-orm";
import { SenderRotation } from "../../core/chain/sender-rotation.ts";
import type { Database } from "../../core/db/index.ts";
import { editionContracts, editions } from "../../core/db/schema.ts";
import type { Pipeline } from "../../core/operations/context.ts";
import { PollLoop } from "../../core/poll-loop.ts";
import { pipelineOf, type WorkerDeps } from "../deps.ts";
import { sendAirdropBatches } from "./airdrop.ts";
import { bindEditionContracts } from "./bind-contract.ts";
import { createPinnedEditions } from "./create.ts";
import { EditionContracts } from "./deploy-contract.ts";
import { failReverted } from "./follow.ts";
import { editionsCursorName, indexEditionEvents } from "./indexer.ts";
import { pinQueuedEditions } from "./pin.ts";
import { sendCustodyReleases } from "./release.ts";

/**
 * Carries collectible editions to the chain, from the database alone (like the certificate batcher), one stage a
 * file:
 * - an edition QUEUED → PINNED (pin.ts: its metadata on IPFS) → SUBMITTED (create.ts: createEdition sent; the
 *   institution's editions contract deployed first when it has none, deploy-contract.ts) → CONFIRMED from the
 *   EditionCreated event (indexer.ts);
 * - an airdrop or a redeemed claim code (airdrop.ts): batches of holders in `airdrop` transactions under the
 *   per-transaction gas cap, several batches of an edition in flight, all from one key (so serials follow the holders' order),
 *   each CONFIRMED from its ItemMinted events; the operation is CONFIRMED when every item is; items for a holder
 *   without a wallet are minted into custody (airdropToCustody, redeemForCustody);
 * - a claimed custodial account's items released to the holder's wallet (release.ts: releaseFromCustody batches,
 *   CONFIRMED from CustodyReleased events, the operation once the chain shows none left in custody);
 * - each institution's editions contract bound to it in the issuer registry (bind-contract.ts), so galleries can
 *   name the museum;
 * - a reverted transaction fails its edition or operation (follow.ts).
 * Vouchers redeemed on chain mark their claim codes used (indexer.ts).
 */
export class EditionsRunner {
  private readonly deps: WorkerDeps & { pipeline: Pipeline };
  private readonly loop: PollLoop;
  private readonly cursorName: string;
  private readonly rotation: SenderRotation;
  private readonly contracts: EditionContracts;
  /** Per edition, the airdrop batch size the gas cap allowed (see airdrop.ts). */
  private readonly batchSizes = new Map<string, number>();
  /** Per edition, the most gas an airdropped item has cost in an estimate (see airdrop.ts). */
  private readonly gasPerItem = new Map<string, bigint>();
  /** Editions contracts the issuer registry refused to bind, not asked again by this process. */
  private readonly bindingsRefused = new Set<string>();

  constructor(deps: WorkerDeps) {
    // Every stage's state changes go through one pipeline: the worker's (live status), or one of its own.
    this.deps = { ...deps, pipeline: pipelineOf(deps) };
    this.cursorName = editionsCursorName(deps.config.chain.chainId);
    this.rotation = new SenderRotation(deps.senders);
    this.contracts = new EditionContracts(deps);
    this.loop = new PollLoop(
      "editions",
      // Again at once after sending batches: in flight, they may already be minted, and the next ones can go.
      () => this.tick(),
      { idleMs: Math.max(100, deps.config.indexerPollMs), logger: deps.logger },
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass of every stage; true when airdrop batches were sent (more may be ready at once). */
  async tick(): Promise<boolean> {
    if (!(await anyEditionsWork(this.deps.db))) return false;
    await pinQueuedEditions(this.deps);
    await createPinnedEditions(this.deps, this.rotation, this.contracts);
    const sent = await sendAirdropBatches(this.deps, this.rotation, this.batchSizes, this.gasPerItem);
    await sendCustodyReleases(this.deps, this.rotation);
    // A batch sent unestimated and handed back: the edition's next batches are estimated, which finds the cause.
    await failReverted(this.deps, (editionId) => this.gasPerItem.delete(editionId));
    await bindEditionContracts(this.deps, this.bindingsRefused);
    while (!(await this.index()));
    return sent > 0;
  }

  /** One range of the editions contracts' events; true at the head. */
  index(): Promise<boolean> {
    return indexEditionEvents(this.deps, this.cursorName);
  }
}

/**
 * Whether any stage of a tick could have something to do, in one statement instead of the six a tick reads: until an
 * institution has an editions contract, only a QUEUED or PINNED edition (whose creation deploys one) can. Every
 * later state (an edition sent, an airdrop, a batch, an event to index) belongs to a contract. Spares the database
 * of a platform that issues certificates only.
 */
export async function anyEditionsWork(db: Database): Promise<boolean> {
  const [row] = await db
    .select({
      any: sql<boolean>`exists (select 1 from ${editionContracts}) or exists (select 1 from ${editions} where ${editions.status} in ('QUEUED', 'PINNED'))`,
    })
    .from(sql`(select 1) as one`);
  return row?.any === true;
}
