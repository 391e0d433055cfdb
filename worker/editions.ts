import { and, asc, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import { Contract, getAddress, Wallet, type Log } from "ethers";
import { deployCollectibleEditions } from "../core/chain/deploy.ts";
import { decodeContractError, describeContractError } from "../core/chain/registry.ts";
import { claimRow, sendOperation } from "../core/chain/send-operation.ts";
import { gasLimitFor, isRevert, SenderRotation } from "../core/chain/sending.ts";
import {
  chainTxs,
  claimCodes,
  editionContracts,
  editionMintBatches,
  editionOperations,
  editions,
  indexerCursors,
  institutions,
} from "../core/db/schema.ts";
import { collectibleEditionsInterface } from "../core/editions/abi.ts";
import type { EditionOperationRow, EditionRow } from "../core/editions/operations.ts";
import { policyIndex } from "../core/editions/transfer-policy.ts";
import { sealSecret } from "../core/custody/sealed.ts";
import { noteStateChange } from "../core/live/index.ts";
import { announceStateChange } from "../core/operations/transitions.ts";
import { PollLoop } from "../core/poll-loop.ts";
import type { WorkerDeps } from "./deps.ts";

type Tx = Parameters<Parameters<WorkerDeps["db"]["transaction"]>[0]>[0];

type Contracts = typeof editionContracts.$inferSelect;

const MAX_RANGE = 2_000;
/** The first batch an airdrop tries; halved while its gas exceeds the per-transaction cap. */
const FIRST_BATCH = 1_000;

function decodeEditionsError(err: unknown): string | undefined {
  const decoded = decodeContractError(err, collectibleEditionsInterface());
  return decoded && describeContractError(decoded);
}

/**
 * Carries collectible editions to the chain, from the database alone (like the certificate batcher):
 * - an edition QUEUED → PINNED (its metadata on IPFS) → SUBMITTED (createEdition sent; the institution's editions
 *   contract deployed first when it has none) → CONFIRMED from the EditionCreated event;
 * - an airdrop or a redeemed claim code: batches of holders in `airdrop` transactions under the per-transaction gas
 *   cap, one batch of an edition in flight at a time (so serials follow the holders' order), each CONFIRMED from its
 *   ItemMinted events; the operation is CONFIRMED when every item is.
 * Vouchers redeemed on chain mark their claim codes used.
 */
export class EditionsRunner {
  private readonly deps: WorkerDeps;
  private readonly loop: PollLoop;
  private readonly cursorName: string;
  private readonly rotation: SenderRotation;
  private deploying = new Map<string, Promise<Contracts>>();
  private readonly learnedCap = new Map<string, number>();

  constructor(deps: WorkerDeps) {
    this.deps = deps;
    this.cursorName = `editions:${deps.config.chain.chainId}`;
    this.rotation = new SenderRotation(deps.senders);
    this.loop = new PollLoop(
      "editions",
      async () => {
        await this.tick();
        return false;
      },
      { idleMs: Math.max(100, deps.config.indexerPollMs), logger: deps.logger },
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  async tick(): Promise<void> {
    if (!(await this.anyWork())) return;
    await this.pin();
    await this.create();
    await this.airdrop();
    await this.follow();
    while (!(await this.index()));
  }

  /**
   * Whether any step of a tick could have something to do, in one statement instead of the six a tick reads: until an
   * institution has an editions contract, only a QUEUED or PINNED edition (whose creation deploys one) can. Every
   * later state (an edition sent, an airdrop, a batch, an event to index) belongs to a contract. Spares the database
   * of a platform that issues certificates only.
   */
  private async anyWork(): Promise<boolean> {
    const [row] = await this.deps.db
      .select({
        any: sql<boolean>`exists (select 1 from ${editionContracts}) or exists (select 1 from ${editions} where ${editions.status} in ('QUEUED', 'PINNED'))`,
      })
      .from(sql`(select 1) as one`);
    return row?.any === true;
  }

  private async failEdition(id: string, from: EditionRow["status"][], error: string): Promise<void> {
    const { db, logger } = this.deps;
    await db.transaction(async (tx) => {
      const moved = await tx
        .update(editions)
        .set({ status: "FAILED", error, updatedAt: new Date() })
        .where(and(eq(editions.id, id), inArray(editions.status, from)))
        .returning({ id: editions.id, institutionId: editions.institutionId });
      await announceStateChange(tx, logger, "edition", moved, from, "FAILED", { error });
    });
  }

  /**
   * Fails an operation and gives back the items it had reserved and not minted, unless `keepReservation`: a claim
   * whose voucher was redeemed on chain had its item minted by that redemption. `also` runs in the same transaction
   * (a reverted batch marked FAILED with its operation).
   */
  private async failOperation(
    op: EditionOperationRow,
    error: string,
    opts: { keepReservation?: boolean; also?: (tx: Tx) => Promise<unknown> } = {},
  ): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      await opts.also?.(tx);
      const [moved] = await tx
        .update(editionOperations)
        .set({ status: "FAILED", error, updatedAt: new Date() })
        .where(and(eq(editionOperations.id, op.id), inArray(editionOperations.status, ["QUEUED", "SUBMITTED"])))
        .returning();
      if (moved) await announceStateChange(tx, this.deps.logger, "editionOperation", [moved], ["QUEUED", "SUBMITTED"], "FAILED", { error, minted: moved.minted, total: moved.total });
      if (moved && !opts.keepReservation) {
        await tx
          .update(editions)
          .set({ reserved: sql`greatest(0, ${editions.reserved} - ${moved.total - moved.minted})`, updatedAt: new Date() })
          .where(eq(editions.id, moved.editionId));
      }
    });
  }

  /** QUEUED → PINNED: the metadata document's exact bytes to IPFS. */
  private async pin(): Promise<void> {
    const { db, ipfs, logger } = this.deps;
    const queued = await db.select().from(editions).where(eq(editions.status, "QUEUED")).orderBy(asc(editions.createdAt)).limit(20);
    for (const edition of queued) {
      const cid = await ipfs.add(new TextEncoder().encode(edition.metadataJson));
      await db.transaction(async (tx) => {
        const moved = await tx
          .update(editions)
          .set({ status: "PINNED", metadataCid: cid, updatedAt: new Date() })
          .where(and(eq(editions.id, edition.id), eq(editions.status, "QUEUED")))
          .returning({ id: editions.id, institutionId: editions.institutionId });
        await announceStateChange(tx, logger, "edition", moved, ["QUEUED"], "PINNED", { metadataCid: cid });
      });
    }
  }

  /**
   * The institution's editions contract, deployed on first use by the deployer key (admin), with the worker's
   * signing keys as issuers and a voucher key as its voucher signer.
   */
  private contractFor(institutionId: string): Promise<Contracts> {
    let pending = this.deploying.get(institutionId);
    if (!pending) {
      pending = this.deployContract(institutionId).finally(() => this.deploying.delete(institutionId));
      this.deploying.set(institutionId, pending);
    }
    return pending;
  }

  private async deployContract(institutionId: string): Promise<Contracts> {
    const { db, config, logger, deployer, senders, adminSender } = this.deps;
    const existing = async () => (await db.select().from(editionContracts).where(eq(editionContracts.institutionId, institutionId)))[0];
    const found = await existing();
    if (found) return found;
    if (!deployer) throw new NoDeployerError("no deployer key is configured (DEPLOYER_PRIVATE_KEY or ADMIN_PRIVATE_KEY)");
    const [institution] = await db.select().from(institutions).where(eq(institutions.id, institutionId));
    const admin = await deployer.getAddress();
    const voucherKey = Wallet.createRandom();
    const name = `${institution!.name} Collectibles`;
    const deployment = await deployCollectibleEditions(deployer, { name, symbol: "HMC", admin, issuer: senders[0]!.address });
    const contract = new Contract(deployment.address, collectibleEditionsInterface(), deployer);
    const role = (await contract.ISSUER_ROLE!()) as string;
    for (const account of senders.slice(1).map((s) => s.address)) {
      await (await contract.grantRole!(role, account)).wait();
    }
    // The voucher key only signs vouchers: it gets no issuer role, so it cannot mint or move items.
    await (await contract.grantRole!((await contract.VOUCHER_SIGNER_ROLE!()) as string, voucherKey.address)).wait();
    // The deployer sent these itself: a nonce-managed sender of the same key resyncs with the node.
    for (const sender of [adminSender, ...senders]) if (sender && sender.address === admin) await sender.init();
    await db
      .insert(editionContracts)
      .values({
        institutionId,
        chainId: config.chain.chainId,
        contractAddress: deployment.address,
        name,
        deployTxHash: deployment.txHash,
        deployBlock: deployment.blockNumber,
        voucherSignerKey: sealSecret(voucherKey.privateKey),
      })
      .onConflictDoNothing({ target: editionContracts.institutionId });
    logger.info({ institutionId, contract: deployment.address }, "editions contract deployed");
    return (await existing())!;
  }

  /** PINNED → SUBMITTED: createEdition, signed and stored by a nonce-managed sender, then broadcast. */
  private async create(): Promise<void> {
    const { db, provider, logger } = this.deps;
    const pinned = await db
      .select()
      .from(editions)
      .where(and(eq(editions.status, "PINNED"), isNull(editions.chainTxId)))
      .orderBy(asc(editions.updatedAt))
      .limit(10);
    for (const edition of pinned) {
      let contract: Contracts;
      try {
        contract = await this.contractFor(edition.institutionId);
      } catch (err) {
        if (err instanceof NoDeployerError) {
          await this.failEdition(edition.id, ["PINNED"], err.message);
          continue;
        }
        throw err;
      }
      const sender = await this.rotation.pick();
      if (!sender) return;
      const data = collectibleEditionsInterface().encodeFunctionData("createEdition", [
        edition.name,
        `ipfs://${edition.metadataCid}`,
        edition.maxSupply,
        policyIndex(edition.transferPolicy),
        edition.lockupSeconds,
        edition.maxGifts,
      ]);
      await sendOperation(this.deps, sender, { to: contract.contractAddress, data, purpose: `editions:create:${edition.id}` }, {
        claim: (tx) => claimRow(tx, editions, edition.id, ["PINNED"]),
        record: async (tx, stored) => {
          const moved = await tx
            .update(editions)
            .set({ status: "SUBMITTED", contractId: contract.id, chainTxId: stored.id, txHash: stored.txHash, updatedAt: new Date() })
            .where(eq(editions.id, edition.id))
            .returning({ id: editions.id, institutionId: editions.institutionId });
          await announceStateChange(tx, logger, "edition", moved, ["PINNED"], "SUBMITTED", { chainTxId: stored.id, txHash: stored.txHash });
        },
        refused: async (err) => {
          const decoded = decodeEditionsError(err);
          if (!decoded && !isRevert(err)) return false;
          await this.failEdition(edition.id, ["PINNED"], `rejected by the contract: ${decoded ?? "reverted"}`);
          return true;
        },
      });
    }
  }

  /** The next batch of each airdrop whose edition is on chain and has no batch in flight. */
  private async airdrop(): Promise<void> {
    const { db, provider, logger, config } = this.deps;
    const open = await db
      .select({ op: editionOperations, edition: editions, contract: editionContracts })
      .from(editionOperations)
      .innerJoin(editions, eq(editions.id, editionOperations.editionId))
      .leftJoin(editionContracts, eq(editionContracts.id, editions.contractId))
      .where(and(inArray(editionOperations.status, ["QUEUED", "SUBMITTED"]), lt(editionOperations.sent, editionOperations.total)))
      .orderBy(asc(editionOperations.createdAt))
      .limit(50);
    const busy = new Set<string>();
    if (open.length) {
      const inFlight = await db
        .selectDistinct({ editionId: editionOperations.editionId })
        .from(editionMintBatches)
        .innerJoin(editionOperations, eq(editionOperations.id, editionMintBatches.operationId))
        .where(eq(editionMintBatches.status, "SUBMITTED"));
      for (const r of inFlight) busy.add(r.editionId);
    }
    const iface = collectibleEditionsInterface();
    for (const { op, edition, contract } of open) {
      if (edition.status === "FAILED") {
        await this.failOperation(op, "the edition was never created on chain");
        continue;
      }
      if (busy.has(edition.id) || edition.status !== "CONFIRMED" || !contract || !edition.chainEditionId) continue;
      busy.add(edition.id);
      // A claim code redeemed through the API spends its voucher on chain in the same call (redeemFor), so the
      // voucher cannot mint a second item, and a voucher already claimed on chain makes the call revert.
      const voucherCode = op.kind === "CLAIM" && op.claimCodeId ? (await db.select().from(claimCodes).where(eq(claimCodes.id, op.claimCodeId)))[0]?.voucherCode : undefined;
      if (op.kind === "CLAIM" && !voucherCode) {
        // Never an airdrop in its place: that would leave the code's voucher able to mint a second item.
        await this.failOperation(op, "the claim's code is missing");
        continue;
      }
      const sender = await this.rotation.pick();
      if (!sender) return;
      const cap = BigInt(config.chain.txGasCap);
      let size = Math.min(op.total - op.sent, this.learnedCap.get(edition.id) ?? FIRST_BATCH);
      let holders: string[] = [];
      let data = "0x";
      let gas = 0n;
      try {
        for (;;) {
          holders = op.holders.slice(op.sent, op.sent + size);
          data = voucherCode
            ? iface.encodeFunctionData("redeemFor", [BigInt(edition.chainEditionId), voucherCode, holders[0]])
            : iface.encodeFunctionData("airdrop", [BigInt(edition.chainEditionId), holders]);
          gas = await provider.estimateGas({ from: sender.address, to: contract.contractAddress, data });
          if (gasLimitFor(gas) <= cap || size === 1) break;
          // Proportionally smaller, with a tenth to spare: the cost per item is nearly constant.
          size = Math.max(1, Math.min(Math.ceil(size / 2), Math.floor((size * Number(cap)) / Number(gasLimitFor(gas)) * 0.9)));
          this.learnedCap.set(edition.id, size);
        }
      } catch (err) {
        if (decodeContractError(err, iface)?.name === "VoucherAlreadyUsed") {
          // Claimed on chain with the voucher first: that claim minted the item the code reserved.
          await this.failOperation(op, "CLAIM_CODE_USED: the code's voucher was redeemed on chain", { keepReservation: true });
          continue;
        }
        const decoded = decodeEditionsError(err);
        if (!decoded && !isRevert(err)) throw err;
        await this.failOperation(op, `rejected by the contract: ${decoded ?? "reverted"}`);
        continue;
      }
      const start = op.sent;
      let firstBatch = false;
      const chainTx = await sender.prepare(
        async (tx) => {
          const [claimed] = await tx
            .select({ id: editionOperations.id, status: editionOperations.status })
            .from(editionOperations)
            .where(and(eq(editionOperations.id, op.id), eq(editionOperations.sent, start), inArray(editionOperations.status, ["QUEUED", "SUBMITTED"])))
            .for("update", { skipLocked: true });
          if (!claimed) return undefined;
          firstBatch = claimed.status === "QUEUED";
          return { to: contract.contractAddress, data, purpose: `editions:airdrop:${op.id}:${start}`, gasLimit: gasLimitFor(gas) };
        },
        async (tx, stored) => {
          await tx.insert(editionMintBatches).values({ operationId: op.id, start, count: holders.length, chainTxId: stored.id, txHash: stored.txHash });
          const [moved] = await tx
            .update(editionOperations)
            .set({ status: "SUBMITTED", sent: start + holders.length, updatedAt: new Date() })
            .where(eq(editionOperations.id, op.id))
            .returning();
          logger.info({ editionOperationId: op.id, kind: op.kind, start, count: holders.length, txHash: stored.txHash }, "edition airdrop batch SUBMITTED");
          // The operation enters SUBMITTED with its first batch; later batches are progress, told as it is minted.
          if (firstBatch) await announceStateChange(tx, logger, "editionOperation", [moved!], ["QUEUED"], "SUBMITTED", { txHash: stored.txHash, minted: moved!.minted, total: moved!.total });
        },
      );
      if (chainTx) await sender.broadcast(chainTx).catch((err) => logger.warn({ txHash: chainTx.txHash, err: String(err) }, "broadcast failed; will retry"));
    }
  }

  /**
   * A reverted transaction fails its edition or operation. (A dropped one is the transaction monitor's: it re-signs
   * it under a new nonce and moves the edition or batch onto the new transaction, as for every operation.)
   */
  private async follow(): Promise<void> {
    const { db } = this.deps;
    const submitted = await db
      .select({ edition: editions, tx: chainTxs })
      .from(editions)
      .innerJoin(chainTxs, eq(chainTxs.id, editions.chainTxId))
      .where(and(eq(editions.status, "SUBMITTED"), eq(chainTxs.status, "REVERTED")));
    for (const { edition, tx } of submitted) await this.failEdition(edition.id, ["SUBMITTED"], `transaction ${tx.txHash} reverted`);
    const batches = await db
      .select({ batch: editionMintBatches, tx: chainTxs, op: editionOperations })
      .from(editionMintBatches)
      .innerJoin(chainTxs, eq(chainTxs.id, editionMintBatches.chainTxId))
      .innerJoin(editionOperations, eq(editionOperations.id, editionMintBatches.operationId))
      .where(and(eq(editionMintBatches.status, "SUBMITTED"), eq(chainTxs.status, "REVERTED")));
    for (const { batch, tx, op } of batches) {
      const also = (t: Tx) =>
        t.update(editionMintBatches).set({ status: "FAILED", updatedAt: new Date() }).where(eq(editionMintBatches.id, batch.id));
      // A claim's redeemFor reverts when the holder claimed the code's voucher on chain meanwhile: that claim
      // minted the item the code reserved, so the reservation stays taken.
      const claimedOnChain = op.kind === "CLAIM" && (await this.voucherSpent(op));
      if (claimedOnChain) await this.failOperation(op, "CLAIM_CODE_USED: the code's voucher was redeemed on chain", { keepReservation: true, also });
      else await this.failOperation(op, `airdrop transaction ${tx.txHash} reverted`, { also });
    }
  }

  /** Whether a claim operation's code has its voucher spent on chain (its own redeemFor having reverted: by a claim). */
  private async voucherSpent(op: EditionOperationRow): Promise<boolean> {
    if (!op.claimCodeId) return false;
    const [row] = await this.deps.db
      .select({ voucherCode: claimCodes.voucherCode, contract: editionContracts.contractAddress })
      .from(claimCodes)
      .innerJoin(editions, eq(editions.id, claimCodes.editionId))
      .innerJoin(editionContracts, eq(editionContracts.id, editions.contractId))
      .where(eq(claimCodes.id, op.claimCodeId));
    if (!row) return false;
    return (await new Contract(row.contract, collectibleEditionsInterface(), this.deps.provider).voucherUsed!(row.voucherCode)) as boolean;
  }

  /**
   * Reads the editions contracts' events from a persisted cursor: EditionCreated confirms an edition, ItemMinted the
   * airdrop batch of its transaction, VoucherRedeemed marks a claim code used. Returns true at the head.
   */
  async index(): Promise<boolean> {
    const { db, provider, config, logger } = this.deps;
    const contracts = await db.select().from(editionContracts).where(eq(editionContracts.chainId, config.chain.chainId));
    if (!contracts.length) return true;
    const head = (await provider.getBlockNumber()) - config.chain.confirmations;
    const [cursor] = await db.select().from(indexerCursors).where(eq(indexerCursors.name, this.cursorName));
    const from = cursor ? cursor.lastBlock + 1 : Math.min(...contracts.map((c) => c.deployBlock));
    if (from > head) return true;
    const to = Math.min(head, from + MAX_RANGE - 1);
    const iface = collectibleEditionsInterface();
    const topics = ["EditionCreated", "ItemMinted", "VoucherRedeemed"].map((n) => iface.getEvent(n)!.topicHash);
    const logs: Log[] = await provider.getLogs({ address: contracts.map((c) => c.contractAddress), topics: [topics], fromBlock: from, toBlock: to });
    const byAddress = new Map(contracts.map((c) => [getAddress(c.contractAddress), c]));
    await db.transaction(async (tx) => {
      const minted = new Map<string, number>();
      const mintedByEdition = new Map<string, { contractId: string; chainEditionId: string; count: number }>();
      for (const log of logs) {
        const contract = byAddress.get(getAddress(log.address));
        const parsed = contract ? iface.parseLog(log) : null;
        if (!contract || !parsed) continue;
        if (parsed.name === "EditionCreated") {
          const chainEditionId = (parsed.args.editionId as bigint).toString();
          const moved = await tx
            .update(editions)
            .set({ status: "CONFIRMED", chainEditionId, error: null, updatedAt: new Date() })
            .where(and(eq(editions.txHash, log.transactionHash), eq(editions.contractId, contract.id), inArray(editions.status, ["SUBMITTED", "FAILED"])))
            .returning({ id: editions.id, institutionId: editions.institutionId });
          await announceStateChange(tx, logger, "edition", moved, ["SUBMITTED", "FAILED"], "CONFIRMED", { chainEditionId, txHash: log.transactionHash, error: null });
        } else if (parsed.name === "ItemMinted") {
          minted.set(log.transactionHash, (minted.get(log.transactionHash) ?? 0) + 1);
          const key = `${contract.id}:${parsed.args.editionId}`;
          const entry = mintedByEdition.get(key) ?? { contractId: contract.id, chainEditionId: (parsed.args.editionId as bigint).toString(), count: 0 };
          entry.count++;
          mintedByEdition.set(key, entry);
        } else if (parsed.name === "VoucherRedeemed") {
          await tx
            .update(claimCodes)
            .set({ redeemedAt: new Date(), redeemedBy: getAddress(parsed.args.holder as string) })
            .where(and(eq(claimCodes.voucherCode, (parsed.args.code as string).toLowerCase()), isNull(claimCodes.redeemedAt)));
        }
      }
      for (const { contractId, chainEditionId, count } of mintedByEdition.values()) {
        await tx
          .update(editions)
          .set({ minted: sql`${editions.minted} + ${count}`, updatedAt: new Date() })
          .where(and(eq(editions.contractId, contractId), eq(editions.chainEditionId, chainEditionId)));
      }
      if (minted.size) {
        const batches = await tx
          .select()
          .from(editionMintBatches)
          .where(and(inArray(editionMintBatches.txHash, [...minted.keys()]), eq(editionMintBatches.status, "SUBMITTED")));
        for (const batch of batches) {
          const count = minted.get(batch.txHash) ?? 0;
          await tx.update(editionMintBatches).set({ status: "CONFIRMED", updatedAt: new Date() }).where(eq(editionMintBatches.id, batch.id));
          const [op] = await tx
            .update(editionOperations)
            .set({ minted: sql`${editionOperations.minted} + ${count}`, updatedAt: new Date() })
            .where(eq(editionOperations.id, batch.operationId))
            .returning();
          if (op && op.minted >= op.total) {
            await tx.update(editionOperations).set({ status: "CONFIRMED", updatedAt: new Date() }).where(eq(editionOperations.id, op.id));
            await announceStateChange(tx, logger, "editionOperation", [op], ["SUBMITTED"], "CONFIRMED", { minted: op.minted, total: op.total });
          } else if (op) {
            // Progress, live only: still SUBMITTED, with more items minted.
            noteStateChange(tx, { kind: "editionOperation", status: "SUBMITTED", at: op.updatedAt, rows: [op], details: { minted: op.minted, total: op.total } });
          }
        }
      }
      await tx
        .insert(indexerCursors)
        .values({ name: this.cursorName, lastBlock: to })
        .onConflictDoUpdate({ target: indexerCursors.name, set: { lastBlock: to, updatedAt: new Date() } });
    });
    return to >= head;
  }
}

class NoDeployerError extends Error {}
