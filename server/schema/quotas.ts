import { eq } from "drizzle-orm";
import { isId } from "../../core/db/ids.ts";
import { institutionQuotas, institutions } from "../../core/db/schema.ts";
import { OperationError } from "../../core/operations/errors.ts";
import { limitsOf, usageOf, type QuotaName } from "../../core/quotas.ts";
import { idempotent } from "../../core/operations/idempotency.ts";
import { builder } from "../builder.ts";
import { keyScope, type Context } from "../context.ts";
import { IdempotencyConflictError, NotFoundError, withOperationErrors } from "../errors.ts";
import { InstitutionRef } from "./institution.ts";

interface QuotaView {
  institutionId: string;
  month: string;
  issuancesThisMonth: number;
  limit: number;
  maxBatchSize: number;
  storageBytes: number;
  storageBytesLimit: number;
  overridden: QuotaName[];
}

export async function quotaOf(ctx: Context, institutionId: string): Promise<QuotaView> {
  const [limits, usage] = await Promise.all([limitsOf(ctx.db, ctx.quotas, institutionId), usageOf(ctx.db, institutionId)]);
  return {
    institutionId,
    month: usage.month,
    issuancesThisMonth: usage.issuancesThisMonth,
    limit: limits.issuancesPerMonth,
    maxBatchSize: limits.maxBatchSize,
    storageBytes: usage.storageBytes,
    storageBytesLimit: limits.storageBytes,
    overridden: limits.overridden,
  };
}

const QuotaNameEnum = builder.enumType("QuotaName", {
  description: "One of an institution's limits.",
  values: {
    issuancesPerMonth: { value: "issuancesPerMonth", description: "Issuances accepted per calendar month (UTC)." },
    maxBatchSize: { value: "maxBatchSize", description: "Items in one issueCertificates request." },
    storageBytes: { value: "storageBytes", description: "Bytes of certificate content accepted for IPFS, for all time." },
  },
});

export const QuotaRef = builder.objectRef<QuotaView>("Quota").implement({
  // Institution data: a key of the institution reads it only with READ, wherever it is reached from.
  authScopes: { readData: true },
  description:
    "An institution's limits and what it has used. A request that would pass a limit fails with QUOTA_EXCEEDED, its `extensions` carrying `quota`, `limit`, `used` and `requested`; nothing of it is recorded.",
  fields: (t) => ({
    month: t.exposeString("month", { description: "The calendar month (UTC) counted, as YYYY-MM." }),
    issuancesThisMonth: t.exposeInt("issuancesThisMonth", { description: "Issuances accepted this month (failed ones included; retries of an idempotency key not)." }),
    limit: t.exposeInt("limit", { description: "Issuances allowed per calendar month." }),
    remainingThisMonth: t.int({ description: "Issuances still allowed this month.", resolve: (q) => Math.max(0, q.limit - q.issuancesThisMonth) }),
    maxBatchSize: t.exposeInt("maxBatchSize", { description: "Most items one issueCertificates request may hold." }),
    storageBytes: t.exposeFloat("storageBytes", { description: "Bytes of certificate content accepted for pinning to IPFS, all time." }),
    storageBytesLimit: t.exposeFloat("storageBytesLimit", { description: "Bytes of certificate content allowed, all time." }),
    overridden: t.field({
      type: [QuotaNameEnum],
      description: "The limits the operator set for this institution; the others are the platform defaults.",
      resolve: (q) => q.overridden,
    }),
  }),
});

builder.queryField("quota", (t) =>
  t.field({
    type: QuotaRef,
    description: "The caller's institution's limits and usage.",
    authScopes: { scope: "read" },
    resolve: (_root, _args, ctx) => quotaOf(ctx, ctx.caller!.institutionId),
  }),
);

builder.objectField(InstitutionRef, "quota", (t) =>
  t.field({
    type: QuotaRef,
    description: "The institution's limits and usage.",
    resolve: (inst, _args, ctx) => quotaOf(ctx, inst.id),
  }),
);

const SetQuotaInput = builder.inputType("SetQuotaInput", {
  description: "An institution's limits: a field left out stays as it is; null returns it to the platform default.",
  fields: (t) => ({
    institutionId: t.id({ required: true, description: "The institution." }),
    issuancesPerMonth: t.int({ description: "Issuances per calendar month, 0 or more." }),
    maxBatchSize: t.int({ description: "Items per issueCertificates request, 1 to 10000." }),
    storageBytes: t.float({ description: "Bytes of certificate content, a whole number from 0 to 2^53." }),
    idempotencyKey: t.string({ description: "Your unique key for this request: sent again, it answers the quota as it stands; with other limits, IDEMPOTENCY_CONFLICT." }),
  }),
});

function check(value: number | null | undefined, field: string, min: number, max: number): void {
  if (value == null) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OperationError("BAD_USER_INPUT", `${field} must be a whole number from ${min} to ${max}`, field);
  }
}

builder.mutationField("setQuota", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError] },
    type: QuotaRef,
    description: "Sets an institution's limits (platform operator). Lowering a limit below what is used refuses further requests; nothing recorded is undone.",
    authScopes: { operator: true },
    args: { input: t.arg({ type: SetQuotaInput, required: true, description: "The institution and its limits." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(async () => {
        const institutionId = String(input.institutionId);
        const [institution] = isId(institutionId) ? await ctx.db.select().from(institutions).where(eq(institutions.id, institutionId)) : [];
        if (!institution) throw new OperationError("NOT_FOUND", "institution not found", "institutionId");
        check(input.issuancesPerMonth, "issuancesPerMonth", 0, 2 ** 31 - 1);
        check(input.maxBatchSize, "maxBatchSize", 1, 10_000);
        check(input.storageBytes, "storageBytes", 0, Number.MAX_SAFE_INTEGER);
        const set: Partial<typeof institutionQuotas.$inferInsert> = { updatedAt: new Date() };
        if (input.issuancesPerMonth !== undefined) set.issuancesPerMonth = input.issuancesPerMonth;
        if (input.maxBatchSize !== undefined) set.maxBatchSize = input.maxBatchSize;
        if (input.storageBytes !== undefined) set.storageBytes = input.storageBytes;
        const { updatedAt: _, ...limits } = set;
        await idempotent(
          ctx.db,
          { scope: keyScope(ctx), key: input.idempotencyKey, operation: "setQuota", request: { institutionId, ...limits } },
          async (tx) => {
            await tx.insert(institutionQuotas).values({ institutionId, ...set }).onConflictDoUpdate({ target: institutionQuotas.institutionId, set });
            return { value: undefined, result: {} };
          },
          async () => undefined,
        );
        return quotaOf(ctx, institutionId);
      }),
  }),
);
