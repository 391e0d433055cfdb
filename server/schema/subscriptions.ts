import { GraphQLError } from "graphql";
import { anchoredBatches, anchoredRevocations, bulkIssuances, certificateOperations, collections, editionOperations, editions, issuances, ISSUANCE_STATUSES, revocations, type IssuanceStatus } from "../../core/db/schema.ts";
import type { LiveMessage, LiveOperationKind, OperationChange } from "../../core/live/index.ts";
import { bulkProgress } from "../../core/operations/bulk-issue.ts";
import { builder } from "../builder.ts";
import type { Caller } from "../auth/caller.ts";
import type { Context } from "../context.ts";
import { followEvents, followState } from "../live-stream.ts";
import { describedValues, OperationStatusEnum } from "./enums.ts";
import { ownedRow, rawId } from "./ids.ts";
import { forgetLoaded } from "./loaders.ts";
import { IssuanceRef } from "./issuance.ts";
import { RevocationRef } from "./revocation.ts";
import { CertificateOperationRef } from "./certificate-operations.ts";
import { EditionOperationRef, EditionRef } from "./edition.ts";
import { CollectionRef } from "./institution.ts";
import { AnchoredBatchRef, AnchoredRevocationRef } from "./anchored.ts";

type IssuanceRow = typeof issuances.$inferSelect;
const FINAL: readonly IssuanceStatus[] = ["CONFIRMED", "FAILED", "REJECTED", "EXPIRED"];

/**
 * Subscriptions are checked when they start, not per event: the caller needs an API key with the `read` scope
 * (or `admin`), the same errors as the builder's scope check give.
 */
function reader(ctx: Context): Caller {
  const caller = ctx.caller;
  if (!caller) throw new GraphQLError("Authentication required: send `Authorization: Bearer <api key>`", { extensions: { code: "UNAUTHENTICATED" } });
  if (!caller.scopes.includes("read") && !caller.scopes.includes("admin")) {
    throw new GraphQLError("This API key lacks the scope this field needs", { extensions: { code: "FORBIDDEN" } });
  }
  return caller;
}

builder.subscriptionType({
  description:
    "Live status over Server-Sent Events (`Accept: text/event-stream`, GraphQL over SSE, distinct connections). Each field needs an API key with the `read` scope and sees only the caller's institution.",
});

builder.subscriptionField("issuanceUpdated", (t) =>
  t.field({
    type: IssuanceRef,
    description:
      "An issuance of the caller's institution as it moves: its current state first, then each new state (QUEUED → PINNED → SUBMITTED → CONFIRMED, or FAILED); the stream ends after CONFIRMED or FAILED.",
    args: { id: t.arg.id({ required: true, description: "Issuance id." }) },
    subscribe: (_root, { id }, ctx) => {
      const caller = reader(ctx);
      return followState<IssuanceRow>({
        live: ctx.live,
        logger: ctx.logger,
        institutionId: caller.institutionId,
        read: () => ownedRow(ctx, issuances, id, "issuance"),
        concerns: (m) => m.type === "operations" && m.kind === "issuance" && m.operations.some((o) => o.id === String(id)),
        apply: (state, m) => {
          if (m.type !== "operations") return undefined;
          const op = m.operations.find((o) => o.id === String(id));
          const at = new Date(m.at);
          if (!op || at < state.updatedAt || (at.getTime() === state.updatedAt.getTime() && m.status === state.status)) return undefined;
          // The stored row as the change left it: only the fields the change set are replaced.
          return {
            ...state,
            status: m.status,
            updatedAt: at,
            ...("txHash" in op ? { txHash: op.txHash ?? null } : {}),
            ...("error" in op ? { error: op.error ?? null } : {}),
            ...(op.metadataCid ? { metadataCid: op.metadataCid } : {}),
            ...(op.digest ? { digest: op.digest } : {}),
          };
        },
        differs: (last, fresh) => fresh.status !== last.status || fresh.updatedAt > last.updatedAt,
        ended: (state) => FINAL.includes(state.status),
      });
    },
    resolve: (row, _args, ctx) => {
      forgetLoaded(ctx);
      return row;
    },
  }),
);

interface BulkState {
  id: string;
  total: number;
  done: number;
  rejected: number;
  byStatus: Record<IssuanceStatus, number>;
  at: Date;
}

const BulkProgressUpdateRef = builder.objectRef<BulkState>("BulkIssuanceProgressUpdate").implement({
  description: "Where a bulk issuance stands, as `bulkIssuanceProgress` reports it: `done` of `total` items have ended.",
  fields: (t) => ({
    bulkIssuanceId: t.exposeID("id", { description: "The bulk issuance." }),
    total: t.exposeInt("total", { description: "Items in the request." }),
    done: t.exposeInt("done", { description: "Items that have ended: confirmed, failed or rejected at the door." }),
    confirmed: t.int({ description: "Items CONFIRMED.", resolve: (s) => s.byStatus.CONFIRMED }),
    failed: t.int({ description: "Items FAILED on the way.", resolve: (s) => s.byStatus.FAILED }),
    rejected: t.exposeInt("rejected", { description: "Items refused at the door." }),
    inProgress: t.int({ description: "Items accepted and not yet ended (QUEUED, PINNED or SUBMITTED).", resolve: (s) => s.total - s.done }),
    finished: t.boolean({ description: "True once every item has ended (`done` equals `total`); the last event.", resolve: (s) => s.done >= s.total }),
    at: t.expose("at", { type: "DateTime", description: "When these counts were read." }),
  }),
});

const sameCounts = (a: Record<IssuanceStatus, number>, b: Record<IssuanceStatus, number>) => ISSUANCE_STATUSES.every((s) => a[s] === b[s]);

builder.subscriptionField("bulkIssuanceProgress", (t) =>
  t.field({
    type: BulkProgressUpdateRef,
    description:
      "Progress of a bulk issuance of the caller's institution: the current counts first, then new counts as items end; the stream ends once `done` equals `total`.",
    args: { id: t.arg.id({ required: true, description: "Bulk issuance id." }) },
    subscribe: (_root, { id }, ctx) => {
      const caller = reader(ctx);
      return followState<BulkState>({
        live: ctx.live,
        logger: ctx.logger,
        institutionId: caller.institutionId,
        read: async () => {
          const bulk = await ownedRow(ctx, bulkIssuances, id, "bulk issuance");
          const at = new Date();
          const p = await bulkProgress(ctx.db, bulk);
          return { id: bulk.id, total: p.total, done: p.done, rejected: p.rejected, byStatus: p.byStatus, at };
        },
        concerns: (m) => m.type === "bulk" && m.id === String(id),
        apply: (state, m) => {
          if (m.type !== "bulk") return undefined;
          // Reads by several workers may arrive out of order: counts never go back.
          const at = new Date(m.at);
          if (m.done < state.done || (m.done === state.done && (sameCounts(m.byStatus, state.byStatus) || at < state.at))) return undefined;
          return { id: m.id, total: m.total, done: m.done, rejected: m.rejected, byStatus: m.byStatus, at };
        },
        differs: (last, fresh) => fresh.done > last.done || (fresh.done === last.done && !sameCounts(fresh.byStatus, last.byStatus)),
        ended: (state) => state.done >= state.total,
      });
    },
    resolve: (state, _args, ctx) => {
      forgetLoaded(ctx);
      return state;
    },
  }),
);

const KIND_NAMES = {
  issuance: "ISSUANCE",
  revocation: "REVOCATION",
  certificateOperation: "CERTIFICATE_OPERATION",
  edition: "EDITION",
  editionOperation: "EDITION_OPERATION",
  collection: "COLLECTION",
  anchoredBatch: "ANCHORED_BATCH",
  anchoredRevocation: "ANCHORED_REVOCATION",
} as const satisfies Record<LiveOperationKind, string>;

const OperationKindEnum = builder.enumType("OperationKind", {
  description: "What an operation does.",
  values: describedValues(Object.values(KIND_NAMES), {
    ISSUANCE: "Issues one certificate.",
    REVOCATION: "Revokes one certificate.",
    CERTIFICATE_OPERATION: "Recovers, corrects, suspends or unsuspends one certificate.",
    EDITION: "Creates a collectible edition on chain.",
    EDITION_OPERATION: "Mints items of an edition: an airdrop or a redeemed claim code.",
    COLLECTION: "Creates a collection's contract on chain and binds it to the institution in the issuer registry.",
    ANCHORED_BATCH: "Anchors a batch of certificates: one Merkle root on an ANCHORED collection's contract.",
    ANCHORED_REVOCATION: "Revokes one anchored certificate, or a whole anchored batch.",
  }),
});

interface OperationEvent extends OperationChange {
  kind: LiveOperationKind;
  status: IssuanceStatus;
  at: Date;
}

const OperationUpdateRef = builder.objectRef<OperationEvent>("OperationUpdate").implement({
  description: "One operation of the caller's institution entered a new state.",
  fields: (t) => ({
    kind: t.field({ type: OperationKindEnum, description: "What kind of operation it is.", resolve: (e) => KIND_NAMES[e.kind] }),
    id: t.exposeID("id", { description: "The operation's id (an issuance's, a revocation's, …: read it with the field of its kind)." }),
    status: t.field({ type: OperationStatusEnum, description: "The state it entered.", resolve: (e) => e.status }),
    at: t.expose("at", { type: "DateTime", description: "When it entered that state." }),
    txHash: t.string({ nullable: true, description: "Hash of its transaction, when the change made it known.", resolve: (e) => e.txHash ?? null }),
    error: t.string({ nullable: true, description: "Why it failed, when FAILED.", resolve: (e) => e.error ?? null }),
    certificateId: t.id({ nullable: true, description: "The certificate an issuance created, once CONFIRMED.", resolve: (e) => e.certificateId ?? null }),
    bulkIssuanceId: t.id({ nullable: true, description: "The bulk issuance an issuance belongs to.", resolve: (e) => e.bulkIssuanceId ?? null }),
    minted: t.int({
      nullable: true,
      description: "An edition operation's items minted so far; sent again, still SUBMITTED, as each batch is confirmed.",
      resolve: (e) => e.minted ?? null,
    }),
    total: t.int({ nullable: true, description: "An edition operation's items in all.", resolve: (e) => e.total ?? null }),
    issuance: t.field({
      type: IssuanceRef,
      nullable: true,
      description: "The issuance as stored now (read when asked for), when the operation is one.",
      resolve: (e, _args, ctx) => (e.kind === "issuance" ? ownedRow(ctx, issuances, e.id, "issuance") : null),
    }),
    revocation: t.field({
      type: RevocationRef,
      nullable: true,
      description: "The revocation as stored now (read when asked for), when the operation is one.",
      resolve: (e, _args, ctx) => (e.kind === "revocation" ? ownedRow(ctx, revocations, e.id, "revocation") : null),
    }),
    certificateOperation: t.field({
      type: CertificateOperationRef,
      nullable: true,
      description: "The certificate operation as stored now, when the operation is one.",
      resolve: (e, _args, ctx) => (e.kind === "certificateOperation" ? ownedRow(ctx, certificateOperations, e.id, "certificate operation") : null),
    }),
    edition: t.field({
      type: EditionRef,
      nullable: true,
      description: "The edition as stored now, when the operation is its creation.",
      resolve: (e, _args, ctx) => (e.kind === "edition" ? ownedRow(ctx, editions, e.id, "edition") : null),
    }),
    editionOperation: t.field({
      type: EditionOperationRef,
      nullable: true,
      description: "The airdrop or claim as stored now, when the operation is one.",
      resolve: (e, _args, ctx) => (e.kind === "editionOperation" ? ownedRow(ctx, editionOperations, e.id, "edition operation") : null),
    }),
    collection: t.field({
      type: CollectionRef,
      nullable: true,
      description: "The collection as stored now, when the operation is its creation.",
      resolve: (e, _args, ctx) => (e.kind === "collection" ? ownedRow(ctx, collections, e.id, "collection") : null),
    }),
    anchoredBatch: t.field({
      type: AnchoredBatchRef,
      nullable: true,
      description: "The anchored batch as stored now, when the operation is one.",
      resolve: (e, _args, ctx) => (e.kind === "anchoredBatch" ? ownedRow(ctx, anchoredBatches, e.id, "anchored batch") : null),
    }),
    anchoredRevocation: t.field({
      type: AnchoredRevocationRef,
      nullable: true,
      description: "The anchored certificate's or batch's revocation as stored now, when the operation is one.",
      resolve: (e, _args, ctx) => (e.kind === "anchoredRevocation" ? ownedRow(ctx, anchoredRevocations, e.id, "anchored revocation") : null),
    }),
  }),
});

builder.subscriptionField("operationsUpdated", (t) =>
  t.field({
    type: OperationUpdateRef,
    description:
      "Every state change of the caller's institution's operations (issuances, revocations, certificate operations, collections, anchored batches and their revocations, editions, airdrops and claims; an airdrop's progress too), as it happens, until the client leaves. Nothing is replayed: read the current state with queries.",
    subscribe: (_root, _args, ctx) => {
      const caller = reader(ctx);
      return followEvents<OperationEvent>({
        live: ctx.live,
        institutionId: caller.institutionId,
        expand: (m: LiveMessage) =>
          m.type === "operations" ? m.operations.map((op) => ({ ...op, kind: m.kind, status: m.status, at: new Date(m.at) })) : [],
      });
    },
    resolve: (event, _args, ctx) => {
      forgetLoaded(ctx);
      return event;
    },
  }),
);

type EditionOperationRow = typeof editionOperations.$inferSelect;

builder.subscriptionField("editionOperationUpdated", (t) =>
  t.field({
    type: EditionOperationRef,
    description:
      "An airdrop or claim of the caller's institution as it goes: its current state first, then each change of state and each batch of items minted (`minted` of `total`); the stream ends after CONFIRMED or FAILED.",
    args: { id: t.arg.id({ required: true, description: "Edition operation id (`id` or `nodeId`)." }) },
    subscribe: (_root, { id }, ctx) => {
      const caller = reader(ctx);
      const own = rawId(id, "EditionOperation") ?? String(id);
      return followState<EditionOperationRow>({
        live: ctx.live,
        logger: ctx.logger,
        institutionId: caller.institutionId,
        read: () => ownedRow(ctx, editionOperations, own, "edition operation"),
        concerns: (m) => m.type === "operations" && m.kind === "editionOperation" && m.operations.some((o) => o.id === own),
        apply: (state, m) => {
          if (m.type !== "operations") return undefined;
          const op = m.operations.find((o) => o.id === own);
          if (!op || FINAL.includes(state.status)) return undefined;
          const minted = Math.max(state.minted, op.minted ?? state.minted);
          const status = FINAL.includes(m.status) || m.status !== "QUEUED" ? m.status : state.status;
          if (minted === state.minted && status === state.status) return undefined;
          return { ...state, status, minted, updatedAt: new Date(m.at), ...("error" in op ? { error: op.error ?? null } : {}) };
        },
        differs: (last, fresh) => fresh.status !== last.status || fresh.minted !== last.minted,
        ended: (state) => FINAL.includes(state.status),
      });
    },
    resolve: (row, _args, ctx) => {
      forgetLoaded(ctx);
      return row;
    },
  }),
);
