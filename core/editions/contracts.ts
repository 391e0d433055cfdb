import { eq } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { editionContracts } from "../db/schema.ts";
import type { EditionsContractRef } from "./holdings.ts";

/**
 * The editions contracts a holder's items are looked for in: the configured ones (`COLLECTIBLE_CONTRACTS`, the dev
 * stack's demo) and every institution's contract deployed through the API on this chain, read from its deploy block.
 */
export async function editionsContractsOn(db: Database, chainId: number, configured: readonly string[]): Promise<EditionsContractRef[]> {
  const made = await db
    .select({ address: editionContracts.contractAddress, fromBlock: editionContracts.deployBlock })
    .from(editionContracts)
    .where(eq(editionContracts.chainId, chainId));
  const seen = new Set(made.map((c) => c.address.toLowerCase()));
  return [...configured.filter((c) => !seen.has(c.toLowerCase())), ...made];
}
