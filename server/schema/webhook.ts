import { randomBytes } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import { GraphQLError } from "graphql";
import { webhookEndpoints } from "../../core/db/schema.ts";
import { forgetEndpoints } from "../../core/webhooks/events.ts";
import { builder } from "../builder.ts";
import { ownedRow } from "./ids.ts";
import { ownedRows } from "./loaders.ts";
import { idempotent } from "../../core/operations/idempotency.ts";
import { keyScope, type Context } from "../context.ts";
import { IdempotencyConflictError, NotFoundError, invalidInput, withOperationErrors } from "../errors.ts";

type Endpoint = typeof webhookEndpoints.$inferSelect;

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

function parseWebhookUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidInput("url is not a URL", "url");
  }
  if (!["http:", "https:"].includes(url.protocol) || url.username || url.password || value.length > 2000) {
    throw invalidInput("url must be an http(s) URL without credentials, at most 2000 characters", "url");
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
    errors: { types: [IdempotencyConflictError] },
    type: RegisterWebhookPayload,
    description: "Registers a URL for the institution's events and returns its signing secret, this once. The same idempotency key again answers the same webhook, without the secret.",
    authScopes: { scope: "admin" },
    args: {
      url: t.arg.string({ required: true, description: "http(s) URL that accepts POST." }),
      idempotencyKey: t.arg.string({ required: true, description: "Your unique key for this request." }),
    },
    resolve: (_root, { url, idempotencyKey }, ctx) =>
      withOperationErrors(async () => {
        const target = parseWebhookUrl(url);
        const { value, replayed } = await idempotent(
          ctx.db,
          { scope: keyScope(ctx), key: idempotencyKey, operation: "registerWebhook", request: { url: target } },
          async (tx) => {
            const secret = `whsec_${randomBytes(24).toString("base64url")}`;
            const [webhook] = await tx.insert(webhookEndpoints).values({ institutionId: ctx.caller!.institutionId, url: target, secret }).returning();
            return { value: webhook!, result: { webhookId: webhook!.id } };
          },
          (result) => endpoint(ctx, String(result.webhookId)),
        );
        forgetEndpoints(ctx.caller!.institutionId);
        return { webhook: value, secret: replayed ? null : value.secret, created: !replayed };
      }),
  }),
);

builder.mutationField("disableWebhook", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError] },
    type: WebhookRef,
    description: "Stops deliveries to a webhook. Disabling it again changes nothing.",
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
            return { value: updated!, result: { webhookId: webhook.id } };
          },
          (result) => endpoint(ctx, String(result.webhookId)),
        );
        forgetEndpoints(ctx.caller!.institutionId);
        return value;
      }),
  }),
);
