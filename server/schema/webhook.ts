import { randomBytes } from "node:crypto";
import { and, count, eq, isNull } from "drizzle-orm";
import { GraphQLError } from "graphql";
import { sealSecret } from "../../core/custody/sealed.ts";
import { institutions, webhookDeliveries, webhookEndpoints } from "../../core/db/schema.ts";
import { OperationError } from "../../core/operations/errors.ts";
import { forgetEndpoints } from "../../core/webhooks/events.ts";
import { healthOf } from "../../core/webhooks/health.ts";
import { checkTargetAtRegistration, systemResolver, WebhookTargetError, type WebhookTargetPolicy } from "../../core/webhooks/target.ts";
import { builder } from "../builder.ts";
import { ownedRow } from "./ids.ts";
import { ownedRows } from "./loaders.ts";
import { idempotent } from "../../core/operations/idempotency.ts";
import { keyScope, type Context } from "../context.ts";
import { IdempotencyConflictError, NotFoundError, QuotaExceededError, invalidInput, withOperationErrors } from "../errors.ts";

type Endpoint = typeof webhookEndpoints.$inferSelect;
type Health = ReturnType<typeof healthOf> & { endpointId: string };

const WebhookHealthStateEnum = builder.enumType("WebhookHealthState", {
  description: "How deliveries to a webhook are going.",
  values: {
    HEALTHY: { description: "The last attempt succeeded (or none was made yet)." },
    FAILING: { description: "The last attempts failed; deliveries are retried with backoff." },
    CIRCUIT_OPEN: { description: "So many attempts failed in a row that nothing is sent until `nextAttemptAt`, when one delivery probes the receiver; a success closes the circuit." },
    DISABLED: { description: "The webhook was disabled; its undelivered events were cancelled." },
  } as const,
});

const WebhookHealthRef = builder.objectRef<Health>("WebhookHealth").implement({
  description: "How the receiver has been answering, for whoever runs it.",
  fields: (t) => ({
    state: t.field({ type: WebhookHealthStateEnum, description: "Summary of the fields below.", resolve: (h) => h.state }),
    consecutiveFailures: t.exposeInt("consecutiveFailures", { description: "Attempts that failed in a row, whatever the event; 0 after a success." }),
    lastFailureAt: t.expose("lastFailureAt", { type: "DateTime", nullable: true, description: "When an attempt last failed." }),
    lastError: t.exposeString("lastError", { nullable: true, description: "Why it failed: `HTTP 503`, `no answer within 5000 ms`, a refused address…" }),
    lastSuccessAt: t.expose("lastSuccessAt", { type: "DateTime", nullable: true, description: "When a delivery last succeeded." }),
    nextAttemptAt: t.expose("nextAttemptAt", { type: "DateTime", nullable: true, description: "While the circuit is open: when the next delivery is tried." }),
    pendingDeliveries: t.int({
      description: "Events waiting to be delivered.",
      resolve: async (h, _args, ctx) =>
        (await ctx.db
          .select({ n: count() })
          .from(webhookDeliveries)
          .where(and(eq(webhookDeliveries.endpointId, h.endpointId), eq(webhookDeliveries.status, "PENDING"))))[0]?.n ?? 0,
    }),
  }),
});

const WebhookRef = builder.node(builder.objectRef<Endpoint>("Webhook"), {
  // Institution data: a key of the institution reads it only with READ, wherever it is reached from.
  authScopes: { readData: true },
  // Webhooks are read with the `admin` scope, by `node(id:)` too.
  loadMany: async (ids, ctx) => {
    const rows = await ownedRows(ctx, webhookEndpoints, ids);
    const admin = ctx.caller?.scopes.includes("admin");
    // An Error in place of a row is reported for that id alone.
    return rows.map((row) =>
      row && !admin ? new GraphQLError("This API key lacks the scope this field needs", { extensions: { code: "FORBIDDEN" } }) : row,
    ) as unknown as (Endpoint | null)[];
  },
  id: { resolve: (w) => w.id },
  description:
    "A URL that receives every state change of the institution's operations as a signed POST. Headers: `Hallmark-Event-Id` (deduplicate on it), `Hallmark-Event-Type` and `Hallmark-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with the secret>`.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier." }),
    url: t.exposeString("url", { description: "Where events are POSTed." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was registered." }),
    disabledAt: t.expose("disabledAt", { type: "DateTime", nullable: true, description: "When it was disabled; null while active." }),
    health: t.field({ type: WebhookHealthRef, description: "How deliveries to it are going.", resolve: (w) => ({ ...healthOf(w), endpointId: w.id }) }),
  }),
});

const RegisterWebhookPayload = builder.objectRef<{ webhook: Endpoint; secret: string | null; created: boolean }>("RegisterWebhookPayload").implement({
  description: "A registered webhook and its signing secret.",
  fields: (t) => ({
    webhook: t.field({ type: WebhookRef, description: "The webhook.", resolve: (p) => p.webhook }),
    secret: t.exposeString("secret", {
      nullable: true,
      description: "HMAC-SHA256 key of the signatures, shown in this answer only; null when the idempotency key named an earlier request (as for API keys).",
    }),
    created: t.exposeBoolean("created", { description: "False when the idempotency key named an earlier request." }),
  }),
});

/** The institution's webhook with this id, whatever its state (for answering a request again). */
async function endpoint(ctx: Context, id: string): Promise<Endpoint> {
  const [row] = await ctx.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.institutionId, ctx.caller!.institutionId)));
  return row!;
}

async function parseWebhookUrl(value: string, policy: WebhookTargetPolicy): Promise<string> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidInput("url is not a URL", "url");
  }
  if (!["http:", "https:"].includes(url.protocol) || url.username || url.password || value.length > 2000) {
    throw invalidInput("url must be an http(s) URL without credentials, at most 2000 characters", "url");
  }
  try {
    await checkTargetAtRegistration(url, policy, systemResolver);
  } catch (err) {
    if (err instanceof WebhookTargetError) throw invalidInput(`url must reach a public address: ${err.message}`, "url");
    throw err;
  }
  return url.toString();
}

builder.queryField("webhooks", (t) =>
  t.field({
    type: [WebhookRef],
    description: "The institution's active webhooks.",
    authScopes: { scope: "admin" },
    resolve: (_root, _args, ctx) =>
      ctx.db
        .select()
        .from(webhookEndpoints)
        .where(and(eq(webhookEndpoints.institutionId, ctx.caller!.institutionId), isNull(webhookEndpoints.disabledAt))),
  }),
);

builder.mutationField("registerWebhook", (t) =>
  t.field({
    errors: { types: [IdempotencyConflictError, QuotaExceededError] },
    type: RegisterWebhookPayload,
    description:
      "Registers a URL for the institution's events and returns its signing secret, this once. The same idempotency key again answers the same webhook, without the secret. The URL must reach a public address (unless the operator allows an internal one); an institution has at most WEBHOOK_MAX_ENDPOINTS active webhooks (QUOTA_EXCEEDED, quota `webhookEndpoints`).",
    authScopes: { scope: "admin" },
    args: {
      url: t.arg.string({ required: true, description: "http(s) URL that accepts POST." }),
      idempotencyKey: t.arg.string({ required: true, description: "Your unique key for this request." }),
    },
    resolve: (_root, { url, idempotencyKey }, ctx) =>
      withOperationErrors(async () => {
        const target = await parseWebhookUrl(url, ctx.webhooks.policy);
        const { value, replayed } = await idempotent(
          ctx.db,
          { scope: keyScope(ctx), key: idempotencyKey, operation: "registerWebhook", request: { url: target } },
          async (tx) => {
            const institutionId = ctx.caller!.institutionId;
            // The institution's row lock makes concurrent registrations count one after another.
            await tx.select({ id: institutions.id }).from(institutions).where(eq(institutions.id, institutionId)).for("update");
            const [active] = await tx
              .select({ n: count() })
              .from(webhookEndpoints)
              .where(and(eq(webhookEndpoints.institutionId, institutionId), isNull(webhookEndpoints.disabledAt)));
            const limit = ctx.webhooks.maxEndpoints;
            if ((active?.n ?? 0) + 1 > limit) {
              throw new OperationError("QUOTA_EXCEEDED", `quota webhookEndpoints exceeded: limit ${limit}, used ${active?.n ?? 0}, this request needs 1; disable a webhook first`, undefined, {
                quota: "webhookEndpoints",
                limit,
                used: active?.n ?? 0,
                requested: 1,
              });
            }
            const secret = `whsec_${randomBytes(24).toString("base64url")}`;
            // Stored sealed: a copy of the database alone cannot sign deliveries.
            const [webhook] = await tx.insert(webhookEndpoints).values({ institutionId, url: target, secret: sealSecret(secret, ctx.custody.keyring()) }).returning();
            return { value: { webhook: webhook!, secret }, result: { webhookId: webhook!.id } };
          },
          async (result) => ({ webhook: await endpoint(ctx, String(result.webhookId)), secret: "" }),
        );
        forgetEndpoints(ctx.caller!.institutionId);
        return { webhook: value.webhook, secret: replayed ? null : value.secret, created: !replayed };
      }),
  }),
);

builder.mutationField("disableWebhook", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError] },
    type: WebhookRef,
    description:
      "Stops deliveries to a webhook at once: its undelivered events are cancelled (one being sent at this moment is not retried). A disabled webhook stays disabled; register a new one to receive events again (cancelled events are not sent to it). Disabling it again changes nothing.",
    authScopes: { scope: "admin" },
    args: {
      id: t.arg.id({ required: true, description: "Webhook id (`id` or `nodeId`)." }),
      idempotencyKey: t.arg.string({ description: "Your unique key for this request: the same key for another webhook is IDEMPOTENCY_CONFLICT." }),
    },
    resolve: (_root, { id, idempotencyKey }, ctx) =>
      withOperationErrors(async () => {
        const webhook = await ownedRow(ctx, webhookEndpoints, id, "webhook");
        const { value } = await idempotent(
          ctx.db,
          { scope: keyScope(ctx), key: idempotencyKey, operation: "disableWebhook", request: { id: webhook.id } },
          async (tx) => {
            const [updated] = await tx
              .update(webhookEndpoints)
              .set({ disabledAt: webhook.disabledAt ?? new Date() })
              .where(eq(webhookEndpoints.id, webhook.id))
              .returning();
            // In the same transaction: once disabled, nothing of it is left to send or retry.
            await tx
              .update(webhookDeliveries)
              .set({ status: "CANCELLED", lastError: "webhook disabled" })
              .where(and(eq(webhookDeliveries.endpointId, webhook.id), eq(webhookDeliveries.status, "PENDING")));
            return { value: updated!, result: { webhookId: webhook.id } };
          },
          (result) => endpoint(ctx, String(result.webhookId)),
        );
        forgetEndpoints(ctx.caller!.institutionId);
        return value;
      }),
  }),
);
