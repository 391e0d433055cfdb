import { and, asc, count, eq, getTableColumns, inArray, sql } from "drizzle-orm";
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
  to: string;
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

  constructor(opts: { db: Database; provider: JsonRpcProvider; wallet: Wallet; chainId: number; logger: Logger; maxInFlight?: number }) {
    this.db = opts.db;
    this.provider = opts.provider;
    this.wallet = opts.wallet;
    this.chainId = opts.chainId;
    this.address = opts.wallet.address;
    this.maxInFlight = opts.maxInFlight ?? 8;
    this.log = opts.logger.child({ signer: this.address });
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

  async fees(): Promise<Fees> {
    const fees = await this.provider.getFeeData();
    return fees.maxFeePerGas != null
      ? { type: 2, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? 0n }
      : { type: 0, gasPrice: fees.gasPrice ?? 0n };
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
   * What became of a sent transaction: its receipt; "dropped" when its nonce was taken by another transaction
   * (it can then never be mined); or undefined while still pending.
   */
  async outcome(chainTx: ChainTxHead): Promise<MinedReceipt | "dropped" | undefined> {
    // Nonce first, receipt second: a transaction mined in between is then seen by the receipt look-up.
    const minedNonce = await this.provider.getTransactionCount(this.address, "latest");
    const receipt = await minedReceipt(this.provider, chainTx.txHash);
    if (receipt) {
      faultPoint("after-receipt");
      await this.db
        .update(chainTxs)
        .set({ status: receipt.status === 1 ? "MINED" : "REVERTED", blockNumber: receipt.blockNumber, updatedAt: new Date() })
        .where(eq(chainTxs.id, chainTx.id));
      return receipt;
    }
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

export function errorText(err: unknown): string {
  const e = err as { message?: string; error?: { message?: string }; info?: { error?: { message?: string } } };
  return [e?.error?.message, e?.info?.error?.message, e?.message].filter(Boolean).join(" | ");
}
