import { and, eq, inArray } from "drizzle-orm";
import { getAddress } from "ethers";
import { registryEvents, type IssuedEvent, type RevokedEvent } from "../core/chain/registry-events.ts";
import { RevocationReason } from "../core/chain/registry.ts";
import type { Database } from "../core/db/index.ts";
import { certificates, collections, indexerCursors, issuances, revocations } from "../core/db/schema.ts";
import { transitionMany } from "../core/operations/transitions.ts";
import { PollLoop } from "../core/poll-loop.ts";
import type { WorkerDeps } from "./deps.ts";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
type Collection = typeof collections.$inferSelect;

const MAX_RANGE = 2_000;

/**
 * Reads the registries' events from a persisted cursor and records what the chain says: the chain is the
 * authority on what was issued and revoked, and this is the only writer of confirmations.
 */
export class ChainIndexer {
  private readonly deps: WorkerDeps;
  private readonly cursorName: string;
  private readonly loop: PollLoop;

  constructor(deps: WorkerDeps) {
    this.deps = deps;
    this.cursorName = `registries:${deps.config.chain.chainId}`;
    this.loop = new PollLoop("indexer", async () => !(await this.tick()), { idleMs: deps.config.indexerPollMs, logger: deps.logger });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Indexes one range of blocks; returns true when it has reached the head. */
  async tick(): Promise<boolean> {
    const { db, provider, config } = this.deps;
    const registries = await db.select().from(collections).where(eq(collections.chainId, config.chain.chainId));
    if (!registries.length) return true;
    const head = (await provider.getBlockNumber()) - config.chain.confirmations;
    const [cursor] = await db.select().from(indexerCursors).where(eq(indexerCursors.name, this.cursorName));
    const from = cursor ? cursor.lastBlock + 1 : Math.min(...registries.map((r) => r.deployBlock));
    if (from > head) return true;
    const to = Math.min(head, from + MAX_RANGE - 1);
    const events = await registryEvents(provider, registries.map((r) => r.contractAddress), from, to);
    const byAddress = new Map(registries.map((r) => [getAddress(r.contractAddress), r]));
    const blockTimes = new Map<number, Date>();
    for (const event of events) {
      if (event.kind === "revoked" && !blockTimes.has(event.blockNumber)) {
        const block = await provider.getBlock(event.blockNumber);
        blockTimes.set(event.blockNumber, new Date(Number(block!.timestamp) * 1000));
      }
    }
    await db.transaction(async (tx) => {
      const issued: { registry: Collection; event: IssuedEvent }[] = [];
      const revoked: { registry: Collection; event: RevokedEvent }[] = [];
      for (const event of events) {
        const registry = byAddress.get(event.address);
        if (!registry) continue;
        if (event.kind === "issued") issued.push({ registry, event });
        else revoked.push({ registry, event });
      }
      for (let i = 0; i < issued.length; i += 1000) await this.applyIssued(tx, issued.slice(i, i + 1000));
      for (const r of revoked) await this.applyRevoked(tx, r.registry, r.event, blockTimes.get(r.event.blockNumber));
      await tx
        .insert(indexerCursors)
        .values({ name: this.cursorName, lastBlock: to })
        .onConflictDoUpdate({ target: indexerCursors.name, set: { lastBlock: to, updatedAt: new Date() } });
    });
    return to >= head;
  }

  /** Records a chunk of issue events with a fixed number of queries, whatever its size. */
  private async applyIssued(tx: Tx, events: { registry: Collection; event: IssuedEvent }[]): Promise<void> {
    const logger = this.deps.logger;
    const rows = await tx
      .select({ id: issuances.id, institutionId: issuances.institutionId, requestId: issuances.requestId })
      .from(issuances)
      .where(inArray(issuances.requestId, events.map((e) => e.event.requestId)));
    const byRequest = new Map(rows.map((r) => [r.requestId, r]));
    const values = [];
    const confirmed = new Map<string, string[]>();
    for (const { registry, event } of events) {
      const { requestId, tokenId, holder, uri, digest, validUntil, transactionHash, blockNumber } = event;
      const issuance = byRequest.get(requestId);
      if (!issuance) {
        logger.warn({ requestId, tokenId: tokenId.toString(), contract: registry.contractAddress }, "certificate issued outside Hallmark");
        continue;
      }
      values.push({
        issuanceId: issuance.id,
        institutionId: issuance.institutionId,
        collectionId: registry.id,
        tokenId: tokenId.toString(),
        owner: holder,
        metadataUri: uri,
        digest,
        validUntil: validUntil ? new Date(Number(validUntil) * 1000) : null,
        txHash: transactionHash,
        blockNumber,
      });
      confirmed.set(transactionHash, [...(confirmed.get(transactionHash) ?? []), issuance.id]);
    }
    if (values.length) await tx.insert(certificates).values(values).onConflictDoNothing();
    for (const [txHash, ids] of confirmed) {
      await transitionMany(tx, logger, "issuance", ids, ["QUEUED", "PINNED", "SUBMITTED", "FAILED"], "CONFIRMED", { txHash, error: null });
    }
  }

  private async applyRevoked(tx: Tx, registry: Collection, event: RevokedEvent, blockTime?: Date): Promise<void> {
    const logger = this.deps.logger;
    const { tokenId, reason, transactionHash } = event;
    const updated = await tx
      .update(certificates)
      .set({
        status: "REVOKED",
        revocationReason: RevocationReason[Number(reason)] ?? "UNSPECIFIED",
        revokedAt: blockTime ?? new Date(),
        revokedTxHash: transactionHash,
      })
      .where(and(eq(certificates.collectionId, registry.id), eq(certificates.tokenId, tokenId.toString())))
      .returning({ id: certificates.id });
    for (const { id } of updated) {
      const pending = await tx
        .select({ id: revocations.id })
        .from(revocations)
        .where(and(eq(revocations.certificateId, id), inArray(revocations.status, ["QUEUED", "SUBMITTED", "FAILED"])));
      await transitionMany(tx, logger, "revocation", pending.map((r) => r.id), ["QUEUED", "SUBMITTED", "FAILED"], "CONFIRMED", {
        txHash: transactionHash,
      });
    }
  }
}
