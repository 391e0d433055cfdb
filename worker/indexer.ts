import { and, eq, inArray, ne, or, sql } from "drizzle-orm";
import { getAddress } from "ethers";
import { registryEvents, type IssuedEvent, type MetadataUpdatedEvent, type RegistryEvent, type ReissuedEvent, type RevocationApprovedEvent, type RevokedEvent, type SuspensionEvent } from "../core/chain/certificate-registry-events.ts";
import { RevocationReason, validUntilSeconds } from "../core/chain/certificate-registry.ts";
import { pgArray } from "../core/db/arrays.ts";
import type { DbTransaction } from "../core/db/index.ts";
import { certificateOperations, certificates, chainTxs, collections, indexerCursors, issuances, revocations, type CertificateOperationKind } from "../core/db/schema.ts";
import type { OperationContext, Pipeline } from "../core/operations/context.ts";
import { transitionMany } from "../core/operations/transitions.ts";
import { isDeployed, type DeployedCollection } from "../core/operations/collections.ts";
import { PollLoop } from "../core/poll-loop.ts";
import { registryCursorName } from "../core/chain/registry-cursor.ts";
import { pipelineOf, type WorkerDeps } from "./deps.ts";

type Collection = DeployedCollection;
/** The indexer's transaction, through which its confirmations are told. */
type TxContext = OperationContext & { db: DbTransaction };

const MAX_RANGE = 2_000;

/**
 * Reads the registries' events from a persisted cursor and records what the chain says: the chain is the
 * authority on what was issued and revoked, and this is the only writer of confirmations.
 */
export class ChainIndexer {
  private readonly deps: WorkerDeps;
  private readonly cursorName: string;
  private readonly loop: PollLoop;
  private readonly pipeline: Pipeline;

  constructor(deps: WorkerDeps) {
    this.deps = deps;
    this.pipeline = pipelineOf(deps);
    this.cursorName = registryCursorName(deps.config.chain.chainId);
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
    // The head is read before the registries: a registry confirmed after this read cannot have issued in a block
    // up to it (nothing is issued into a collection before it is CONFIRMED), so none is left behind the cursor.
    const head = (await provider.getBlockNumber()) - config.chain.confirmations;
    const registries = (
      await db
        .select()
        .from(collections)
        .where(and(eq(collections.chainId, config.chain.chainId), eq(collections.kind, "CERTIFICATE"), eq(collections.status, "CONFIRMED")))
    ).filter(isDeployed);
    if (!registries.length) return true;
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
    await this.pipeline.transaction(async (ctx) => {
      const tx = ctx.db;
      const issued: { registry: Collection; event: IssuedEvent }[] = [];
      // Everything else, in chain order, after the certificates of this range exist.
      const changes: { registry: Collection; event: Exclude<RegistryEvent, IssuedEvent> }[] = [];
      for (const event of events) {
        const registry = byAddress.get(event.address);
        if (!registry) continue;
        if (event.kind === "issued") issued.push({ registry, event });
        else changes.push({ registry, event });
      }
      await this.recordRecoveredIssuances(tx, issued, changes);
      for (let i = 0; i < issued.length; i += 1000) await this.applyIssued(ctx, issued.slice(i, i + 1000));
      for (const { registry, event } of changes) {
        if (event.kind === "revoked") await this.applyRevoked(ctx, registry, event, blockTimes.get(event.blockNumber));
        else if (event.kind === "reissued") await this.applyReissued(ctx, registry, event);
        else if (event.kind === "metadataUpdated") await this.applyMetadataUpdated(ctx, registry, event);
        else if (event.kind === "revocationApproved") await this.checkRevocationApproved(ctx, registry, event);
        else await this.applySuspension(ctx, registry, event);
      }
      if (changes.length) {
        // The operations' histories show their blocks from now on, not from when the monitor reads the receipts.
        const hashes = pgArray(changes.map((c) => c.event.transactionHash));
        const blocks = pgArray(changes.map((c) => String(c.event.blockNumber)));
        await tx.execute(sql`
          update ${chainTxs} set block_number = v.block
          from unnest(${hashes}::text[], ${blocks}::bigint[]) as v(hash, block)
          where ${chainTxs.txHash} = v.hash and ${chainTxs.blockNumber} is null`);
      }
      await tx
        .insert(indexerCursors)
        .values({ name: this.cursorName, lastBlock: to })
        .onConflictDoUpdate({ target: indexerCursors.name, set: { lastBlock: to, updatedAt: new Date() } });
    });
    return to >= head;
  }

  /**
   * Records a chunk of mints with a fixed number of queries, whatever its size, each taking its values as whole
   * arrays (one parameter a column) rather than a parameter per value. A mint names holder and token id; the token
   * id is the document digest, which leads to the issuance, whose document gives validUntil (the value the batcher
   * sent: the contract stores what it is given).
   */
  private async applyIssued(ctx: TxContext, events: { registry: Collection; event: IssuedEvent }[]): Promise<void> {
    const tx = ctx.db;
    const logger = this.deps.logger;
    if (!events.length) return;
    const rows = await tx
      .select({
        id: issuances.id,
        institutionId: issuances.institutionId,
        collectionId: issuances.collectionId,
        digest: issuances.digest,
        validUntil: sql<string | null>`${issuances.document}->>'validUntil'`,
      })
      .from(issuances)
      .where(sql`${issuances.digest} = any(${pgArray(events.map((e) => e.event.digest))}::text[])`);
    const byDigest = new Map(rows.map((r) => [r.digest, r]));
    const columns = { issuanceId: [], institutionId: [], collectionId: [], tokenId: [], owner: [], metadataUri: [], digest: [], validUntil: [], txHash: [], blockNumber: [] } as Record<
      string,
      (string | null)[]
    >;
    const confirmed = new Map<string, string[]>();
    for (const { registry, event } of events) {
      const { tokenId, holder, uri, digest, transactionHash, blockNumber } = event;
      const issuance = byDigest.get(digest);
      // The same document cannot be minted by two registries of Hallmark: it names its collection's contract.
      if (!issuance || issuance.collectionId !== registry.id) {
        logger.warn({ tokenId: tokenId.toString(), contract: registry.contractAddress }, "certificate issued outside Hallmark");
        continue;
      }
      const validUntil = validUntilSeconds(issuance.validUntil);
      columns.issuanceId!.push(issuance.id);
      columns.institutionId!.push(issuance.institutionId);
      columns.collectionId!.push(registry.id);
      columns.tokenId!.push(tokenId.toString());
      columns.owner!.push(holder);
      columns.metadataUri!.push(uri);
      columns.digest!.push(digest);
      columns.validUntil!.push(validUntil ? new Date(Number(validUntil) * 1000).toISOString() : null);
      columns.txHash!.push(transactionHash);
      columns.blockNumber!.push(String(blockNumber));
      confirmed.set(transactionHash, [...(confirmed.get(transactionHash) ?? []), issuance.id]);
    }
    if (columns.issuanceId!.length) {
      const c = (name: string) => pgArray(columns[name]!);
      await tx.execute(sql`
        insert into ${certificates} (issuance_id, institution_id, collection_id, token_id, owner, metadata_uri, digest, valid_until, tx_hash, block_number)
        select * from unnest(${c("issuanceId")}::uuid[], ${c("institutionId")}::uuid[], ${c("collectionId")}::uuid[], ${c("tokenId")}::text[],
          ${c("owner")}::text[], ${c("metadataUri")}::text[], ${c("digest")}::text[], ${c("validUntil")}::timestamptz[], ${c("txHash")}::text[],
          ${c("blockNumber")}::bigint[])
        on conflict do nothing`);
    }
    for (const [txHash, ids] of confirmed) {
      await transitionMany(ctx, "issuance", ids, ["QUEUED", "PINNED", "SUBMITTED", "FAILED"], "CONFIRMED", { txHash, error: null });
    }
  }

  private async applyRevoked(ctx: TxContext, registry: Collection, event: RevokedEvent, blockTime?: Date): Promise<void> {
    const tx = ctx.db;
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
      await transitionMany(ctx, "revocation", pending.map((r) => r.id), ["QUEUED", "SUBMITTED", "FAILED"], "CONFIRMED", {
        txHash: transactionHash,
      });
    }
  }

  /**
   * `RevocationApproved` follows its `CertificateRevoked` in the same transaction: the revocation just confirmed must
   * name the same approvals as the database holds. Nothing changes state here; a difference is logged as an error
   * (the reconciler reports it too), since it means the chain and the approvals record disagree.
   */
  private async checkRevocationApproved(ctx: OperationContext, registry: Collection, event: RevocationApprovedEvent): Promise<void> {
    const [row] = await ctx.db
      .select({ id: revocations.id, approvalsHash: revocations.approvalsHash })
      .from(revocations)
      .innerJoin(certificates, eq(certificates.id, revocations.certificateId))
      .where(and(eq(certificates.collectionId, registry.id), eq(certificates.tokenId, event.tokenId.toString()), eq(revocations.txHash, event.transactionHash)));
    if (row?.approvalsHash?.toLowerCase() === event.approvalsHash.toLowerCase()) return;
    ctx.logger.error(
      { revocationId: row?.id, tokenId: event.tokenId.toString(), onChain: event.approvalsHash, recorded: row?.approvalsHash ?? null },
      "revocation approvals on chain differ from the database's",
    );
  }

  /**
   * A recovery's new certificate is minted by reissue() with the digest of the recovery's document (which names the
   * recovery's request id): its issuance row (the record every certificate has) is written here, CONFIRMED, from
   * the operation, so `applyIssued` records the certificate like any other. Only mints of transactions that also
   * reissued are looked at.
   */
  private async recordRecoveredIssuances(
    tx: DbTransaction,
    issued: { registry: Collection; event: IssuedEvent }[],
    changes: { registry: Collection; event: Exclude<RegistryEvent, IssuedEvent> }[],
  ): Promise<void> {
    const reissueTxs = new Set(changes.filter((c) => c.event.kind === "reissued").map((c) => c.event.transactionHash));
    if (!reissueTxs.size) return;
    const candidates = issued.filter((i) => reissueTxs.has(i.event.transactionHash));
    if (!candidates.length) return;
    // Found through the certificates they replace (indexed), then told apart by the new document's digest.
    const previous = changes.flatMap((c) => (c.event.kind === "reissued" ? [c.event.previousTokenId.toString()] : []));
    const ops = (
      await tx
        .select({ op: certificateOperations })
        .from(certificateOperations)
        .innerJoin(certificates, eq(certificates.id, certificateOperations.certificateId))
        .where(and(eq(certificateOperations.kind, "RECOVER"), inArray(certificates.tokenId, previous)))
    ).map((r) => r.op);
    const byDigest = new Map(ops.map((o) => [o.digest, o]));
    const values = candidates.flatMap(({ registry, event }) => {
      const op = byDigest.get(event.digest);
      if (!op?.newIssuanceId || !op.requestId) return [];
      return [
        {
          id: op.newIssuanceId,
          institutionId: op.institutionId,
          collectionId: registry.id,
          idempotencyKey: `recover:${op.id}`,
          requestHash: op.requestHash,
          requestId: op.requestId,
          recipient: event.holder,
          document: op.fields ?? {},
          status: "CONFIRMED" as const,
          metadataCid: op.metadataCid,
          digest: event.digest,
          chainTxId: op.chainTxId,
          txHash: event.transactionHash,
          createdAt: op.createdAt,
        },
      ];
    });
    if (values.length) await tx.insert(issuances).values(values).onConflictDoNothing();
  }

  /** The previous certificate is SUPERSEDED (unless revoked) and linked both ways with its successor. */
  private async applyReissued(ctx: TxContext, registry: Collection, event: ReissuedEvent): Promise<void> {
    const tx = ctx.db;
    const { previousTokenId, tokenId, transactionHash } = event;
    const [previous] = await tx
      .select()
      .from(certificates)
      .where(and(eq(certificates.collectionId, registry.id), eq(certificates.tokenId, previousTokenId.toString())));
    const [next] = await tx
      .select()
      .from(certificates)
      .where(and(eq(certificates.collectionId, registry.id), eq(certificates.tokenId, tokenId.toString())));
    if (!previous || !next) {
      this.deps.logger.warn({ previousTokenId: previousTokenId.toString(), tokenId: tokenId.toString(), contract: registry.contractAddress }, "certificate reissued outside Hallmark");
      return;
    }
    await tx.update(certificates).set({ supersededById: next.id }).where(eq(certificates.id, previous.id));
    await tx.update(certificates).set({ status: "SUPERSEDED" }).where(and(eq(certificates.id, previous.id), ne(certificates.status, "REVOKED")));
    await tx.update(certificates).set({ replacesId: previous.id }).where(eq(certificates.id, next.id));
    const pending = await this.pendingOperations(tx, previous.id, "RECOVER", transactionHash);
    const mine = pending.filter((o) => o.newIssuanceId === next.issuanceId).map((o) => o.id);
    if (mine.length) await tx.update(certificateOperations).set({ resultCertificateId: next.id }).where(inArray(certificateOperations.id, mine));
    await transitionMany(ctx, "certificateOperation", mine, ["QUEUED", "PINNED", "SUBMITTED", "FAILED"], "CONFIRMED", { txHash: transactionHash, error: null });
  }

  /** The certificate's document is the corrected one; earlier ones stay listed by the operations that replaced them. */
  private async applyMetadataUpdated(ctx: TxContext, registry: Collection, event: MetadataUpdatedEvent): Promise<void> {
    const tx = ctx.db;
    const { tokenId, uri, digest, transactionHash } = event;
    const updated = await tx
      .update(certificates)
      .set({ metadataUri: uri, digest })
      .where(and(eq(certificates.collectionId, registry.id), eq(certificates.tokenId, tokenId.toString())))
      .returning({ id: certificates.id });
    for (const { id } of updated) {
      const pending = await this.pendingOperations(tx, id, "CORRECT_METADATA", transactionHash);
      const mine = pending.filter((o) => o.digest === digest && `ipfs://${o.metadataCid}` === uri).map((o) => o.id);
      await transitionMany(ctx, "certificateOperation", mine, ["QUEUED", "PINNED", "SUBMITTED", "FAILED"], "CONFIRMED", { txHash: transactionHash, error: null });
    }
  }

  /** SUSPENDED while it would otherwise be VALID; back to VALID when reinstated. Revoked or superseded stays so. */
  private async applySuspension(ctx: TxContext, registry: Collection, event: SuspensionEvent): Promise<void> {
    const tx = ctx.db;
    const suspended = event.kind === "suspended";
    const where = and(eq(certificates.collectionId, registry.id), eq(certificates.tokenId, event.tokenId.toString()));
    const [certificate] = await tx.select({ id: certificates.id }).from(certificates).where(where);
    if (!certificate) return;
    await tx
      .update(certificates)
      .set({ status: suspended ? "SUSPENDED" : "VALID" })
      .where(and(where, eq(certificates.status, suspended ? "VALID" : "SUSPENDED")));
    const pending = await this.pendingOperations(tx, certificate.id, suspended ? "SUSPEND" : "UNSUSPEND", event.transactionHash);
    await transitionMany(ctx, "certificateOperation", pending.map((o) => o.id), ["QUEUED", "SUBMITTED", "FAILED"], "CONFIRMED", {
      txHash: event.transactionHash,
      error: null,
    });
  }

  /** The operation of this kind under way on the certificate, or one that failed although its transaction did it. */
  private pendingOperations(tx: DbTransaction, certificateId: string, kind: CertificateOperationKind, txHash: string) {
    return tx
      .select()
      .from(certificateOperations)
      .where(
        and(
          eq(certificateOperations.certificateId, certificateId),
          eq(certificateOperations.kind, kind),
          or(
            inArray(certificateOperations.status, ["QUEUED", "PINNED", "SUBMITTED"]),
            and(eq(certificateOperations.status, "FAILED"), eq(certificateOperations.txHash, txHash)),
          ),
        ),
      );
  }
}
