import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { getAddress, type Log } from "ethers";
import { claimCodes, editionContracts, editionMintBatches, editionOperations, editions, indexerCursors } from "../../core/db/schema.ts";
import { collectibleEditionsInterface } from "../../core/editions/abi.ts";
import type { Pipeline } from "../../core/operations/context.ts";
import { transition, transitionMany } from "../../core/operations/transitions.ts";
import type { WorkerDeps } from "../deps.ts";

/** Blocks one `eth_getLogs` call covers at most. */
const MAX_RANGE = 2_000;

/** The name the editions indexer's cursor is kept under, one a chain. */
export function editionsCursorName(chainId: number): string {
  return `editions:${chainId}`;
}

/**
 * Reads the editions contracts' events from a persisted cursor, one range of blocks a call: EditionCreated
 * confirms an edition, ItemMinted the airdrop batch of its transaction (and its operation once every item is
 * minted), CustodyReleased likewise a release batch, VoucherRedeemed marks a claim code used. Everything a range says is written with the cursor in one
 * transaction. Returns true at the head.
 */
export async function indexEditionEvents(
  deps: Pick<WorkerDeps, "db" | "provider" | "config"> & { pipeline: Pipeline },
  cursorName: string,
): Promise<boolean> {
  const { db, provider, config, pipeline } = deps;
  const contracts = await db.select().from(editionContracts).where(eq(editionContracts.chainId, config.chain.chainId));
  if (!contracts.length) return true;
  const head = (await provider.getBlockNumber()) - config.chain.confirmations;
  const [cursor] = await db.select().from(indexerCursors).where(eq(indexerCursors.name, cursorName));
  const from = cursor ? cursor.lastBlock + 1 : Math.min(...contracts.map((c) => c.deployBlock));
  if (from > head) return true;
  const to = Math.min(head, from + MAX_RANGE - 1);
  const iface = collectibleEditionsInterface();
  const topics = ["EditionCreated", "ItemMinted", "VoucherRedeemed", "CustodyReleased"].map((n) => iface.getEvent(n)!.topicHash);
  const itemMinted = topics[1];
  const logs: Log[] = await provider.getLogs({ address: contracts.map((c) => c.contractAddress), topics: [topics], fromBlock: from, toBlock: to });
  // By lower-case address: a checksum (a hash) for each of an airdrop's events would cost more than the rest.
  const byAddress = new Map(contracts.map((c) => [c.contractAddress.toLowerCase(), c]));
  await pipeline.transaction(async (ctx) => {
    const tx = ctx.db;
    const minted = new Map<string, number>();
    const mintedByEdition = new Map<string, { contractId: string; chainEditionId: string; count: number }>();
    for (const log of logs) {
      const contract = byAddress.get(log.address.toLowerCase());
      if (!contract) continue;
      if (log.topics[0] === itemMinted && log.topics.length === 4) {
        // Counted from its topics (the edition id is the first indexed one): an airdrop's tens of thousands of
        // events are not each decoded.
        minted.set(log.transactionHash, (minted.get(log.transactionHash) ?? 0) + 1);
        const chainEditionId = BigInt(log.topics[1]!).toString();
        const key = `${contract.id}:${chainEditionId}`;
        const entry = mintedByEdition.get(key) ?? { contractId: contract.id, chainEditionId, count: 0 };
        entry.count++;
        mintedByEdition.set(key, entry);
        continue;
      }
      const parsed = iface.parseLog(log);
      if (!parsed) continue;
      if (parsed.name === "EditionCreated") {
        const chainEditionId = (parsed.args.editionId as bigint).toString();
        const created = await tx
          .select({ id: editions.id })
          .from(editions)
          .where(and(eq(editions.txHash, log.transactionHash), eq(editions.contractId, contract.id), inArray(editions.status, ["SUBMITTED", "FAILED"])));
        await transitionMany(ctx, "edition", created.map((e) => e.id), ["SUBMITTED", "FAILED"], "CONFIRMED", { chainEditionId, txHash: log.transactionHash, error: null });
      } else if (parsed.name === "CustodyReleased") {
        // A release batch counts its items as an airdrop batch counts its mints.
        minted.set(log.transactionHash, (minted.get(log.transactionHash) ?? 0) + 1);
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
          // Not the holders: an airdrop's list is the row's bulk, and nothing here reads it.
          .returning({ id: editionOperations.id, institutionId: editionOperations.institutionId, minted: editionOperations.minted, total: editionOperations.total, updatedAt: editionOperations.updatedAt });
        if (op && op.minted >= op.total) {
          await transition(ctx, "editionOperation", op.id, ["SUBMITTED"], "CONFIRMED");
        } else if (op) {
          // Progress, live only: still SUBMITTED, with more items minted.
          ctx.notice({ kind: "editionOperation", status: "SUBMITTED", at: op.updatedAt, rows: [op], details: { minted: op.minted, total: op.total } });
        }
      }
    }
    await tx
      .insert(indexerCursors)
      .values({ name: cursorName, lastBlock: to })
      .onConflictDoUpdate({ target: indexerCursors.name, set: { lastBlock: to, updatedAt: new Date() } });
  });
  return to >= head;
}
