import { and, eq, inArray, isNull, type SQL } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Provider } from "ethers";
import type { Logger } from "../logger.ts";
import { faultPoint } from "./faults.ts";
import type { DbTransaction } from "../db/index.ts";
import { gasLimitFor, type ChainTx, type TxSender } from "./tx-sender.ts";

/**
 * One operation's call: the contract, the calldata, and the purpose the stored transaction is known by. A contract
 * creation has `to: null` and the creation code as `data` (core/chain/contract-creation.ts); the contract it makes
 * is read from the receipt of the transaction that is mined (`contractOf`), which a resubmission may have replaced.
 */
export interface OperationCall {
  to: string | null;
  data: string;
  purpose: string;
  /**
   * The gas limit, when the caller has already estimated this very call (an airdrop sizes its batch by estimating
   * it): it is not estimated a second time, and `refused` is never asked.
   */
  gasLimit?: bigint;
}

export interface OperationSteps {
  /** In the signing transaction: locks and claims the operation; false when another attempt has it. */
  claim(tx: DbTransaction): Promise<boolean>;
  /** In the signing transaction: records the stored transaction on the operation (its SUBMITTED move). */
  record(tx: DbTransaction, stored: ChainTx): Promise<void>;
  /**
   * The estimate failed: settles the operation when the failure is the contract's verdict and answers true
   * (nothing is sent; it may also throw an UnrecoverableError), or answers false to have the error rethrown and
   * the job retried (the node failing is not a verdict).
   */
  refused(err: unknown): Promise<boolean>;
}

/**
 * Sends one operation's transaction: estimated first, so the contract's refusal costs no nonce; then, in one
 * database transaction with the key's nonce, claimed, signed, stored and recorded on the operation; then
 * broadcast. A broadcast that fails is left to the transaction monitor, which sends the stored bytes again: a
 * stored transaction is never re-signed. Answers the stored transaction, or undefined when nothing was sent.
 */
export async function sendOperation(
  deps: { provider: Provider; logger: Logger },
  sender: TxSender,
  call: OperationCall,
  steps: OperationSteps,
): Promise<ChainTx | undefined> {
  let gasLimit = call.gasLimit;
  if (gasLimit === undefined) {
    try {
      gasLimit = gasLimitFor(await deps.provider.estimateGas({ from: sender.address, to: call.to ?? undefined, data: call.data }));
    } catch (err) {
      if (await steps.refused(err)) return undefined;
      throw err;
    }
  }
  const limit = gasLimit;
  const chainTx = await sender.prepare(
    async (tx) => ((await steps.claim(tx)) ? { ...call, gasLimit: limit } : undefined),
    (tx, stored) => steps.record(tx, stored),
  );
  if (!chainTx) return undefined;
  faultPoint("after-commit");
  await sender.broadcast(chainTx).catch((err) => deps.logger.warn({ txHash: chainTx.txHash, err: String(err) }, "broadcast failed; will retry"));
  return chainTx;
}

/**
 * The usual `claim`: the operation row, locked, while it is still in one of `from` and has no transaction (another
 * attempt holding it is skipped, not waited for).
 */
export async function claimRow(tx: DbTransaction, table: PgTable & { id: PgColumn; status: PgColumn; chainTxId: PgColumn }, id: string, from: readonly string[]): Promise<boolean> {
  const where: SQL = and(eq(table.id, id), inArray(table.status, [...from]), isNull(table.chainTxId))!;
  const rows = await tx.select({ id: table.id }).from(table as PgTable).where(where).for("update", { skipLocked: true });
  return rows.length > 0;
}
