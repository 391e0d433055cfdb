import { and, eq, inArray, sql } from "drizzle-orm";
import { decodeContractError, describeContractError } from "../../core/chain/registry.ts";
import type { DbTx } from "../../core/chain/tx-sender.ts";
import { editionOperations, editions } from "../../core/db/schema.ts";
import { collectibleEditionsInterface } from "../../core/editions/abi.ts";
import type { EditionOperationRow, EditionRow } from "../../core/editions/operations.ts";
import { announceStateChange } from "../../core/operations/transitions.ts";
import type { WorkerDeps } from "../deps.ts";

type Deps = Pick<WorkerDeps, "db" | "logger">;

/** The error of a claim whose voucher the holder redeemed on chain first: that redemption minted the item. */
export const VOUCHER_REDEEMED_ON_CHAIN = "CLAIM_CODE_USED: the code's voucher was redeemed on chain";

/** The editions contract's custom error inside a failed call or estimate, as `Name(arg, …)`. */
export function contractRefusal(err: unknown): string | undefined {
  const decoded = decodeContractError(err, collectibleEditionsInterface());
  return decoded && describeContractError(decoded);
}

/** An edition still in one of `from` → FAILED with `error`. */
export async function failEdition(deps: Deps, id: string, from: EditionRow["status"][], error: string): Promise<void> {
  const { db, logger } = deps;
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
export async function failOperation(
  deps: Deps,
  op: EditionOperationRow,
  error: string,
  opts: { keepReservation?: boolean; also?: (tx: DbTx) => Promise<unknown> } = {},
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await opts.also?.(tx);
    const [moved] = await tx
      .update(editionOperations)
      .set({ status: "FAILED", error, updatedAt: new Date() })
      .where(and(eq(editionOperations.id, op.id), inArray(editionOperations.status, ["QUEUED", "SUBMITTED"])))
      .returning();
    if (moved) await announceStateChange(tx, deps.logger, "editionOperation", [moved], ["QUEUED", "SUBMITTED"], "FAILED", { error, minted: moved.minted, total: moved.total });
    if (moved && !opts.keepReservation) {
      await tx
        .update(editions)
        .set({ reserved: sql`greatest(0, ${editions.reserved} - ${moved.total - moved.minted})`, updatedAt: new Date() })
        .where(eq(editions.id, moved.editionId));
    }
  });
}
