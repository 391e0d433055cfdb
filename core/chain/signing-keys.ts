import { and, asc, count, eq, inArray } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { chainTxs, signerNonces } from "../db/schema.ts";

/** A signing key as its workers last left it in the database: whether it can pay, and what it has under way. */
export interface SigningKeyState {
  address: string;
  chainId: number;
  /** False once a worker found its balance short or the node refused its transaction for want of funds. */
  canPay: boolean;
  /** Why it cannot pay, when it cannot. */
  reason: string | null;
  /** When a worker last checked (null: no worker has since the key was first used). */
  checkedAt: Date | null;
  /** Transactions signed or sent and not yet known to be mined. */
  inFlight: number;
  /** The nonce its next transaction will take. */
  nextNonce: number;
}

/**
 * Every signing key a worker has started with (each has its `signer_nonces` row), read from the database alone, so
 * any process can report them: the API's operator query and every process's metrics. `addresses` narrows the
 * list to those keys (a worker reporting its own).
 */
export async function signingKeyStates(db: Database, opts: { chainId?: number; addresses?: readonly string[] } = {}): Promise<SigningKeyState[]> {
  if (opts.addresses?.length === 0) return [];
  const where = and(
    opts.chainId === undefined ? undefined : eq(signerNonces.chainId, opts.chainId),
    opts.addresses ? inArray(signerNonces.signer, [...opts.addresses]) : undefined,
  );
  const [rows, flying] = await Promise.all([
    db.select().from(signerNonces).where(where).orderBy(asc(signerNonces.signer)),
    db
      .select({ signer: chainTxs.signer, chainId: chainTxs.chainId, n: count() })
      .from(chainTxs)
      .where(inArray(chainTxs.status, ["SIGNED", "SENT"]))
      .groupBy(chainTxs.signer, chainTxs.chainId),
  ]);
  const inFlight = new Map(flying.map((f) => [`${f.chainId}:${f.signer}`, Number(f.n)]));
  return rows.map((r) => ({
    address: r.signer,
    chainId: r.chainId,
    canPay: r.cannotPayReason === null,
    reason: r.cannotPayReason,
    checkedAt: r.fundsCheckedAt,
    inFlight: inFlight.get(`${r.chainId}:${r.signer}`) ?? 0,
    nextNonce: r.nextNonce,
  }));
}
