import { and, asc, count, eq, getTableColumns, inArray, lt, ne, sql } from "drizzle-orm";
import type { Interface, JsonRpcProvider } from "ethers";
import { anyHasCode } from "../../core/chain/code-check.ts";
import { decodeContractError, isRevert } from "../../core/chain/contract-errors.ts";
import { sendOperation } from "../../core/chain/send-operation.ts";
import { gasLimitFor, type ChainTx, type TxSender } from "../../core/chain/tx-sender.ts";
import type { SenderRotation } from "../../core/chain/sender-rotation.ts";
import { chainTxs, claimCodes, custodialHolders, editionContracts, editionMintBatches, editionOperations, editions } from "../../core/db/schema.ts";
import type { Database } from "../../core/db/index.ts";
import { collectibleEditionsInterface } from "../../core/editions/abi.ts";
import { encodeHoldersCall } from "../../core/editions/calldata.ts";
import type { EditionOperationRow } from "../../core/editions/operations.ts";
import type { Pipeline } from "../../core/operations/context.ts";
import type { WorkerDeps } from "../deps.ts";
import { claimBatch, recordBatch } from "./batch-rows.ts";
import { contractRefusal, failOperation, VOUCHER_REDEEMED_ON_CHAIN } from "./failures.ts";

/**
 * The first batch of an edition's airdrops: about the per-transaction cap of 2^24 gas (EIP-7825, the default
 * TX_GAS_CAP) at some 78,000 gas an item. Resized from its estimate to fill the configured cap.
 */
export const FIRST_BATCH = 200;

/**
 * Batches of one edition in flight at once. They all come from one key, whose nonces order them on chain, so the
 * serials still follow the holders' order while the next batches are sent without waiting for the last one's
 * ItemMinted events (on a chain with a block period, one batch a block would otherwise be the ceiling).
 */
export const PIPELINE_DEPTH = 8;

/** Batches smaller than this teach nothing about the gas an item costs: the transaction's own cost dominates. */
const MIN_LEARNING_BATCH = 10;

/** Marks the purpose of a batch sent without its own estimate: a revert of it is handed back (follow.ts). */
export const UNESTIMATED = ":unestimated";

/** An edition's batches in flight: the key sending them, how many, and whether none may be added now. */
interface Lane {
  sender?: TxSender;
  inFlight: number;
  blocked: boolean;
}

/**
 * Sends the next batches of each airdrop (or redeemed claim) whose edition is on chain: up to PIPELINE_DEPTH
 * batches of an edition in flight, all signed by the key that signs the edition's batches already in flight, so
 * serials follow the holders' order (and the airdrops' order). A batch is as many holders as fit under the
 * per-transaction gas cap; `batchSizes` keeps, per edition, the size the cap allowed, so later batches start there.
 * Each batch row and the operation's progress are stored with the signed transaction, before it is broadcast.
 * Answers how many batches were sent.
 *
 * `gasPerItem` keeps, per edition, the most gas an item has cost in an estimate of a batch of wallets: once known,
 * a batch of wallets none of which has code is sent without an estimate (see `sizeBatch`).
 *
 * An edition waits, sending nothing, while its batches in flight are signed by more than one key or one of them
 * reverted (the transaction monitor moves a transaction to another key when its own cannot pay): what is in
 * flight settles first. A batch whose transaction was dropped (its nonce taken by a transaction Hallmark did not
 * sign) and signed again is minted after the batches behind it, with later serials; each holder still receives
 * exactly one item.
 */
export async function sendAirdropBatches(
  deps: Pick<WorkerDeps, "db" | "provider" | "logger" | "config" | "senders"> & { pipeline: Pipeline },
  rotation: SenderRotation,
  batchSizes: Map<string, number>,
  gasPerItem: Map<string, bigint> = new Map(),
): Promise<number> {
  const { db, provider, config, pipeline } = deps;
  // Without the holders (up to 10,000 an operation, read again every tick): each batch reads its own slice.
  const open = await db
    .select({ op: operationColumns, edition: editions, contract: editionContracts })
    .from(editionOperations)
    .innerJoin(editions, eq(editions.id, editionOperations.editionId))
    .leftJoin(editionContracts, eq(editionContracts.id, editions.contractId))
    .where(and(ne(editionOperations.kind, "RELEASE"), inArray(editionOperations.status, ["QUEUED", "SUBMITTED"]), lt(editionOperations.sent, editionOperations.total)))
    .orderBy(asc(editionOperations.createdAt))
    .limit(50);
  const lanes = open.length ? await lanesInFlight(deps) : new Map<string, Lane>();
  const iface = collectibleEditionsInterface();
  const cap = BigInt(config.chain.txGasCap);
  let sentBatches = 0;
  for (const { op, edition, contract } of open) {
    if (edition.status === "FAILED") {
      await failOperation(pipeline, op, "the edition was never created on chain");
      continue;
    }
    if (edition.status !== "CONFIRMED" || !contract || !edition.chainEditionId) continue;
    const lane = lanes.get(edition.id) ?? { inFlight: 0, blocked: false };
    lanes.set(edition.id, lane);
    if (lane.blocked) continue;
    // A claim code redeemed through the API spends its voucher on chain in the same call (redeemFor), so the
    // voucher cannot mint a second item, and a voucher already claimed on chain makes the call revert.
    const voucherCode = op.kind === "CLAIM" && op.claimCodeId ? (await db.select().from(claimCodes).where(eq(claimCodes.id, op.claimCodeId)))[0]?.voucherCode : undefined;
    if (op.kind === "CLAIM" && !voucherCode) {
      // Never an airdrop in its place: that would leave the code's voucher able to mint a second item.
      await failOperation(pipeline, op, "the claim's code is missing");
      continue;
    }
    const chainEditionId = BigInt(edition.chainEditionId);
    // Never rejects (an error is answered as `refused`, and rethrown below unless it is the contract's): an estimate
    // made ahead is awaited only after the batch before it is sent.
    const prepare = (sender: TxSender, start: number): Promise<SizedBatch | { refused: unknown }> =>
      (async () =>
        sizeBatch({ provider, iface, cap, sender, to: contract.contractAddress }, {
          holders: await holdersOf(db, op.id, start, Math.min(op.total - start, batchSizes.get(edition.id) ?? FIRST_BATCH)),
          encode: (holders, custodial) =>
            voucherCode
              ? iface.encodeFunctionData(custodial ? "redeemForCustody" : "redeemFor", [chainEditionId, voucherCode, holders[0]])
              : encodeHoldersCall(iface, custodial ? "airdropToCustody" : "airdrop", chainEditionId, holders),
          db,
          sized: (size) => batchSizes.set(edition.id, size),
          // A claim is one holder: its estimate also finds a voucher already spent.
          gasPerItem: voucherCode ? undefined : gasPerItem.get(edition.id),
          learned: (cost) => {
            if (!voucherCode && cost > (gasPerItem.get(edition.id) ?? 0n)) gasPerItem.set(edition.id, cost);
          },
        }))().catch((err: unknown) => ({ refused: err }));
    let sent = op.sent;
    let ahead: { sender: TxSender; start: number; batch: Promise<SizedBatch | { refused: unknown }> } | undefined;
    while (sent < op.total && lane.inFlight < PIPELINE_DEPTH) {
      // The edition's key while it has batches in flight (when it has room), else the rotation's next.
      const sender = lane.sender ? ((await hasRoom(deps, lane.sender)) ? lane.sender : undefined) : await rotation.pick();
      if (!sender) break;
      const batch = await (ahead?.sender === sender && ahead.start === sent ? ahead.batch : prepare(sender, sent));
      ahead = undefined;
      if ("refused" in batch) {
        const err = batch.refused;
        const refusal = contractRefusal(err);
        const voucherUsed = decodeContractError(err, iface)?.name === "VoucherAlreadyUsed";
        if (!voucherUsed && !refusal && !isRevert(err)) throw err;
        // Settled once the batches in flight are: the items given back are then exactly those not minted.
        if (lane.inFlight > 0) break;
        // A voucher claimed on chain first: that claim minted the item the code reserved.
        if (voucherUsed) await failOperation(pipeline, op, VOUCHER_REDEEMED_ON_CHAIN, { keepReservation: true });
        else await failOperation(pipeline, op, `rejected by the contract: ${refusal ?? "reverted"}`);
        break;
      }
      // Never an empty batch (a list shorter than its total): nothing would advance.
      if (!batch.holders.length) break;
      // The next batch is sized and estimated while this one is signed and sent (the node answers both at once),
      // when the key has room for both; sent only after this one, so its nonce comes next.
      const next = sent + batch.holders.length;
      if (next < op.total && lane.inFlight + 1 < PIPELINE_DEPTH && (await sender.inFlightCount()) + 1 < sender.maxInFlight) {
        ahead = { sender, start: next, batch: prepare(sender, next) };
      }
      const stored = await sendBatch(deps, sender, op, { start: sent, holders: batch.holders, data: batch.data, gasLimit: gasLimitFor(batch.gas), to: contract.contractAddress, estimated: batch.estimated });
      // Another worker has the operation: it sends the edition's next batches.
      if (!stored) break;
      lane.sender = sender;
      lane.inFlight++;
      sentBatches++;
      sent = next;
    }
    // An estimate made ahead and not used is waited for (it never throws), so no tick overlaps the next.
    await ahead?.batch;
    // The edition's later airdrops wait for this one's last batch to be sent: serials follow their order too.
    if (sent < op.total) lane.blocked = true;
  }
  return sentBatches;
}

const { holders: _holders, ...operationColumns } = getTableColumns(editionOperations);

/**
 * Whether `sender` can take one more transaction, once the receipts of its airdrop batches already mined are
 * recorded: on a node that mines as it receives, the batches just sent are mined before the transaction monitor's
 * next look (up to its poll interval), and the edition's next batches would wait for it. Only airdrop batches'
 * transactions, which settle nothing on their own (the monitor's release of a reverted one does nothing: follow.ts
 * does it); a transaction not mined yet is left to the monitor, which alone finds it dropped.
 */
async function hasRoom(deps: Pick<WorkerDeps, "logger">, sender: TxSender): Promise<boolean> {
  if ((await sender.inFlightCount()) < sender.maxInFlight) return true;
  let freed = false;
  for (const chainTx of await sender.inFlight()) {
    if (chainTx.status !== "SENT" || !chainTx.purpose.startsWith("editions:airdrop:")) continue;
    const receipt = await sender.recordIfMined(chainTx);
    // Later nonces of the key are not mined before this one.
    if (!receipt) break;
    if (receipt.status !== 1) deps.logger.warn({ txHash: chainTx.txHash }, "transaction reverted");
    freed = true;
  }
  return freed;
}

/** `count` holders of an operation from `start` (0-based), read as a slice of the stored list. */
async function holdersOf(db: Database, operationId: string, start: number, count: number): Promise<string[]> {
  const path = `$[${start} to ${start + count - 1}]`;
  const [row] = await db
    .select({ holders: sql<string[]>`jsonb_path_query_array(${editionOperations.holders}, ${path}::jsonpath)` })
    .from(editionOperations)
    .where(eq(editionOperations.id, operationId));
  return row?.holders ?? [];
}

/** Per edition with batches in flight: the one key signing them, or blocked when there is none to use. */
async function lanesInFlight(deps: Pick<WorkerDeps, "db" | "senders">): Promise<Map<string, Lane>> {
  const rows = await deps.db
    .select({ editionId: editionOperations.editionId, signer: chainTxs.signer, reverted: sql<boolean>`bool_or(${chainTxs.status} = 'REVERTED')`, n: count() })
    .from(editionMintBatches)
    .innerJoin(editionOperations, eq(editionOperations.id, editionMintBatches.operationId))
    .innerJoin(chainTxs, eq(chainTxs.id, editionMintBatches.chainTxId))
    .where(eq(editionMintBatches.status, "SUBMITTED"))
    .groupBy(editionOperations.editionId, chainTxs.signer);
  const lanes = new Map<string, Lane>();
  for (const row of rows) {
    const lane = lanes.get(row.editionId);
    const sender = deps.senders.find((s) => s.address === row.signer);
    if (lane) {
      // Two keys: their transactions' order is not their batches' order.
      lane.blocked = true;
      lane.inFlight += row.n;
      continue;
    }
    lanes.set(row.editionId, { sender, inFlight: row.n, blocked: row.reverted || !sender || !sender.health().canPay });
  }
  return lanes;
}

/**
 * A batch ready to sign: its holders (claimed accounts replaced by their wallets), calldata and gas: its estimate,
 * or, when `estimated` is false, its holders times the edition's gas per item.
 */
interface SizedBatch {
  holders: string[];
  data: string;
  gas: bigint;
  estimated: boolean;
}

/**
 * The first run of `holders` of one kind, wallets (airdrop) or custodial accounts (airdropToCustody), as the
 * custodial accounts say now, sized to fill the gas cap, with its calldata and estimate. A batch too large for a
 * block runs out of gas in the estimate (a revert with no error of the contract's): halved until it fits. Then
 * sized from the estimates made, the gas of a batch being nearly linear in its holders: cut while over the cap, and
 * grown once when well under it with holders left. Throws the estimate's error for a named refusal, or for a single
 * holder refused.
 *
 * Once the edition's gas per item is known (`gasPerItem`, from estimates of batches of wallets), a batch of wallets is
 * not estimated again: estimating executes the whole batch, and the mined transaction executes it once more. Its
 * gas is its holders times that cost, with the same margin as an estimate's. It is estimated all the same when one
 * of its holders has code: `_safeMint` asks a contract whether it accepts the item, and one that refuses makes the
 * whole batch revert, which the estimate finds before any nonce is taken (and fails the airdrop naming it, as
 * before). A batch sent so that reverts all the same (code deployed at a holder meanwhile, a supply the contract
 * says is exhausted) is handed back by follow.ts and estimated here, which finds the cause as before.
 */
async function sizeBatch(
  chain: { provider: JsonRpcProvider; iface: Interface; cap: bigint; sender: TxSender; to: string },
  batch: {
    holders: string[];
    encode: (holders: string[], custodial: boolean) => string;
    db: Database;
    sized: (size: number) => void;
    gasPerItem?: bigint;
    learned: (cost: bigint) => void;
  },
): Promise<SizedBatch> {
  const accounts = await custodialAccountsOf(batch.db, batch.holders);
  const custodial = accounts.custodial.has(batch.holders[0]!);
  const run = batch.holders.findIndex((h) => accounts.custodial.has(h) !== custodial);
  const available = run > 0 ? run : batch.holders.length;
  const budget = largestEstimateUnder(chain.cap);
  const perItem = batch.gasPerItem;
  if (perItem !== undefined && !custodial) {
    const size = Math.min(available, Number(budget / perItem));
    const holders = batch.holders.slice(0, size).map((h) => accounts.claimed.get(h) ?? h);
    if (size > 0 && !(await anyHasCode(chain.provider, holders))) {
      return { holders, data: batch.encode(holders, custodial), gas: perItem * BigInt(size), estimated: false };
    }
  }
  const measured: { size: number; gas: number }[] = [];
  let size = available;
  let grown = false;
  for (;;) {
    const holders = batch.holders.slice(0, size).map((h) => accounts.claimed.get(h) ?? h);
    const data = batch.encode(holders, custodial);
    let gas: bigint;
    try {
      gas = await chain.provider.estimateGas({ from: chain.sender.address, to: chain.to, data });
    } catch (err) {
      if (size === 1 || contractRefusal(err) || !isRevert(err)) throw err;
      size = Math.ceil(size / 2);
      batch.sized(size);
      continue;
    }
    measured.push({ size, gas: Number(gas) });
    // Wallets only: an item minted into custody costs what a custodial account's first item costs.
    if (!custodial && size >= MIN_LEARNING_BATCH) batch.learned((gas + BigInt(size) - 1n) / BigInt(size));
    const fits = gas <= budget;
    const roomy = fits && !grown && size < available && gas * 10n < budget * 9n;
    const best = sizeFor(measured, Number(budget));
    if ((fits && !roomy) || (!fits && size === 1) || (roomy && best <= size)) {
      // Kept for the edition's next batches when the cap, not the holders left, set the size.
      if (size < available) batch.sized(size);
      return { holders, data, gas, estimated: true };
    }
    if (fits) grown = true;
    size = fits ? Math.min(available, best) : Math.max(1, Math.min(size - 1, best));
  }
}

/** The largest estimate whose gas limit (the estimate and its margin) is within `cap`. */
function largestEstimateUnder(cap: bigint): bigint {
  let low = 0n;
  let high = cap;
  while (low < high) {
    const mid = (low + high + 1n) / 2n;
    if (gasLimitFor(mid) <= cap) low = mid;
    else high = mid - 1n;
  }
  return low;
}

/**
 * The most holders whose gas stays within `budget`: by the line through the last two estimates (a fixed part, the
 * transaction's, and a part per item), or in proportion to the one estimate there is (a little small: the fixed
 * part counts as items').
 */
function sizeFor(measured: { size: number; gas: number }[], budget: number): number {
  const [a, b] = measured.slice(-2);
  if (a && b && a.size !== b.size) {
    const perItem = (b.gas - a.gas) / (b.size - a.size);
    const fixed = b.gas - perItem * b.size;
    if (perItem > 0) return Math.max(1, Math.floor((budget - fixed) / perItem));
  }
  const last = measured.at(-1)!;
  return Math.max(1, Math.floor((last.size * budget) / last.gas));
}

/** Signs, stores and broadcasts one batch, claimed on the operation's progress (`sent` = the batch's start). */
async function sendBatch(
  deps: Pick<WorkerDeps, "provider" | "logger"> & { pipeline: Pipeline },
  sender: TxSender,
  op: Pick<EditionOperationRow, "id" | "kind">,
  batch: { start: number; holders: string[]; data: string; gasLimit: bigint; to: string; estimated: boolean },
): Promise<ChainTx | undefined> {
  const { start, holders } = batch;
  let claimedAs: "QUEUED" | "SUBMITTED" | undefined;
  // The estimate (or the edition's gas per item) sized the batch, so it is handed on rather than made again; the
  // claim is on `sent` (the batch's start), not on a transaction-less row: an airdrop has one transaction per batch.
  const purpose = `editions:airdrop:${op.id}:${start}${batch.estimated ? "" : UNESTIMATED}`;
  const call = { to: batch.to, data: batch.data, purpose, gasLimit: batch.gasLimit };
  return deps.pipeline.afterCommit((within) =>
    sendOperation(deps, sender, call, {
      async claim(tx) {
        claimedAs = await claimBatch(tx, op.id, start);
        return claimedAs !== undefined;
      },
      async record(tx, stored) {
        // Later batches' progress (how many holders were sent) is told as their items are minted.
        await recordBatch(within(tx), tx, stored, { operationId: op.id, start, count: holders.length, claimedAs, progress: { sent: start + holders.length } });
        deps.logger.info({ editionOperationId: op.id, kind: op.kind, start, count: holders.length, txHash: stored.txHash }, "edition airdrop batch SUBMITTED");
      },
      // Estimated above: never asked.
      refused: async () => false,
    }),
  );
}

/**
 * Which of `holders` are custodial accounts still in custody, and the wallet each claimed one was claimed to: an
 * airdrop accepted just before its holder claimed names the account, and its item then goes to the wallet instead
 * (minted as any wallet's), never into an account already emptied.
 */
async function custodialAccountsOf(db: Database, holders: string[]): Promise<{ custodial: Set<string>; claimed: Map<string, string> }> {
  const unique = [...new Set(holders)];
  const rows = unique.length
    ? await db.select({ address: custodialHolders.custodialAddress, claimedAddress: custodialHolders.claimedAddress }).from(custodialHolders).where(inArray(custodialHolders.custodialAddress, unique))
    : [];
  const custodial = new Set(rows.filter((r) => !r.claimedAddress).map((r) => r.address));
  const claimed = new Map(rows.filter((r) => r.claimedAddress).map((r) => [r.address, r.claimedAddress!]));
  return { custodial, claimed };
}
