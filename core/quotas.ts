import { and, eq, sql } from "drizzle-orm";
import type { Database, DbTransaction } from "./db/index.ts";
import { institutionQuotas, quotaUsage } from "./db/schema.ts";
import { OperationError } from "./operations/errors.ts";


/** An institution's limits: issuances per calendar month (UTC), items per request, bytes of certificate content kept on IPFS. */
export interface QuotaLimits {
  issuancesPerMonth: number;
  maxBatchSize: number;
  storageBytes: number;
}
export type QuotaName = keyof QuotaLimits;


/** The calendar month (UTC) an issuance counts against, as `YYYY-MM`. */
export function monthOf(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/** The platform's defaults (QUOTA_* settings, `config.quotas`) with the operator's overrides for this institution laid over them. */
export async function limitsOf(db: Database | DbTransaction, defaults: QuotaLimits, institutionId: string): Promise<QuotaLimits & { overridden: QuotaName[] }> {
  const [row] = await db.select().from(institutionQuotas).where(eq(institutionQuotas.institutionId, institutionId));
  const limits = { ...defaults, overridden: [] as QuotaName[] };
  for (const name of ["issuancesPerMonth", "maxBatchSize", "storageBytes"] as const) {
    const value = row?.[name];
    if (value != null) {
      limits[name] = value;
      limits.overridden.push(name);
    }
  }
  return limits;
}

export interface QuotaUsage {
  issuancesThisMonth: number;
  storageBytes: number;
  month: string;
}

export async function usageOf(db: Database | DbTransaction, institutionId: string, now = new Date()): Promise<QuotaUsage> {
  const month = monthOf(now);
  const rows = await db.select().from(quotaUsage).where(eq(quotaUsage.institutionId, institutionId));
  const find = (metric: string, period: string) => rows.find((r) => r.metric === metric && r.period === period)?.used ?? 0;
  return { issuancesThisMonth: find("issuances", month), storageBytes: find("storage_bytes", "all"), month };
}

export function quotaExceeded(quota: QuotaName, limit: number, used: number, requested: number): OperationError {
  return new OperationError(
    "QUOTA_EXCEEDED",
    `quota ${quota} exceeded: limit ${limit}, used ${used}, this request needs ${requested}`,
    undefined,
    { quota, limit, used, requested },
  );
}

/**
 * Adds `amount` to a usage counter unless that would pass `limit`, in the caller's transaction: one upsert whose
 * update only happens while the sum stays within the limit. The row lock it takes makes concurrent requests wait
 * for each other, and each sees the other's committed sum, so together they can never overshoot.
 */
export async function charge(
  tx: Database | DbTransaction,
  opts: { institutionId: string; quota: QuotaName; metric: "issuances" | "storage_bytes"; period: string; amount: number; limit: number },
): Promise<number> {
  const { institutionId, metric, period, amount, limit } = opts;
  if (amount <= 0) return 0;
  const current = async () =>
    (await tx
      .select({ used: quotaUsage.used })
      .from(quotaUsage)
      .where(and(eq(quotaUsage.institutionId, institutionId), eq(quotaUsage.metric, metric), eq(quotaUsage.period, period))))[0]?.used ?? 0;
  if (amount > limit) throw quotaExceeded(opts.quota, limit, await current(), amount);
  const [row] = await tx
    .insert(quotaUsage)
    .values({ institutionId, metric, period, used: amount })
    .onConflictDoUpdate({
      target: [quotaUsage.institutionId, quotaUsage.metric, quotaUsage.period],
      set: { used: sql`${quotaUsage.used} + excluded.used`, updatedAt: new Date() },
      setWhere: sql`${quotaUsage.used} + excluded.used <= ${limit}`,
    })
    .returning({ used: quotaUsage.used });
  if (!row) throw quotaExceeded(opts.quota, limit, await current(), amount);
  return row.used;
}

/** Gives back an amount {@link charge} reserved for work that then did not happen (or was already counted). */
export async function release(
  tx: Database | DbTransaction,
  opts: { institutionId: string; metric: "issuances" | "storage_bytes"; period: string; amount: number },
): Promise<void> {
  if (opts.amount <= 0) return;
  await tx
    .update(quotaUsage)
    .set({ used: sql`greatest(0, ${quotaUsage.used} - ${opts.amount})`, updatedAt: new Date() })
    .where(and(eq(quotaUsage.institutionId, opts.institutionId), eq(quotaUsage.metric, opts.metric), eq(quotaUsage.period, opts.period)));
}

/** Refuses a request of more items than the institution's batch limit. */
export async function checkBatchSize(db: Database | DbTransaction, defaults: QuotaLimits, institutionId: string, items: number): Promise<void> {
  const { maxBatchSize } = await limitsOf(db, defaults, institutionId);
  if (items > maxBatchSize) throw quotaExceeded("maxBatchSize", maxBatchSize, 0, items);
}

/** Counts newly recorded issuances and their content bytes against this month's and the storage limits. */
export async function chargeIssuances(tx: DbTransaction, defaults: QuotaLimits, institutionId: string, count: number, contentBytes: number, now = new Date()): Promise<void> {
  if (count <= 0) return;
  const limits = await limitsOf(tx, defaults, institutionId);
  await charge(tx, { institutionId, quota: "issuancesPerMonth", metric: "issuances", period: monthOf(now), amount: count, limit: limits.issuancesPerMonth });
  await charge(tx, { institutionId, quota: "storageBytes", metric: "storage_bytes", period: "all", amount: contentBytes, limit: limits.storageBytes });
}
