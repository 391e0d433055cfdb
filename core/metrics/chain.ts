import { count, inArray } from "drizzle-orm";
import type { Registry } from "prom-client";
import { signingKeyStates } from "../chain/signing-keys.ts";
import { chainTxs, indexerCursors } from "../db/schema.ts";
import { collectedGauge } from "./collected-gauge.ts";
import type { MetricSources } from "./sources.ts";

/** Stored transactions not yet mined: signed (not yet broadcast) or sent (waiting for a receipt). */
const IN_FLIGHT = ["SIGNED", "SENT"] as const;

/**
 * The chain as the worker sees it: the head and its age (a permissioned chain makes a block every few seconds,
 * so an old head means the validators stopped or the node fell behind), transactions in flight per signing key,
 * whether each key can pay, and how many blocks each indexer cursor trails the head.
 */
export function registerChainMetrics(registry: Registry, src: Pick<MetricSources, "db" | "provider" | "signers" | "logger" | "timeoutMs" | "health">): void {
  const base = { timeoutMs: src.timeoutMs, logger: src.logger, health: src.health };
  collectedGauge(registry, {
    ...base,
    name: "hallmark_chain_head_block",
    help: "Number of the newest block the chain node reports",
    labelNames: [],
    source: "chain",
    read: async () => [{ labels: {}, value: await src.provider.getBlockNumber() }],
  });
  collectedGauge(registry, {
    ...base,
    name: "hallmark_chain_head_age_seconds",
    help: "Seconds since the newest block's timestamp",
    labelNames: [],
    source: "chain",
    read: async () => {
      const head = await src.provider.getBlock("latest");
      if (!head) return [];
      return [{ labels: {}, value: Math.max(0, Date.now() / 1000 - head.timestamp) }];
    },
  });
  collectedGauge(registry, {
    ...base,
    name: "hallmark_chain_txs_in_flight",
    help: "Stored transactions signed or sent and not yet mined, per signing key",
    labelNames: ["signer"],
    source: "database",
    read: async () => {
      const rows = await src.db
        .select({ signer: chainTxs.signer, n: count() })
        .from(chainTxs)
        .where(inArray(chainTxs.status, [...IN_FLIGHT]))
        .groupBy(chainTxs.signer);
      const bySigner = new Map<string, number>(src.signers.map((s) => [s.toLowerCase(), 0]));
      for (const r of rows) bySigner.set(r.signer.toLowerCase(), Number(r.n));
      return [...bySigner].map(([signer, n]) => ({ labels: { signer }, value: n }));
    },
  });
  collectedGauge(registry, {
    ...base,
    name: "hallmark_signing_key_can_pay",
    help: "1 when the signing key can pay for its transactions, 0 when it is out of rotation for want of funds, as its worker last recorded",
    labelNames: ["signer"],
    source: "database",
    // What the workers recorded (signer_nonces): a worker reports its own keys, an API process every key.
    read: async () => {
      const keys = await signingKeyStates(src.db, src.signers.length ? { addresses: src.signers } : {});
      return keys.map((k) => ({ labels: { signer: k.address.toLowerCase() }, value: k.canPay ? 1 : 0 }));
    },
  });
  collectedGauge(registry, {
    ...base,
    name: "hallmark_indexer_lag_blocks",
    help: "Blocks between the chain head and each indexer cursor",
    labelNames: ["cursor"],
    source: "chain",
    read: async () => {
      const [head, cursors] = await Promise.all([src.provider.getBlockNumber(), src.db.select().from(indexerCursors)]);
      return cursors.map((c) => ({ labels: { cursor: c.name }, value: Math.max(0, head - Number(c.lastBlock)) }));
    },
  });
}
