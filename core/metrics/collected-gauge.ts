import { Gauge, type Registry } from "prom-client";
import { withDeadline } from "../deadline.ts";
import type { Logger } from "../logger.ts";

/** One series of a gauge: its labels and value. */
export interface Sample<L extends string> {
  labels: Record<L, string>;
  value: number;
}

/**
 * Whether each source (database, queue, chain) answered this scrape's reads: `hallmark_metrics_source_up`.
 * The gauges' reads are handed in as they start; the gauge itself, registered after every other, waits for them.
 */
export class SourceHealth {
  readonly #reads: { source: string; ok: Promise<boolean> }[] = [];

  track(source: string, ok: Promise<boolean>): void {
    this.#reads.push({ source, ok });
  }

  /** Call once every gauge is registered: a registry collects its metrics in the order they were registered. */
  register(registry: Registry): void {
    const reads = this.#reads;
    new Gauge({
      name: "hallmark_metrics_source_up",
      help: "1 when every read of the source (database, queue, chain) answered this scrape in time, else 0",
      labelNames: ["source"],
      registers: [registry],
      async collect() {
        const batch = reads.splice(0);
        const results = await Promise.all(batch.map(async (r) => [r.source, await r.ok] as const));
        const up = new Map<string, boolean>();
        for (const [source, ok] of results) up.set(source, (up.get(source) ?? true) && ok);
        this.reset();
        for (const [source, ok] of up) this.set({ source }, ok ? 1 : 0);
      },
    });
  }
}

/**
 * A gauge read afresh on every scrape. A source that fails or is slow leaves the gauge without series (NaN for a
 * gauge without labels) for that scrape (and its `hallmark_metrics_source_up` at 0) rather than failing the whole scrape or repeating a stale
 * value, so one unreachable dependency does not hide every other metric.
 */
export function collectedGauge<L extends string>(
  registry: Registry,
  opts: {
    name: string;
    help: string;
    labelNames: readonly L[];
    source: string;
    health: SourceHealth;
    timeoutMs: number;
    logger: Logger;
    read: () => Promise<Sample<L>[]>;
  },
): void {
  new Gauge<L>({
    name: opts.name,
    help: opts.help,
    labelNames: opts.labelNames,
    registers: [registry],
    async collect() {
      const read = withDeadline(opts.read(), opts.timeoutMs, `${opts.name} from ${opts.source}`);
      opts.health.track(
        opts.source,
        read.then(
          () => true,
          () => false,
        ),
      );
      this.reset();
      try {
        for (const s of await read) this.set(s.labels, s.value);
      } catch (err) {
        // A gauge without labels always has its one series: NaN says "unknown" where 0 would look like an answer.
        if (opts.labelNames.length === 0) (this as Gauge<string>).set(Number.NaN);
        opts.logger.debug({ err: String(err), metric: opts.name }, "metric source unavailable");
      }
    },
  });
}
