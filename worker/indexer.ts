import { and, eq, inArray } from "drizzle-orm";
import { getAddress, type Log } from "ethers";
import { certificateRegistryInterface, RevocationReason } from "../core/chain/registry.ts";
import type { Database } from "../core/db/index.ts";
import { certificates, collections, indexerCursors, issuances, revocations } from "../core/db/schema.ts";
import { transitionMany } from "../core/operations/transitions.ts";
import { PollLoop } from "../core/poll-loop.ts";
import type { WorkerDeps } from "./deps.ts";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
type Collection = typeof collections.$inferSelect;
type IssuedArgs = [requestId: string, tokenId: bigint, holder: string, uri: string, digest: string, validUntil: bigint];

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
    const iface = certificateRegistryInterface();
    const logs = await provider.getLogs({
      address: registries.map((r) => r.contractAddress),
      topics: [[iface.getEvent("CertificateIssued")!.topicHash, iface.getEvent("CertificateRevoked")!.topicHash]],
      fromBlock: from,
      toBlock: to,
    });
    const byAddress = new Map(registries.map((r) => [getAddress(r.contractAddress), r]));
    const blockTimes = new Map<number, Date>();
    for (const log of logs) {
      if (!blockTimes.has(log.blockNumber) && iface.parseLog(log)?.name === "CertificateRevoked") {
        const block = await provider.getBlock(log.blockNumber);
        blockTimes.set(log.blockNumber, new Date(Number(block!.timestamp) * 1000));
      }
    }
    await db.transaction(async (tx) => {
      const issued: { registry: Collection; log: Log; args: IssuedArgs }[] = [];
      const revoked: { registry: Collection; log: Log; args: [bigint, bigint] }[] = [];
      for (const log of logs) {
        const registry = byAddress.get(getAddress(log.address));
        const parsed = registry && iface.parseLog(log);
        if (!parsed) continue;
        if (parsed.name === "CertificateIssued") issued.push({ registry: registry!, log, args: [...parsed.args] as unknown as IssuedArgs });
        else if (parsed.name === "CertificateRevoked") revoked.push({ registry: registry!, log, args: [...parsed.args] as unknown as [bigint, bigint] });
      }
      for (let i = 0; i < issued.length; i += 1000) await this.applyIssued(tx, issued.slice(i, i + 1000));
      for (const r of revoked) await this.applyRevoked(tx, r.registry, r.log, r.args, blockTimes.get(r.log.blockNumber));
      await tx
        .insert(indexerCursors)
        .values({ name: this.cursorName, lastBlock: to })
        .onConflictDoUpdate({ target: indexerCursors.name, set: { lastBlock: to, updatedAt: new Date() } });
    });
    return to >= head;
  }

  /** Records a chunk of issue events with a fixed number of queries, whatever its size. */
  private async applyIssued(tx: Tx, events: { registry: Collection; log: Log; args: IssuedArgs }[]): Promise<void> {
    const logger = this.deps.logger;
    const rows = await tx
      .select()
      .from(issuances)
      .where(inArray(issuances.requestId, events.map((e) => e.args[0])));
    const byRequest = new Map(rows.map((r) => [r.requestId, r]));
    const values = [];
    const confirmed = new Map<string, string[]>();
    for (const { registry, log, args } of events) {
      const [requestId, tokenId, holder, uri, digest, validUntil] = args;
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
        owner: getAddress(holder),
        metadataUri: uri,
        digest,
        validUntil: validUntil ? new Date(Number(validUntil) * 1000) : null,
        txHash: log.transactionHash,
        blockNumber: log.blockNumber,
      });
      confirmed.set(log.transactionHash, [...(confirmed.get(log.transactionHash) ?? []), issuance.id]);
    }
    if (values.length) await tx.insert(certificates).values(values).onConflictDoNothing();
    for (const [txHash, ids] of confirmed) {
      await transitionMany(tx, logger, "issuance", ids, ["QUEUED", "PINNED", "SUBMITTED", "FAILED"], "CONFIRMED", { txHash, error: null });
    }
  }

  private async applyRevoked(tx: Tx, registry: Collection, log: Log, args: [bigint, bigint], blockTime?: Date): Promise<void> {
    const logger = this.deps.logger;
    const [tokenId, reason] = args;
    const updated = await tx
      .update(certificates)
      .set({
        status: "REVOKED",
        revocationReason: RevocationReason[Number(reason)] ?? "UNSPECIFIED",
        revokedAt: blockTime ?? new Date(),
        revokedTxHash: log.transactionHash,
      })
      .where(and(eq(certificates.collectionId, registry.id), eq(certificates.tokenId, tokenId.toString())))
      .returning({ id: certificates.id });
    for (const { id } of updated) {
      const pending = await tx
        .select({ id: revocations.id })
        .from(revocations)
        .where(and(eq(revocations.certificateId, id), inArray(revocations.status, ["QUEUED", "SUBMITTED", "FAILED"])));
      await transitionMany(tx, logger, "revocation", pending.map((r) => r.id), ["QUEUED", "SUBMITTED", "FAILED"], "CONFIRMED", {
        txHash: log.transactionHash,
      });
    }
  }
}
