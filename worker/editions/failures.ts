import { eq, sql } from "drizzle-orm";
import { decodeContractError, describeContractError } from "../../core/chain/contract-errors.ts";
import type { DbTransaction } from "../../core/db/index.ts";
import { editionOperations, editions } from "../../core/db/schema.ts";
import { collectibleEditionsInterface } from "../../core/editions/abi.ts";
import type { EditionOperationRow, EditionRow } from "../../core/editions/operations.ts";
import type { Pipeline } from "../../core/operations/context.ts";
import { transition } from "../../core/operations/transitions.ts";

/** The error of a claim whose voucher the holder redeemed on chain first: that redemption minted the item. */
export const VOUCHER_REDEEMED_ON_CHAIN = "CLAIM_CODE_USED: the code's voucher was redeemed on chain";

/** The editions contract's custom error inside a failed call or estimate, as `Name(arg, …)`. */
export function contractRefusal(err: unknown): string | undefined {
  const decoded = decodeContractError(err, collectibleEditionsInterface());
  return decoded && describeContractError(decoded);
}

/** An edition still in one of `from` → FAILED with `error`. */
export async function failEdition(pipeline: Pipeline, id: string, from: EditionRow["status"][], error: string): Promise<void> {
  await pipeline.transaction((ctx) => transition(ctx, "edition", id, from, "FAILED", { error }));
}

/**
 * Fails an operation and gives back the items it had reserved and not minted, unless `keepReservation`: a claim
 * whose voucher was redeemed on chain had its item minted by that redemption. `also` runs in the same transaction
 * (a reverted batch marked FAILED with its operation).
 */
export async function failOperation(
  pipeline: Pipeline,
  op: Pick<EditionOperationRow, "id" | "editionId">,
  error: string,
  opts: { keepReservation?: boolean; also?: (tx: DbTransaction) => Promise<unknown> } = {},
): Promise<void> {
  await pipeline.transaction(async (ctx) => {
    await opts.also?.(ctx.db);
    const moved = await transition(ctx, "editionOperation", op.id, ["QUEUED", "SUBMITTED"], "FAILED", { error });
    if (moved && !opts.keepReservation) {
      // What it had not minted, as the row says now (the indexer may have counted items since `op` was read).
      const unminted = sql`(select ${editionOperations.total} - ${editionOperations.minted} from ${editionOperations} where ${editionOperations.id} = ${op.id})`;
      await ctx.db
        .update(editions)
        .set({ reserved: sql`greatest(0, ${editions.reserved} - ${unminted})`, updatedAt: new Date() })
        .where(eq(editions.id, op.editionId));
    }
  });
}
