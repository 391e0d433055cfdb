import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { eq, inArray } from "drizzle-orm";
import { Wallet, type Contract } from "ethers";
import { pino, type Logger } from "pino";
import { deployCertificateRegistry } from "../../core/chain/deploy.ts";
import { certificateRegistryAt } from "../../core/chain/certificate-registry.ts";
import { TxSender } from "../../core/chain/tx-sender.ts";
import { loadConfig, type Config } from "../../core/config.ts";
import { openCustody } from "../../core/custody/custody-secret.ts";
import { openDatabase, type Database, type DatabaseHandle } from "../../core/db/index.ts";
import { certificates, collections, institutions, issuances } from "../../core/db/schema.ts";
import type { DeployedCollection } from "../../core/operations/collections.ts";
import { openEmbeddedIpfs, type IpfsStore } from "../../core/ipfs/index.ts";
import { OPERATIONS_QUEUE } from "../../core/jobs.ts";
import { requestIssuanceBatch, type IssueCertificateInput, type Issuance } from "../../core/operations/issue.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { startEmbeddedRedis } from "../../scripts/dev/redis.ts";
import { IssuanceBatcher } from "../../worker/batcher.ts";
import type { WorkerDeps } from "../../worker/deps.ts";
import { ChainIndexer } from "../../worker/indexer.ts";
import { createPinStage } from "../../worker/pin-stage.ts";
import { issueCertificate } from "../../worker/processors/issue-certificate.ts";
import { TxMonitor } from "../../worker/tx-monitor.ts";
import { startTestChain, type TestChain } from "./test-chain.ts";

type Collection = DeployedCollection;
type Certificate = typeof certificates.$inferSelect;

/** One line the stages logged, as pino wrote it. */
export interface LogLine {
  msg: string;
  [field: string]: unknown;
}

/**
 * One worker stage's world, without the rest of the worker: a migrated PGlite database, an EDR chain with a
 * certificate registry deployed for an institution, the embedded IPFS store, optionally Redis with the operations
 * queue, and `deps` built as the dev stack builds them. Nothing runs on its own: a test drives each stage by hand.
 */
export interface StageFixture {
  config: Config;
  db: Database;
  ipfs: IpfsStore;
  chain: TestChain;
  deps: WorkerDeps;
  /** The key the worker signs with (the registry's issuer). */
  sender: TxSender;
  institutionId: string;
  collection: Collection;
  /** The registry, read through the chain. */
  registry: Contract;
  /** Present when started with `redis: true`: the operations queue on a Redis of this fixture's own. */
  queue?: Queue;
  redisUrl?: string;
  /** Every line the stages logged at info and above, parsed (kept in memory, not printed). */
  logs: LogLine[];
  /** How many operations of `kind` were logged as moving to `to` (one line each move: `issuance CONFIRMED`). */
  moves(kind: string, to: string, id?: string): number;
  /** Issuances recorded as the API records them (request + outbox row, one transaction), QUEUED. */
  requestIssuances(count: number, opts?: { prefix?: string; recipient?: (i: number) => string }): Promise<Issuance[]>;
  /** QUEUED → PINNED through the issue processor, as the queue's jobs would. */
  pin(ids: readonly string[]): Promise<void>;
  issuancesByIds(ids: readonly string[]): Promise<Issuance[]>;
  /** Certificates as the whole pipeline leaves them: requested, pinned, mined and indexed (VALID). */
  certify(count: number, prefix: string): Promise<Certificate[]>;
  /**
   * PINNED → SUBMITTED through the batcher, and on to a mined transaction through the transaction monitor: what the
   * indexer then finds on chain. Fails, naming what is left, when they do not all get there.
   */
  mine(ids: readonly string[]): Promise<void>;
  /** Stops everything it started; safe to call after a failed start or twice. */
  close(): Promise<void>;
}

export interface StageFixtureOptions {
  /** Settings read as the environment would give them, over NODE_ENV=test, a batch window of 0 and a data folder of the fixture's own. */
  env?: Record<string, string>;
  redis?: boolean;
}

/** A fresh address without code: a holder the registry accepts. */
export function holderFor(): string {
  return Wallet.createRandom().address;
}

export async function startStageFixture(opts: StageFixtureOptions = {}): Promise<StageFixture> {
  const stoppers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    // Last started, first stopped; one failing stop never leaves the others running.
    for (const stop of stoppers.splice(0).reverse()) await stop().catch(() => {});
  };
  try {
    const dir = await mkdtemp(join(tmpdir(), "hallmark-stage-"));
    stoppers.push(() => rm(dir, { recursive: true, force: true }));
    const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "info", HALLMARK_DATA_DIR: dir, BATCH_WINDOW_MS: "0", ...opts.env });

    const logs: LogLine[] = [];
    const logger: Logger = pino({ level: "info", base: { service: "hallmark" } }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });

    const chain = await startTestChain();
    stoppers.push(() => chain.close());
    const handle = await openMigratedDatabase(join(dir, "db"));
    stoppers.push(() => handle.close());
    const db = handle.db;
    const ipfs = await openEmbeddedIpfs(join(dir, "ipfs"));
    stoppers.push(() => ipfs.close());

    const deployer = chain.wallet(DEV_KEYS.deployer);
    const minter = chain.wallet(DEV_KEYS.minter);
    const [institution] = await db.insert(institutions).values({ name: "Stage University", slug: `stage-${randomUUID().slice(0, 8)}` }).returning();
    const deployment = await deployCertificateRegistry(deployer, { name: "Stage Diplomas", symbol: "STG", admin: deployer.address, issuers: [minter.address] });
    const [collection] = await db
      .insert(collections)
      .values({
        institutionId: institution!.id,
        name: "Stage Diplomas",
        symbol: "STG",
        chainId: config.chain.chainId,
        contractAddress: deployment.address,
        deployTxHash: deployment.txHash,
        deployBlock: deployment.blockNumber,
      })
      .returning();

    const sender = new TxSender({ db, provider: chain.provider, wallet: minter, chainId: config.chain.chainId, logger, maxInFlight: config.chain.maxInFlightPerKey });
    await sender.init();
    const custody = openCustody(config);
    const deps: WorkerDeps = { config, db, ipfs, provider: chain.provider, senders: [sender], logger, custody };

    let queue: Queue | undefined;
    let redisUrl: string | undefined;
    if (opts.redis) {
      const redis = await startEmbeddedRedis(join(dir, "redis"));
      stoppers.push(() => redis.stop());
      redisUrl = redis.url;
      queue = new Queue(OPERATIONS_QUEUE, { connection: { url: redisUrl, enableOfflineQueue: false } });
      stoppers.push(() => queue!.close());
    }

    const pins = createPinStage(deps);
    let requested = 0;
    const fixture: StageFixture = {
      config,
      db,
      ipfs,
      chain,
      deps,
      sender,
      institutionId: institution!.id,
      collection: collection! as DeployedCollection,
      registry: certificateRegistryAt(collection!.contractAddress!, chain.provider),
      queue,
      redisUrl,
      logs,
      moves: (kind, to, id) => logs.filter((l) => l.msg === `${kind} ${to}` && (id === undefined || l[`${kind}Id`] === id)).length,
      async requestIssuances(count, { prefix = "stage", recipient = holderFor } = {}) {
        const items: Omit<IssueCertificateInput, "collectionId">[] = Array.from({ length: count }, (_, i) => ({
          idempotencyKey: `${prefix}-${requested + i}`,
          recipient: recipient(i),
          title: `Certificate ${requested + i}`,
        }));
        requested += count;
        const results = await requestIssuanceBatch({ db, custody, quotas: config.quotas }, institution!.id, collection!.id, items);
        const failed = results.find((r) => r.error);
        if (failed) throw failed.error;
        return results.map((r) => r.issuance!);
      },
      async pin(ids) {
        await Promise.all(ids.map((issuanceId) => issueCertificate(deps, pins, { issuanceId })));
      },
      async mine(ids) {
        const batcher = new IssuanceBatcher(deps, [sender]);
        const monitor = new TxMonitor(deps, [sender]);
        try {
          for (let round = 0; ; round++) {
            const rows = await db.select({ id: issuances.id, status: issuances.status, chainTxId: issuances.chainTxId }).from(issuances).where(inArray(issuances.id, [...ids]));
            const waiting = rows.filter((r) => r.status === "PINNED");
            if (!waiting.length) break;
            if (round === 50) throw new Error(`the batcher left ${waiting.length} issuances PINNED: ${waiting.map((r) => r.id).join(", ")}`);
            await batcher.tick();
          }
        } finally {
          await batcher.stop();
        }
        for (let round = 0; (await sender.inFlightCount()) > 0; round++) {
          if (round === 50) throw new Error(`${await sender.inFlightCount()} transactions still in flight`);
          await monitor.tick();
        }
      },
      async certify(count, prefix) {
        const requested = await fixture.requestIssuances(count, { prefix });
        const ids = requested.map((i) => i.id);
        await fixture.pin(ids);
        await fixture.mine(ids);
        const indexer = new ChainIndexer(deps);
        for (let round = 0; !(await indexer.tick()); round++) {
          if (round === 20) throw new Error("the indexer did not reach the head in 20 ticks");
        }
        const rows = await db.select().from(certificates).where(inArray(certificates.issuanceId, ids));
        if (rows.length !== count) throw new Error(`${rows.length} of ${count} certificates recorded`);
        return rows;
      },
      async issuancesByIds(ids) {
        if (!ids.length) return [];
        const rows = await db.select().from(issuances).where(inArray(issuances.id, [...ids]));
        const byId = new Map(rows.map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id)!);
      },
      close,
    };
    return fixture;
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * A database with every migration applied, copied from a template migrated once per set of migrations: PGlite's
 * initdb and the migrations cost several seconds, a copy of their result a fraction of that. Opening the copy still
 * runs the migrator, which finds nothing to do.
 */
export async function openMigratedDatabase(dir: string): Promise<DatabaseHandle> {
  const migrations = fileURLToPath(new URL("../../core/db/migrations", import.meta.url));
  const hash = createHash("sha256");
  for (const entry of (await readdir(migrations, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())) {
    const path = join(entry.parentPath, entry.name);
    hash.update(path.slice(migrations.length)).update(await readFile(path));
  }
  const template = join(tmpdir(), `hallmark-stage-db-${hash.digest("hex").slice(0, 16)}`);
  if (!existsSync(template)) {
    const building = await mkdtemp(`${template}-building-`);
    await (await openDatabase({ dir: building })).close();
    // Renamed whole, so a template that exists is complete; another test file may have got there first.
    await rename(building, template).catch(() => rm(building, { recursive: true, force: true }));
  }
  await cp(template, dir, { recursive: true });
  return openDatabase({ dir });
}

/** The issuance's row, fresh. */
export async function issuanceById(db: Database, id: string): Promise<Issuance> {
  const [row] = await db.select().from(issuances).where(eq(issuances.id, id));
  return row!;
}

/** `promise`, or a failure saying what was being waited for once `ms` have passed. */
export async function within<T>(promise: Promise<T>, ms: number, waitingFor: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up after ${ms} ms waiting for ${waitingFor}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
