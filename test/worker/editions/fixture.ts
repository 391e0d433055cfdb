import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, eq, isNull, sql } from "drizzle-orm";
import { Contract, Wallet } from "ethers";
import { SenderRotation } from "../../../core/chain/sender-rotation.ts";
import { TxSender } from "../../../core/chain/tx-sender.ts";
import { loadConfig } from "../../../core/config.ts";
import { openCustody } from "../../../core/custody/custody-secret.ts";
import type { Database, DatabaseHandle } from "../../../core/db/index.ts";
import { openMigratedDatabase } from "../../support/stage-fixture.ts";
import { claimCodes, editionContracts, editionOperations, editions, institutions } from "../../../core/db/schema.ts";
import { collectibleEditionsInterface } from "../../../core/editions/abi.ts";
import { buildEditionMetadata } from "../../../core/editions/metadata.ts";
import { voucherCodeOf, type EditionOperationRow, type EditionRow } from "../../../core/editions/operations.ts";
import type { TransferPolicy } from "../../../core/editions/transfer-policy.ts";
import { openEmbeddedIpfs, type IpfsStore } from "../../../core/ipfs/index.ts";
import type { StateChange } from "../../../core/live/events.ts";
import { createLogger } from "../../../core/logger.ts";
import { createPipeline, type Pipeline } from "../../../core/operations/context.ts";
import { DEV_KEYS } from "../../../scripts/dev/chain.ts";
import type { WorkerDeps } from "../../../worker/deps.ts";
import { createPinnedEditions } from "../../../worker/editions/create.ts";
import { EditionContracts } from "../../../worker/editions/deploy-contract.ts";
import { editionsCursorName, indexEditionEvents } from "../../../worker/editions/indexer.ts";
import { pinQueuedEditions } from "../../../worker/editions/pin.ts";
import { TxMonitor } from "../../../worker/tx-monitor.ts";
import { ACCOUNT_2_KEY, ACCOUNT_3_KEY, startTestChain, type TestChain } from "../../support/test-chain.ts";

/**
 * The editions stages' world without the HTTP stack or the worker's loop: an in-process chain, a PGlite database, an
 * IPFS blockstore, one signing key, and the dev deployer for editions contracts. Stages are called directly with
 * `deps`; the pipeline tells its live notices to `changes`. The chain mines each transaction as it arrives; the
 * transaction monitor, ticked by `settle`, records their outcomes (a key has only so many transactions in flight).
 */
export interface EditionsFixture {
  chain: TestChain;
  db: Database;
  ipfs: IpfsStore;
  deps: WorkerDeps & { pipeline: Pipeline };
  rotation: SenderRotation;
  contracts: EditionContracts;
  sender: TxSender;
  /** Records the outcome of each sent transaction (the worker runs it beside the stages). */
  monitor: TxMonitor;
  /** The contracts' admin (DEV_KEYS.deployer). */
  deployer: Wallet;
  /** A funded key that is neither admin nor issuer: a holder who claims on chain. */
  outsider: Wallet;
  institutionId: string;
  /** Live notices told after commit, in order. */
  changes: StateChange[];
  /** The editions indexer's cursor. */
  cursor: string;
  close(): Promise<void>;
}

export async function startEditionsFixture(opts: { txGasCap?: number } = {}): Promise<EditionsFixture> {
  const chain = await startTestChain();
  const dir = await mkdtemp(join(tmpdir(), "hallmark-editions-stages-"));
  let handle: DatabaseHandle | undefined;
  let ipfs: IpfsStore | undefined;
  try {
    handle = await openMigratedDatabase(join(dir, "db"));
    ipfs = await openEmbeddedIpfs(join(dir, "ipfs"));
    // Editions contracts' voucher keys are stored sealed.
    const custody = openCustody({ custodySecret: "editions stage tests", dataDir: dir });
    const db = handle.db;
    const logger = createLogger("silent");
    const base = loadConfig({});
    // A public URL, so that editions contracts are created naming their ERC-7572 document.
    const config = { ...base, publicUrl: "https://hallmark.example", chain: { ...base.chain, chainId: 31337, confirmations: 0, txGasCap: opts.txGasCap ?? base.chain.txGasCap } };
    const sender = new TxSender({ db, provider: chain.provider, wallet: chain.wallet(ACCOUNT_3_KEY), chainId: 31337, logger });
    await sender.init();
    const changes: StateChange[] = [];
    const pipeline = createPipeline({ db, logger, live: { stateChanged: (change) => void changes.push(change) } });
    const deployer = chain.wallet(DEV_KEYS.deployer);
    const deps = { config, db, ipfs, provider: chain.provider, senders: [sender], logger, deployer, pipeline, custody };
    const [institution] = await db.insert(institutions).values({ name: "Stage Museum", slug: `stage-${randomUUID().slice(0, 8)}` }).returning();
    const openedHandle = handle;
    const openedIpfs = ipfs;
    return {
      chain,
      db,
      ipfs,
      deps,
      rotation: new SenderRotation([sender]),
      contracts: new EditionContracts(deps),
      sender,
      monitor: new TxMonitor(deps, [sender]),
      deployer,
      outsider: chain.wallet(ACCOUNT_2_KEY),
      institutionId: institution!.id,
      changes,
      cursor: editionsCursorName(31337),
      async close() {
        await openedIpfs.close();
        await openedHandle.close();
        await chain.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await ipfs?.close().catch(() => {});
    await handle?.close().catch(() => {});
    await chain.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Records an edition as `requestCreateEdition` leaves it: QUEUED, with its metadata document's bytes. */
export async function queueEdition(
  f: EditionsFixture,
  opts: { name?: string; maxSupply?: number; transferPolicy?: TransferPolicy; lockupSeconds?: number; maxGifts?: number; institutionId?: string } = {},
): Promise<EditionRow> {
  const name = opts.name ?? `Edition ${randomUUID().slice(0, 8)}`;
  const image = await f.ipfs.add(new TextEncoder().encode(`an image of ${name}`));
  const { bytes } = buildEditionMetadata({ name, description: "A keepsake.", images: [{ cid: image, label: "The keepsake" }] });
  const [row] = await f.db
    .insert(editions)
    .values({
      institutionId: opts.institutionId ?? f.institutionId,
      idempotencyKey: randomUUID(),
      requestHash: "stage-test",
      name,
      metadataJson: new TextDecoder().decode(bytes),
      maxSupply: opts.maxSupply ?? 1_000,
      transferPolicy: opts.transferPolicy ?? "LOCKED",
      lockupSeconds: opts.lockupSeconds ?? 0,
      maxGifts: opts.maxGifts ?? 0,
    })
    .returning();
  return row!;
}

/** An edition carried to CONFIRMED by the pin, create and indexer stages. */
export async function confirmedEdition(f: EditionsFixture, opts: Parameters<typeof queueEdition>[1] = {}): Promise<EditionRow & { contractAddress: string }> {
  const queued = await queueEdition(f, opts);
  await pinQueuedEditions(f.deps);
  await createEditions(f);
  await settle(f);
  const edition = await editionRow(f, queued.id);
  if (edition.status !== "CONFIRMED") throw new Error(`edition ${edition.id} is ${edition.status} (${edition.error})`);
  const [contract] = await f.db.select().from(editionContracts).where(eq(editionContracts.id, edition.contractId!));
  return { ...edition, contractAddress: contract!.contractAddress };
}

/**
 * The create stage, with the monitor between its ticks, until no edition is left PINNED: an institution's first
 * edition waits there while the stage's creation of its contract is mined, then is sent like any other.
 */
export async function createEditions(f: EditionsFixture): Promise<void> {
  for (let round = 0; round < 10; round++) {
    await createPinnedEditions(f.deps, f.rotation, f.contracts);
    const waiting = await f.db.select({ id: editions.id }).from(editions).where(and(eq(editions.status, "PINNED"), isNull(editions.chainTxId)));
    if (!waiting.length) return;
    await f.monitor.tick();
  }
  throw new Error("editions still PINNED after 10 rounds of the create stage");
}

/** Records an airdrop (or a redeemed claim) as the API does: the operation QUEUED, its items reserved. */
export async function queueAirdrop(
  f: EditionsFixture,
  edition: EditionRow,
  holders: string[],
  opts: { kind?: "AIRDROP" | "CLAIM"; claimCodeId?: string } = {},
): Promise<EditionOperationRow> {
  const [op] = await f.db
    .insert(editionOperations)
    .values({
      institutionId: edition.institutionId,
      editionId: edition.id,
      kind: opts.kind ?? "AIRDROP",
      idempotencyKey: randomUUID(),
      requestHash: "stage-test",
      holders,
      total: holders.length,
      claimCodeId: opts.claimCodeId,
    })
    .returning();
  await f.db.update(editions).set({ reserved: sql`${editions.reserved} + ${holders.length}` }).where(eq(editions.id, edition.id));
  return op!;
}

/** A claim code of the edition as `requestClaimCodes` stores it (hash and voucher), good for an hour. */
export async function issueClaimCode(f: EditionsFixture, edition: EditionRow): Promise<{ code: string; claim: typeof claimCodes.$inferSelect }> {
  const code = `hm-claim-${randomUUID()}`;
  const [claim] = await f.db
    .insert(claimCodes)
    .values({ institutionId: f.institutionId, editionId: edition.id, codeHash: randomUUID(), voucherCode: voucherCodeOf(code), requestKey: randomUUID(), expiresAt: new Date(Date.now() + 3_600_000) })
    .returning();
  return { code, claim: claim! };
}

/** What the worker's other loops do meanwhile: the monitor records the transactions' outcomes, the indexer reads the events. */
export async function settle(f: EditionsFixture): Promise<void> {
  await f.monitor.tick();
  await indexToHead(f);
}

export async function indexToHead(f: EditionsFixture): Promise<void> {
  while (!(await indexEditionEvents(f.deps, f.cursor)));
}

export async function editionRow(f: EditionsFixture, id: string): Promise<EditionRow> {
  return (await f.db.select().from(editions).where(eq(editions.id, id)))[0]!;
}

export async function operationRow(f: EditionsFixture, id: string): Promise<EditionOperationRow> {
  return (await f.db.select().from(editionOperations).where(eq(editionOperations.id, id)))[0]!;
}

/** The editions contract as its admin (the deployer) sees it. */
export function asAdmin(f: EditionsFixture, address: string): Contract {
  return new Contract(address, collectibleEditionsInterface(), f.deployer);
}

/** Distinct, stable holder addresses. */
export function holders(count: number, seed = "holder"): string[] {
  return Array.from({ length: count }, (_, i) => new Wallet(`0x${Buffer.from(`${seed}-${i}`.padEnd(32, "#").slice(0, 32)).toString("hex")}`).address);
}

/** The live notices told for one row, as `status` strings in order. */
export function toldFor(f: EditionsFixture, id: string): string[] {
  return f.changes.filter((c) => c.rows.some((r) => r.id === id)).map((c) => c.status);
}
