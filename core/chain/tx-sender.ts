import { and, eq, sql } from "drizzle-orm";
import { Transaction, type JsonRpcProvider, type Wallet } from "ethers";
import type { Database } from "../db/index.ts";
import { chainTxs, signerNonces } from "../db/schema.ts";
import type { Logger } from "../logger.ts";

export type ChainTx = typeof chainTxs.$inferSelect;
type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** The node answered that it already has this transaction or its nonce: it may well be on its way. */
const POSSIBLY_SENT = /already known|known transaction|nonce too low|nonce has already been used|already imported/i;

/**
 * Sends transactions from one key so that a crash at any point never produces a second transaction for the
 * same operation: the nonce is taken under a row lock, and the signed bytes and hash are stored in the same
 * database transaction that links them to their operation, before anything is broadcast.
 */
export class TxSender {
  readonly address: string;
  private readonly db: Database;
  private readonly provider: JsonRpcProvider;
  private readonly wallet: Wallet;
  private readonly chainId: number;
  private readonly log: Logger;

  constructor(opts: { db: Database; provider: JsonRpcProvider; wallet: Wallet; chainId: number; logger: Logger }) {
    this.db = opts.db;
    this.provider = opts.provider;
    this.wallet = opts.wallet;
    this.chainId = opts.chainId;
    this.address = opts.wallet.address;
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

  /**
   * Estimates, takes a nonce, signs and stores the transaction, and lets `link` record it on its operation,
   * all in one database transaction. Throws the node's revert error untouched when estimation fails, before
   * any nonce is taken, so a poison request consumes nothing.
   */
  async prepare(
    req: { to: string; data: string; purpose: string },
    link: (tx: Tx, chainTx: ChainTx) => Promise<void>,
  ): Promise<ChainTx> {
    const gas = await this.provider.estimateGas({ from: this.address, to: req.to, data: req.data });
    const fees = await this.provider.getFeeData();
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(signerNonces)
        .where(eq(signerNonces.signer, this.address))
        .for("update");
      if (!row) throw new Error(`nonce sequence for ${this.address} missing: call init() first`);
      const nonce = row.nextNonce;
      const unsigned =
        fees.maxFeePerGas != null
          ? {
              type: 2,
              maxFeePerGas: fees.maxFeePerGas,
              maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? 0n,
            }
          : { type: 0, gasPrice: fees.gasPrice ?? 0n };
      const raw = await this.wallet.signTransaction({
        ...unsigned,
        chainId: this.chainId,
        nonce,
        to: req.to,
        data: req.data,
        gasLimit: (gas * 12n) / 10n + 10_000n,
      });
      const txHash = Transaction.from(raw).hash!;
      const [stored] = await tx
        .insert(chainTxs)
        .values({ chainId: this.chainId, signer: this.address, nonce, to: req.to, purpose: req.purpose, rawTx: raw, txHash })
        .returning();
      await tx.update(signerNonces).set({ nextNonce: nonce + 1 }).where(eq(signerNonces.signer, this.address));
      await link(tx, stored!);
      this.log.debug({ nonce, txHash, purpose: req.purpose }, "transaction signed");
      return stored!;
    });
  }

  async load(id: string): Promise<ChainTx | undefined> {
    const [row] = await this.db.select().from(chainTxs).where(eq(chainTxs.id, id));
    return row;
  }

  /** Broadcasts the stored bytes; sending them again is harmless, so retries always come through here. */
  async broadcast(chainTx: ChainTx): Promise<void> {
    try {
      await this.provider.send("eth_sendRawTransaction", [chainTx.rawTx]);
    } catch (err) {
      const message = errorText(err);
      if (!POSSIBLY_SENT.test(message)) throw err;
      this.log.info({ txHash: chainTx.txHash, nonce: chainTx.nonce }, `broadcast answered "${message}": looking for the receipt`);
    }
    if (chainTx.status === "SIGNED") {
      await this.db
        .update(chainTxs)
        .set({ status: "SENT", updatedAt: new Date() })
        .where(and(eq(chainTxs.id, chainTx.id), eq(chainTxs.status, "SIGNED")));
    }
  }

  /** Waits for the receipt of a stored transaction and records the outcome. */
  async waitForReceipt(chainTx: ChainTx, timeoutMs = 120_000) {
    const receipt = await this.provider.waitForTransaction(chainTx.txHash, 1, timeoutMs);
    if (!receipt) throw new Error(`no receipt for ${chainTx.txHash} after ${timeoutMs} ms`);
    await this.db
      .update(chainTxs)
      .set({ status: receipt.status === 1 ? "MINED" : "REVERTED", blockNumber: receipt.blockNumber, updatedAt: new Date() })
      .where(eq(chainTxs.id, chainTx.id));
    return receipt;
  }
}

function errorText(err: unknown): string {
  const e = err as { message?: string; error?: { message?: string }; info?: { error?: { message?: string } } };
  return [e?.error?.message, e?.info?.error?.message, e?.message].filter(Boolean).join(" | ");
}
