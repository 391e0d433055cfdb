import { and, asc, count, eq, getTableColumns, gte, inArray, ne, sql } from "drizzle-orm";
import type { JsonRpcProvider, Wallet } from "ethers";
import type { Database, DbTransaction } from "../db/index.ts";
import { chainTxs, signerNonces } from "../db/schema.ts";
import type { Logger } from "../logger.ts";
import { faultPoint } from "./faults.ts";
import { signRawTransaction } from "./raw-tx.ts";

export type ChainTx = typeof chainTxs.$inferSelect;
/** A stored transaction without its signed bytes (tens of kilobytes for a batch), which only a broadcast needs. */
export type ChainTxHead = Omit<ChainTx, "rawTx">;

const { rawTx: _rawTx, ...headColumns } = getTableColumns(chainTxs);
export type Fees = { type: 2; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { type: 0; gasPrice: bigint };
export interface TxCall {
  /** null: a contract creation. */
  to: string | null;
  data: string;
  purpose: string;
  gasLimit: bigint;
}

/** Headroom over an estimate for batched calls: state touched by other transactions in the same block can cost a little more. */
export function gasLimitFor(estimate: bigint): bigint {
  return (estimate * 12n) / 10n + 50_000n;
}

/** The node answered that it already has this transaction or its nonce: it may well be on its way. */
const POSSIBLY_SENT = /already known|known transaction|nonce too low|nonce has already been used|already imported|replacement transaction underpriced/i;

/** The node refused a transaction because its sender cannot pay for it (geth, Besu and EDR each say it their way). */
export const CANNOT_PAY = /insufficient funds|enough funds|upfront cost exceeds|exceeds (?:the )?(?:account )?balance/i;

/** Whether a key can pay for its transactions, as last found (at start, on a refused broadcast, or on a re-check). */
export interface SenderHealth {
  address: string;
  canPay: boolean;
  /** Why it cannot, when it cannot. */
  reason?: string;
  /** When this was last found. */
  checkedAt: Date;
}

/**
 * Sends transactions from one key so that a crash at any point never produces a second transaction for the same
 * operation: the nonce is taken under a row lock, and the signed bytes and hash are stored in the same database
 * transaction that links them to their operations, before anything is broadcast. A stored transaction is only
 * ever re-broadcast, never re-signed.
 */
export class TxSender {
  readonly address: string;
  readonly maxInFlight: number;
  private readonly db: Database;
  private readonly provider: JsonRpcProvider;
  private readonly wallet: Wallet;
  private readonly chainId: number;
  private readonly log: Logger;
  private readonly fundsGas: bigint;
  private state: SenderHealth;

  constructor(opts: {
    db: Database;
    provider: JsonRpcProvider;
    wallet: Wallet;
    chainId: number;
    logger: Logger;
    maxInFlight?: number;
    /** The gas one transaction is reckoned to need when the key's balance is checked against current fees. */
    fundsGas?: bigint;
  }) {
    this.db = opts.db;
    this.provider = opts.provider;
    this.wallet = opts.wallet;
    this.chainId = opts.chainId;
    this.address = opts.wallet.address;
    this.maxInFlight = opts.maxInFlight ?? 8;
    this.log = opts.logger.child({ signer: this.address });
    this.fundsGas = opts.fundsGas ?? 500_000n;
    this.state = { address: this.address, canPay: true, checkedAt: new Date(0) };
  }

  /** Whether this key can pay for its transactions: a key that cannot is left out of rotation until it can. */
  health(): SenderHealth {
    return { ...this.state };
  }

  /** Resyncs the stored nonce with the node: never below what the chain has already seen from this key. */
  async init(): Promise<void> {
    const pending = await this.provider.getTransactionCount(this.address, "pending");
    await this.db
      .insert(signerNonces)
      .values({ signer: this.address, chainId: this.chainId, nextNonce: pending })
      .onConflictDoUpdate({
        target: signerNonces.signer,
        set: { nextNonce: sql`GREATEST(${signerNonces.nextNonce}, ${pending})` },
      });
    // A worker that stopped between moving a key's transactions and giving their nonces back left a gap.
    await this.reclaimNonces();
    await this.checkFunds();
  }

  /**
   * Compares the key's balance with what one transaction costs at the node's current fees (nothing to compare on a
   * zero-fee chain). A key found able to pay again first takes back the nonces of the transactions moved off it.
   */
  async checkFunds(): Promise<SenderHealth> {
    const fees = await this.fees();
    const price = fees.type === 2 ? fees.maxFeePerGas : fees.gasPrice;
    const cost = price * this.fundsGas;
    const balance = cost === 0n ? 0n : await this.provider.getBalance(this.address, "latest");
    if (balance < cost) {
      await this.cannotPay(`balance ${balance} wei is below ${cost} wei, one transaction of ${this.fundsGas} gas at current fees`);
    } else {
      if (!this.state.canPay) {
        await this.reclaimNonces();
        this.log.info({ balance: String(balance) }, "signing key can pay again: back in rotation");
      }
      this.state = { address: this.address, canPay: true, checkedAt: new Date() };
      await this.record();
    }
    return this.health();
  }

  /**
   * Takes the key out of rotation (it is re-checked by `checkFunds`) and records why; logged once when it goes
   * out. Resolves once recorded: a failed write is logged, never thrown, since the key is out either way.
   */
  async cannotPay(reason: string): Promise<void> {
    if (this.state.canPay) this.log.warn({ reason }, "signing key cannot pay for transactions: out of rotation, its waiting work goes to the other keys");
    this.state = { address: this.address, canPay: false, reason, checkedAt: new Date() };
    await this.record();
  }

  /**
   * Writes what was last found to the key's `signer_nonces` row, so that every process (the API's operator query,
   * its metrics) reports what this worker knows. Before `init` there is no row, and nothing to write to.
   */
  private async record(): Promise<void> {
    const { reason, checkedAt } = this.state;
    await this.db
      .update(signerNonces)
      .set({ cannotPayReason: reason ?? null, fundsCheckedAt: checkedAt })
      .where(eq(signerNonces.signer, this.address))
      .catch((err: unknown) => this.log.warn({ err: String(err).slice(0, 300) }, "could not record whether the signing key can pay"));
  }

  /**
   * Sets the key's next nonce back to the node's, when the key has nothing but moved transactions at or above it:
   * those were never accepted and have been signed again by other keys, so their nonces are free, and would
   * otherwise leave a gap no later transaction of this key could be mined past.
   */
  async reclaimNonces(): Promise<boolean> {
    const pending = await this.provider.getTransactionCount(this.address, "pending");
    return this.db.transaction(async (tx) => {
      const [row] = await tx.select().from(signerNonces).where(eq(signerNonces.signer, this.address)).for("update");
      if (!row || row.nextNonce <= pending) return false;
      // Anything but a moved transaction at or above it (one in flight, or mined since `pending` was read) keeps it.
      const [above] = await tx
        .select({ n: count() })
        .from(chainTxs)
        .where(and(eq(chainTxs.signer, this.address), eq(chainTxs.chainId, this.chainId), ne(chainTxs.status, "DROPPED"), gte(chainTxs.nonce, pending)));
      if (Number(above?.n ?? 0) > 0) return false;
      // The moved transactions' rows hold those nonces (one transaction per key and nonce): they were never taken by
      // the node and no operation points at them any more, so they go (their moves were logged with their hashes).
      await tx
        .delete(chainTxs)
        .where(and(eq(chainTxs.signer, this.address), eq(chainTxs.chainId, this.chainId), eq(chainTxs.status, "DROPPED"), gte(chainTxs.nonce, pending)));
      await tx.update(signerNonces).set({ nextNonce: pending }).where(eq(signerNonces.signer, this.address));
      this.log.info({ from: row.nextNonce, to: pending }, "nonces of moved transactions taken back");
      return true;
    });
  }

  /** The node's next nonce for this key, counting what its pool holds. */
  async pendingNonce(): Promise<number> {
    return this.provider.getTransactionCount(this.address, "pending");
  }

  /** Transactions of this key signed but not yet known to be mined (without their bytes: `broadcast` reads them). */
  async inFlight(): Promise<ChainTxHead[]> {
    return this.db
      .select(headColumns)
      .from(chainTxs)
      .where(and(eq(chainTxs.signer, this.address), eq(chainTxs.chainId, this.chainId), inArray(chainTxs.status, ["SIGNED", "SENT"])))
      .orderBy(asc(chainTxs.nonce));
  }

  /** How many transactions of this key are signed but not yet known to be mined. */
  async inFlightCount(): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(chainTxs)
      .where(and(eq(chainTxs.signer, this.address), eq(chainTxs.chainId, this.chainId), inArray(chainTxs.status, ["SIGNED", "SENT"])));
    return Number(row?.n ?? 0);
  }

  /** The fees to sign with, from the node's answers (see `feesFrom`). */
  async fees(): Promise<Fees> {
    return nodeFees(this.provider);
  }

  /**
   * In one database transaction: takes the nonce under lock, lets `build` decide what to send (it may lock and
   * claim the operation rows it covers, or return undefined to give up), signs, stores the signed bytes and lets
   * `link` record the transaction on its operations. Nothing is broadcast here. `fees` may be given (a `fees()` the
   * caller began earlier, alongside its own preparation); by default they are asked for now.
   */
  async prepare(
    build: (tx: DbTransaction) => Promise<TxCall | undefined>,
    link: (tx: DbTransaction, chainTx: ChainTx) => Promise<void>,
    opts: { fees?: Promise<Fees> } = {},
  ): Promise<ChainTx | undefined> {
    const fees = await (opts.fees ?? this.fees());
    return this.db.transaction(async (tx) => {
      const [row] = await tx.select().from(signerNonces).where(eq(signerNonces.signer, this.address)).for("update");
      if (!row) throw new Error(`nonce sequence for ${this.address} missing: call init() first`);
      const nonce = row.nextNonce;
      faultPoint("after-nonce");
      const call = await build(tx);
      if (!call) return undefined;
      // The same bytes as `wallet.signTransaction`, and the hash (keccak256 of them), without ethers' hex round trips.
      const { raw, hash: txHash } = signRawTransaction(this.wallet.signingKey, {
        ...fees,
        chainId: this.chainId,
        nonce,
        to: call.to,
        data: call.data,
        gasLimit: call.gasLimit,
      });
      faultPoint("after-sign");
      // The bytes just signed are not read back.
      const [head] = await tx
        .insert(chainTxs)
        .values({ chainId: this.chainId, signer: this.address, nonce, to: call.to, purpose: call.purpose, rawTx: raw, txHash })
        .returning(headColumns);
      const stored: ChainTx = { ...head!, rawTx: raw };
      await tx.update(signerNonces).set({ nextNonce: nonce + 1 }).where(eq(signerNonces.signer, this.address));
      await link(tx, stored);
      this.log.debug({ nonce, txHash, purpose: call.purpose }, "transaction signed");
      return stored;
    });
  }

  private async rawTxOf(id: string): Promise<string> {
    const [row] = await this.db.select({ rawTx: chainTxs.rawTx }).from(chainTxs).where(eq(chainTxs.id, id));
    if (!row) throw new Error(`stored transaction ${id} missing`);
    return row.rawTx;
  }

  async load(id: string): Promise<ChainTx | undefined> {
    const [row] = await this.db.select().from(chainTxs).where(eq(chainTxs.id, id));
    return row;
  }

  /** Broadcasts the stored bytes (read first when not given); sending them again is harmless, so every retry comes through here. */
  async broadcast(chainTx: ChainTx | ChainTxHead): Promise<void> {
    const rawTx = "rawTx" in chainTx ? chainTx.rawTx : await this.rawTxOf(chainTx.id);
    try {
      await this.provider.send("eth_sendRawTransaction", [rawTx]);
    } catch (err) {
      const message = errorText(err);
      // The node's own words (the first of `errorText`'s parts), not the client library's wrapping of them.
      if (CANNOT_PAY.test(message)) await this.cannotPay(`the node refused transaction ${chainTx.txHash}: ${message.split(" | ")[0]!.slice(0, 200)}`);
      if (!POSSIBLY_SENT.test(message)) throw err;
      this.log.debug({ txHash: chainTx.txHash, nonce: chainTx.nonce }, `broadcast answered "${message}": looking for the receipt`);
    }
    faultPoint("after-broadcast");
    if (chainTx.status === "SIGNED") {
      await this.db
        .update(chainTxs)
        .set({ status: "SENT", updatedAt: new Date() })
        .where(and(eq(chainTxs.id, chainTx.id), eq(chainTxs.status, "SIGNED")));
    }
  }

  /**
   * The receipt of a sent transaction, recorded (MINED or REVERTED), once it is mined; undefined while it is not,
   * changing nothing (whether it was dropped is `outcome`'s to find, the monitor's).
   */
  async recordIfMined(chainTx: ChainTxHead): Promise<MinedReceipt | undefined> {
    const receipt = await minedReceipt(this.provider, chainTx.txHash);
    if (!receipt) return undefined;
    faultPoint("after-receipt");
    await this.db
      .update(chainTxs)
      .set({ status: receipt.status === 1 ? "MINED" : "REVERTED", blockNumber: receipt.blockNumber, updatedAt: new Date() })
      .where(eq(chainTxs.id, chainTx.id));
    return receipt;
  }

  /**
   * What became of a sent transaction: its receipt; "dropped" when its nonce was taken by another transaction
   * (it can then never be mined); or undefined while still pending.
   */
  async outcome(chainTx: ChainTxHead): Promise<MinedReceipt | "dropped" | undefined> {
    // Nonce first, receipt second: a transaction mined in between is then seen by the receipt look-up.
    const minedNonce = await this.provider.getTransactionCount(this.address, "latest");
    const receipt = await this.recordIfMined(chainTx);
    if (receipt) return receipt;
    if (minedNonce > chainTx.nonce) {
      await this.db.update(chainTxs).set({ status: "DROPPED", updatedAt: new Date() }).where(eq(chainTxs.id, chainTx.id));
      return "dropped";
    }
    return undefined;
  }
}

/** What a receipt says about the transaction itself; its logs are the indexer's business. */
export interface MinedReceipt {
  status: number;
  blockNumber: number;
}

/**
 * The receipt read raw: ethers would format every log of it (a batch of 100 certificates has hundreds), which
 * costs the worker more than the status and block it needs.
 */
async function minedReceipt(provider: JsonRpcProvider, txHash: string): Promise<MinedReceipt | undefined> {
  const raw = (await provider.send("eth_getTransactionReceipt", [txHash])) as { status?: string; blockNumber?: string } | null;
  if (!raw?.blockNumber) return undefined;
  return { status: Number(raw.status ?? "0x1"), blockNumber: Number(raw.blockNumber) };
}

/** What the node says about fees: its gas price, its suggested priority fee (when it has the method) and the latest base fee (absent before London). */
export interface NodeFeeAnswers {
  gasPrice: bigint;
  maxPriorityFeePerGas?: bigint;
  baseFeePerGas?: bigint;
}

/**
 * The fees to sign with, chosen from the node's answers alone (never from the chain id):
 * - no base fee (a pre-London chain): a legacy transaction at the node's gas price, 0 on a free chain;
 * - a base fee of 0 and a gas price of 0 (Besu QBFT with zero base fee and min gas price 0): EIP-1559 with both
 *   fees 0, so a key holding no ether can still send. ethers' `getFeeData` would add its default 1 gwei priority
 *   fee here, which such a key cannot pay;
 * - otherwise EIP-1559: the node's priority fee (or its gas price above the base fee), over twice the base fee,
 *   as ethers does, so a rising base fee does not strand the transaction.
 */
export function feesFrom(node: NodeFeeAnswers): Fees {
  const { gasPrice, baseFeePerGas } = node;
  if (baseFeePerGas === undefined) return { type: 0, gasPrice };
  if (baseFeePerGas === 0n && gasPrice === 0n) return { type: 2, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n };
  const tip = node.maxPriorityFeePerGas ?? (gasPrice > baseFeePerGas ? gasPrice - baseFeePerGas : 0n);
  return { type: 2, maxFeePerGas: baseFeePerGas * 2n + tip, maxPriorityFeePerGas: tip };
}

/** Asks the node the three fee questions at once (`eth_maxPriorityFeePerGas` is not on every node: it is optional). */
export async function nodeFees(provider: JsonRpcProvider): Promise<Fees> {
  const [gasPrice, tip, block] = await Promise.all([
    provider.send("eth_gasPrice", []) as Promise<string>,
    (provider.send("eth_maxPriorityFeePerGas", []) as Promise<string>).catch(() => undefined),
    provider.send("eth_getBlockByNumber", ["latest", false]) as Promise<{ baseFeePerGas?: string | null } | null>,
  ]);
  return feesFrom({
    gasPrice: BigInt(gasPrice),
    maxPriorityFeePerGas: tip == null ? undefined : BigInt(tip),
    baseFeePerGas: block?.baseFeePerGas == null ? undefined : BigInt(block.baseFeePerGas),
  });
}

export function errorText(err: unknown): string {
  const e = err as { message?: string; error?: { message?: string }; info?: { error?: { message?: string } } };
  return [e?.error?.message, e?.info?.error?.message, e?.message].filter(Boolean).join(" | ");
}
