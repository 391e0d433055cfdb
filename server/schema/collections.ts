import { collections } from "../../core/db/schema.ts";
import { requestCreateCollection, type Collection } from "../../core/operations/collections.ts";
import { builder } from "../builder.ts";
import { IdempotencyConflictError, InstitutionNotActiveError, InvalidInputError, withOperationErrors } from "../errors.ts";
import { ownedRow } from "./ids.ts";
import { CollectionKindEnum, CollectionRef } from "./institution.ts";

const CreateCollectionInput = builder.inputType("CreateCollectionInput", {
  description: "A collection to create on chain for the caller's institution.",
  fields: (t) => ({
    name: t.string({ required: true, description: "Name of its contract (what wallets and explorers show), also the default certificate title; 1 to 128 bytes." }),
    symbol: t.string({ required: true, description: "Its contract's symbol: 1 to 11 upper-case letters or digits." }),
    kind: t.field({ type: CollectionKindEnum, required: true, description: "A certificate registry (CERTIFICATES) or an anchor for anchored batches (ANCHORED)." }),
    idempotencyKey: t.string({ required: true, description: "Your unique key for this request: sending it again answers the same collection." }),
  }),
});

const CreateCollectionPayload = builder.objectRef<{ collection: Collection; created: boolean }>("CreateCollectionPayload").implement({
  description: "Result of createCollection.",
  fields: (t) => ({
    collection: t.field({ type: CollectionRef, description: "The collection, QUEUED until the worker creates its contract; follow its `status`.", resolve: (p) => p.collection }),
    created: t.exposeBoolean("created", { description: "False when the idempotency key names a collection requested earlier." }),
  }),
});

builder.mutationField("createCollection", (t) =>
  t.field({
    errors: { types: [InvalidInputError, IdempotencyConflictError, InstitutionNotActiveError] },
    type: CreateCollectionPayload,
    description:
      "Creates a collection for the caller's institution (ADMIN): the worker creates its contract with the platform's issuing keys as issuers and binds it to the institution in the issuer registry. It goes QUEUED → SUBMITTED → CONFIRMED (or FAILED), told by live status (`operationsUpdated`, kind COLLECTION) and webhooks (`collection.confirmed`, …). The institution must be ACTIVE.",
    authScopes: { scope: "admin" },
    args: { input: t.arg({ type: CreateCollectionInput, required: true, description: "The collection." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(() =>
        requestCreateCollection(
          ctx.db,
          ctx.caller!.institutionId,
          { name: input.name, symbol: input.symbol, kind: input.kind === "ANCHORED" ? "ANCHORED" : "CERTIFICATE", idempotencyKey: input.idempotencyKey },
          // The platform's one chain (CHAIN_ID), the one sign-in messages name too.
          ctx.siwe.chainId,
        ),
      ),
  }),
);

builder.queryField("collection", (t) =>
  t.field({
    type: CollectionRef,
    description: "A collection of the caller's institution, by id (`id` or `nodeId`): where its creation stands, and its contract once CONFIRMED.",
    authScopes: { scope: "read" },
    args: { id: t.arg.id({ required: true, description: "Collection id." }) },
    resolve: (_root, { id }, ctx) => ownedRow(ctx, collections, id, "collection"),
  }),
);
