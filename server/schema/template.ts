import { createContextCache } from "@pothos/core";
import DataLoader from "dataloader";
import { desc, inArray } from "drizzle-orm";
import { collectionTemplates, TEMPLATE_FIELD_TYPES, type TemplateField } from "../../core/db/schema.ts";
import { setCollectionTemplate, TEMPLATE_LIMITS, type CollectionTemplate } from "../../core/operations/template.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { ConflictError, IdempotencyConflictError, NotFoundError, withOperationErrors } from "../errors.ts";
import { rawId } from "./ids.ts";
import { CollectionRef } from "./institution.ts";
import { loaders } from "./loaders.ts";

/** Each collection's current template (its highest version; none when that is empty), for many collections in one query. */
const templateLoader = createContextCache(
  (ctx: Context) =>
    new DataLoader<string, CollectionTemplate | null>(async (ids) => {
      const rows = await ctx.db
        .select()
        .from(collectionTemplates)
        .where(inArray(collectionTemplates.collectionId, [...ids]))
        .orderBy(desc(collectionTemplates.version));
      const latest = new Map<string, CollectionTemplate>();
      for (const r of rows) if (!latest.has(r.collectionId)) latest.set(r.collectionId, r);
      return ids.map((id) => {
        const row = latest.get(id);
        return row && row.fields.length ? row : null;
      });
    }),
);

export const TemplateFieldTypeEnum = builder.enumType("TemplateFieldType", {
  description: "The kind of value a template field takes.",
  values: {
    TEXT: { description: "A string, at most `maxLength` characters, matching `pattern` when one is set." },
    NUMBER: { description: "A JSON number." },
    DATE: { description: "A calendar date as a string, `YYYY-MM-DD`." },
    BOOLEAN: { description: "`true` or `false`." },
    ENUM: { description: "One of `enumValues`, exactly." },
  } satisfies Record<(typeof TEMPLATE_FIELD_TYPES)[number], { description: string }>,
});

const TemplateFieldRef = builder.objectRef<TemplateField>("TemplateField").implement({
  description: "One field the certificates of a collection carry.",
  fields: (t) => ({
    key: t.exposeString("key", { description: "The key of its value in an issuance's `fields`." }),
    label: t.exposeString("label", { description: "The name it is shown under on the certificate." }),
    type: t.field({ type: TemplateFieldTypeEnum, description: "The kind of value it takes.", resolve: (f) => f.type }),
    required: t.exposeBoolean("required", { description: "Whether every certificate must carry it." }),
    enumValues: t.exposeStringList("enumValues", { nullable: true, description: "ENUM: the allowed values." }),
    maxLength: t.exposeInt("maxLength", { nullable: true, description: "TEXT: the longest value allowed, in characters." }),
    pattern: t.exposeString("pattern", { nullable: true, description: "TEXT: the anchored regular expression a value must match." }),
    shown: t.exposeBoolean("shown", {
      description: "Shown on the certificate as an attribute under its label; otherwise kept in the document's `data` under its key.",
    }),
    personal: t.boolean({
      description: "Personal data: the public document carries a salted digest of the value, shown only through the holder's link until erased.",
      resolve: (f) => f.personal === true,
    }),
  }),
});

const CollectionTemplateRef = builder.objectRef<CollectionTemplate>("CollectionTemplate").implement({
  // Institution data: a key of the institution reads it only with READ, wherever it is reached from.
  authScopes: { readData: true },
  description: "The fields every certificate of a collection carries, checked when it is issued.",
  fields: (t) => ({
    version: t.exposeInt("version", { description: "Counts the times the collection's template was set, from 1." }),
    fields: t.field({ type: [TemplateFieldRef], description: "The field definitions, in the order set.", resolve: (tpl) => tpl.fields }),
    idempotencyKey: t.exposeString("idempotencyKey", { description: "The key the request that set this version was sent with." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When this version was set." }),
  }),
});

builder.objectField(CollectionRef, "template", (t) =>
  t.field({
    type: CollectionTemplateRef,
    nullable: true,
    description: "The certificate template issuances into this collection are checked against; null when it has none.",
    resolve: (c, _args, ctx) => templateLoader(ctx).load(c.id),
  }),
);

const TemplateFieldInput = builder.inputType("TemplateFieldInput", {
  description: "One field definition of a certificate template.",
  fields: (t) => ({
    key: t.string({
      required: true,
      description: `Key of the value in an issuance's \`fields\`: a letter, then letters, digits and _, at most ${TEMPLATE_LIMITS.key}; unique.`,
    }),
    label: t.string({ required: true, description: `Name shown on the certificate, at most ${TEMPLATE_LIMITS.label} characters; unique.` }),
    type: t.field({ type: TemplateFieldTypeEnum, required: true, description: "The kind of value." }),
    required: t.boolean({ defaultValue: false, description: "Whether every certificate must carry it (default false)." }),
    enumValues: t.stringList({ description: `ENUM only, and required there: 1 to ${TEMPLATE_LIMITS.enumValues} distinct values.` }),
    maxLength: t.int({
      description: `TEXT only: the longest value, 1 to ${TEMPLATE_LIMITS.text} (${TEMPLATE_LIMITS.patternText} with a pattern), which is also the default.`,
    }),
    pattern: t.string({
      description: `TEXT only: a regular expression anchored with ^ and $ (alternatives grouped inside), at most ${TEMPLATE_LIMITS.pattern} characters, without backreferences or lookarounds; matched in linear time (RE2 semantics).`,
    }),
    shown: t.boolean({ defaultValue: true, description: "Shown on the certificate as an attribute (default), or kept in its `data`." }),
    personal: t.boolean({
      defaultValue: false,
      description: "Personal data (default false): the public document carries only a salted digest of the value (see `Certificate.personalData`); needs `shown`.",
    }),
  }),
});

const SetCollectionTemplateInput = builder.inputType("SetCollectionTemplateInput", {
  description: "A collection's new certificate template.",
  fields: (t) => ({
    collectionId: t.id({ required: true, description: "The collection (its `id` or `nodeId`)." }),
    fields: t.field({
      type: [TemplateFieldInput],
      required: true,
      description: `The field definitions, 1 to ${TEMPLATE_LIMITS.fields}; they replace the collection's template as a whole.`,
    }),
    idempotencyKey: t.string({ required: true, description: "Your unique key for this change; sending it again returns the same version." }),
  }),
});

const SetCollectionTemplatePayload = builder
  .objectRef<{ template: CollectionTemplate; created: boolean; collectionId: string }>("SetCollectionTemplatePayload")
  .implement({
    description: "Result of setCollectionTemplate.",
    fields: (t) => ({
      collection: t.field({
        type: CollectionRef,
        description: "The collection, with its template now.",
        resolve: async (p, _args, ctx) => (await loaders(ctx).collection.load(p.collectionId))!,
      }),
      template: t.field({ type: CollectionTemplateRef, description: "The version this request set.", resolve: (p) => p.template }),
      created: t.exposeBoolean("created", { description: "False when the idempotency key named an earlier request." }),
    }),
  });

builder.mutationField("setCollectionTemplate", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, ConflictError] },
    type: SetCollectionTemplatePayload,
    description:
      "Sets the fields every certificate of a collection carries; later issuances into it are checked against them (certificates already issued are not).",
    authScopes: { scope: "admin" },
    args: { input: t.arg({ type: SetCollectionTemplateInput, required: true, description: "The collection and its template." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(async () => {
        const result = await setCollectionTemplate(ctx.db, ctx.caller!.institutionId, {
          collectionId: rawId(input.collectionId, "Collection") ?? String(input.collectionId),
          idempotencyKey: input.idempotencyKey,
          fields: input.fields.map((f) => ({ ...f, type: f.type as string })),
        });
        return { ...result, collectionId: result.template.collectionId };
      }),
  }),
);
