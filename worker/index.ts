import { Queue, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { OPERATIONS_QUEUE, type JobName, type JobPayloads } from "../core/jobs.ts";
import { createLivePublisher } from "../core/live/index.ts";
import { createPipeline } from "../core/operations/context.ts";
import type { WorkerDeps } from "./deps.ts";
import { IssuanceBatcher } from "./batcher.ts";
import { DomainProofRecheck } from "./domain-proof-recheck.ts";
import { EditionsRunner } from "./editions/index.ts";
import { ChainIndexer } from "./indexer.ts";
import { OutboxRelay } from "./outbox-relay.ts";
import { createPinStage } from "./pin-stage.ts";
import { issueCertificate } from "./processors/issue-certificate.ts";
import { revokeCertificate } from "./processors/revoke-certificate.ts";
import { operatorRequest } from "./processors/operator-request.ts";
import { certificateOperation } from "./processors/certificate-operation.ts";
import { OperatorRequestConfirmer } from "./operator-request-confirmer.ts";
import { deployCollection } from "./processors/deploy-collection.ts";
import { CollectionStage } from "./collection-stage.ts";
import { AnchoredBatchStage, anchorBatch, revokeAnchored } from "./anchored-batches.ts";
import { TxMonitor } from "./tx-monitor.ts";
import { ApprovalExpiryStage } from "./approval-expiry.ts";
import { AuditAnchorStage } from "./audit-anchors.ts";
import { WebhookDispatcher } from "./webhook-dispatcher.ts";
import { webhookSettingsOf } from "../core/webhooks/settings.ts";

export type { WorkerDeps } from "./deps.ts";

type Processors = { [N in JobName]: (payload: JobPayloads[N]) => Promise<void> };

function processorsFor(deps: WorkerDeps): Processors {
  const pins = createPinStage(deps);
  return {
    "issue-certificate": (payload) => issueCertificate(deps, pins, payload),
    "revoke-certificate": (payload) => revokeCertificate(deps, payload),
    "registry-operation": (payload) => operatorRequest(deps, payload),
    "certificate-operation": (payload) => certificateOperation(deps, payload),
    "deploy-collection": (payload) => deployCollection(deps, payload),
    "anchor-batch": (payload) => anchorBatch(deps, payload),
    "revoke-anchored": (payload) => revokeAnchored(deps, payload),
  };
}

export interface RunningWorker {
  queue: Queue;
  indexer: ChainIndexer;
  close(): Promise<void>;
}

/** Starts the queue consumer, the outbox relay, the batcher, the transaction monitor, the chain indexer, the collection stage, the anchored-batches stage, the approval expiry, the audit anchors and the webhook dispatcher. */
export async function startWorker(given: WorkerDeps, redisUrl: string): Promise<RunningWorker> {
  const log = given.logger;
  // A node that is briefly unreachable at start (a restart, a network blip) is waited for, not fatal.
  const allSenders = given.adminSender ? [...given.senders, given.adminSender] : given.senders;
  for (const sender of allSenders) {
    for (let attempt = 1; ; attempt++) {
      try {
        await sender.init();
        break;
      } catch (err) {
        log.warn({ err: String(err).slice(0, 300), attempt }, "chain unreachable at start; retrying");
        await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
      }
    }
  }
  // Live status: committed state changes go to Redis pub/sub for the servers' subscriptions; never waited for.
  const liveRedis = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1_000 });
  liveRedis.on("error", (err) => log.debug({ err: String(err) }, "live status redis connection"));
  // Not waited for: until it is up, publishes fail at once with a warning and the pipeline carries on.
  liveRedis.connect().catch((err) => log.warn({ err: String(err) }, "live status: Redis unreachable; retrying in the background"));
  const live = createLivePublisher({ redis: liveRedis, db: given.db, logger: log });
  // Every stage's state changes go through this one pipeline, which tells live status after each commit.
  const deps: WorkerDeps = { ...given, pipeline: createPipeline({ db: given.db, logger: log, live }) };
  // Producers fail fast when Redis is down (no offline queue); the consumer reconnects on its own.
  const processors = processorsFor(deps);
  const queue = new Queue(OPERATIONS_QUEUE, { connection: { url: redisUrl, enableOfflineQueue: false } });
  const worker = new Worker(
    OPERATIONS_QUEUE,
    async (job: Job) => {
      const name = job.name as JobName;
      const processor = processors[name] as ((p: unknown) => Promise<void>) | undefined;
      if (!processor) throw new Error(`no processor for job ${job.name}`);
      await processor(job.data);
    },
    {
      connection: { url: redisUrl, maxRetriesPerRequest: null },
      concurrency: deps.config.workerConcurrency,
      // A job stalls when its worker dies. Processors resume from stored state, so a stalled job is simply
      // run again, however often the crash repeats; the locks are short so that happens within seconds.
      lockDuration: 10_000,
      stalledInterval: 5_000,
      maxStalledCount: 1_000,
    },
  );
  worker.on("failed", (job, err) =>
    log.warn({ jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, "job attempt failed"),
  );
  worker.on("error", (err) => log.warn({ err: err.message }, "worker connection error"));
  // Without a listener an 'error' (Redis gone) would end the process; it reconnects on its own instead.
  queue.on("error", (err) => log.warn({ err: err.message }, "queue connection error"));
  const relay = new OutboxRelay({ db: deps.db, queue, logger: log });
  const indexer = new ChainIndexer(deps);
  const batcher = new IssuanceBatcher(deps, deps.senders);
  const monitor = new TxMonitor(deps, allSenders);
  const operatorRequests = new OperatorRequestConfirmer(deps);
  const collectionStage = new CollectionStage(deps);
  const anchoredStage = new AnchoredBatchStage(deps);
  const webhooks = new WebhookDispatcher({ db: deps.db, logger: log, settings: webhookSettingsOf(deps.config), keyring: deps.custody.keyring() });
  const editionsRunner = new EditionsRunner(deps);
  const domainProofs = new DomainProofRecheck(deps);
  const approvalExpiry = new ApprovalExpiryStage(deps);
  const auditAnchors = new AuditAnchorStage(deps);
  relay.start();
  approvalExpiry.start();
  auditAnchors.start();
  webhooks.start();
  monitor.start();
  batcher.start();
  indexer.start();
  operatorRequests.start();
  collectionStage.start();
  anchoredStage.start();
  editionsRunner.start();
  domainProofs.start();
  return {
    queue,
    indexer,
    async close() {
      await relay.stop();
      await worker.close();
      await batcher.stop();
      await monitor.stop();
      await indexer.stop();
      await operatorRequests.stop();
      await collectionStage.stop();
      await anchoredStage.stop();
      await editionsRunner.stop();
      await domainProofs.stop();
      await approvalExpiry.stop();
      await auditAnchors.stop();
      await webhooks.stop();
      await queue.close();
      await live.settled();
      liveRedis.disconnect();
    },
  };
}
