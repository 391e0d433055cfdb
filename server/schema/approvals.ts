import { and, asc, eq, isNull, or, sql, type SQL } from "drizzle-orm";
import { approveOperation, rejectOperation } from "../../core/approvals/decide.ts";
import { setApprovalPolicy } from "../../core/approvals/policy-change.ts";
import { DEFAULT_APPROVAL_TTL_SECONDS, MAX_APPROVAL_TTL_SECONDS, MIN_APPROVAL_TTL_SECONDS, ownPolicy, policyFor, type ApprovalPolicy } from "../../core/approvals/policies.ts";
import type { ApprovalRequest } from "../../core/approvals/hold.ts";
import {
  APPROVAL_ACTIONS,
  APPROVAL_REQUEST_STATUSES,
  apiKeys,
  approvalRequests,
  approvals,
  certificateOperations,
  collections,
  members,
  revocations,
  type ApprovalRule,
} from "../../core/db/schema.ts";
import { createPipeline } from "../../core/operations/context.ts";
import { actorOf } from "../auth/actor.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { ConflictError, IdempotencyConflictError, InvalidInputError, NotAllowedError, NotFoundError, withOperationErrors } from "../errors.ts";
import { CertificateOperationRef } from "./certificate-operations.ts";
import { describedValues } from "./enums.ts";
import { MemberRoleEnum } from "./access.ts";
import { ownedRow, rawId } from "./ids.ts";
import { ownedRows } from "./loaders.ts";
import { connectionFields, paginate, SortOrderEnum } from "./pagination.ts";
import { RevocationRef } from "./revocation.ts";

export const ApprovalActionEnum = builder.enumType("ApprovalAction", {
  description: "An action an approval policy may hold for approval.",
  values: describedValues(APPROVAL_ACTIONS, {
    REVOKE: "revokeCertificate.",
    RECOVER: "recoverCertificate (reissue to a new wallet).",
    CORRECT_METADATA: "correctCertificateMetadata.",
    SUSPEND: "suspendCertificate and unsuspendCertificate.",
    BULK_ISSUANCE: "issueCertificates with more than the rule's `aboveItems` items.",
    EDITION_CREATION: "createEdition (institution default policy only: editions belong to no collection).",
    AIRDROP: "airdrop to more than the rule's `aboveItems` holders (institution default policy only).",
    ADMIN_API_KEY: "createApiKey with the ADMIN scope (institution default policy only): the key works once approved.",
    POLICY_CHANGE: "setApprovalPolicy itself. A policy with rules but none for its own change still needs, to change, as many OWNER approvals as its strictest rule.",
  }),
});

const ApprovalRequestStatusEnum = builder.enumType("ApprovalRequestStatus", {
  description: "Where a request held for approval stands.",
  values: describedValues(APPROVAL_REQUEST_STATUSES, {
    AWAITING_APPROVAL: "Waiting for approvals; its operation is AWAITING_APPROVAL.",
    APPROVED: "Enough members approved: its operation was QUEUED (or the key activated, or the policy applied). Final.",
    REJECTED: "A member rejected it; its operation ended REJECTED. Final.",
    EXPIRED: "Not approved before `expiresAt`; its operation ended EXPIRED. Final.",
  }),
});

// Institution data: a key of the institution reads it only with READ, wherever it is reached from (a mutation's answer too).
const ApprovalRuleRef = builder.objectRef<ApprovalRule>("ApprovalRule").implement({
  authScopes: { readData: true },
  description: "One rule of an approval policy: an action, how many distinct members must approve it, and which roles may.",
  fields: (t) => ({
    action: t.field({ type: ApprovalActionEnum, description: "The action held.", resolve: (r) => r.action }),
    required: t.exposeInt("required", { description: "Distinct members, other than the one who asked, who must approve." }),
    approverRoles: t.field({ type: [MemberRoleEnum], description: "Roles whose members may approve or reject.", resolve: (r) => r.approverRoles }),
    aboveItems: t.exposeInt("aboveItems", { nullable: true, description: "BULK_ISSUANCE and AIRDROP: the rule holds requests of more items than this; null: every request." }),
  }),
});

/** A policy as shown: a stored one, or none (no rules) for a scope without one. */
type PolicyView = Pick<ApprovalPolicy, "collectionId" | "rules" | "ttlSeconds"> & { updatedAt: Date | null };

const ApprovalPolicyRef = builder.objectRef<PolicyView>("ApprovalPolicy").implement({
  authScopes: { readData: true },
  description: "Which actions on a collection (or, as the institution's default, on any collection without a policy of its own) need approval.",
  fields: (t) => ({
    collectionId: t.id({ nullable: true, description: "The collection whose policy this is; null for the institution's default.", resolve: (p) => p.collectionId }),
    rules: t.field({ type: [ApprovalRuleRef], description: "One rule per action held; none: nothing waits for approval.", resolve: (p) => p.rules }),
    ttlSeconds: t.exposeInt("ttlSeconds", { description: "How long a request waits for its approvals before it ends EXPIRED." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", nullable: true, description: "When it last changed; null when none was ever set." }),
  }),
});

type ApprovalRow = typeof approvals.$inferSelect;
const ApprovalRef = builder.objectRef<ApprovalRow>("Approval").implement({
  authScopes: { readData: true },
  description: "One member's decision on a request held for approval.",
  fields: (t) => ({
    memberId: t.exposeID("memberId", { description: "The member who decided." }),
    apiKeyId: t.exposeID("keyId", { description: "The key (made for that member) the decision came through." }),
    decision: t.exposeString("decision", { description: "APPROVE or REJECT." }),
    reason: t.exposeString("reason", { nullable: true, description: "Why, for a rejection." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When." }),
  }),
});

export const ApprovalRequestRef = builder.node(builder.objectRef<ApprovalRequest>("ApprovalRequest"), {
  authScopes: { readData: true },
  description: "A request held by an approval policy until enough members approve it, or one rejects it, or its deadline passes.",
  id: { resolve: (r) => r.id },
  loadMany: (ids, ctx) => ownedRows(ctx, approvalRequests, ids),
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier; pass it to approveOperation or rejectOperation." }),
    action: t.field({ type: ApprovalActionEnum, description: "What is asked for.", resolve: (r) => r.action }),
    status: t.field({ type: ApprovalRequestStatusEnum, description: "Where it stands.", resolve: (r) => r.status }),
    collectionId: t.id({ nullable: true, description: "The collection whose policy holds it; null: the institution's default.", resolve: (r) => r.collectionId }),
    subjectKind: t.exposeString("subjectKind", { description: "What it holds: revocation, certificateOperation, bulkIssuance, edition, editionOperation, apiKey or approvalPolicy." }),
    subjectId: t.id({ nullable: true, description: "The held thing's id (none for a policy change).", resolve: (r) => r.subjectId }),
    revocation: t.field({
      type: RevocationRef,
      nullable: true,
      description: "The revocation held, when it is one.",
      resolve: async (r, _a, ctx) => (r.subjectKind === "revocation" ? ((await ownedRows(ctx, revocations, [r.subjectId!]))[0] ?? null) : null),
    }),
    certificateOperation: t.field({
      type: CertificateOperationRef,
      nullable: true,
      description: "The certificate operation held, when it is one.",
      resolve: async (r, _a, ctx) => (r.subjectKind === "certificateOperation" ? ((await ownedRows(ctx, certificateOperations, [r.subjectId!]))[0] ?? null) : null),
    }),
    requestedByMemberId: t.id({ nullable: true, description: "The member who asked (the authority of the key used).", resolve: (r) => r.requestedByMemberId }),
    requestedByApiKeyId: t.id({ nullable: true, description: "The key that asked.", resolve: (r) => r.requestedByKeyId }),
    requestHash: t.exposeString("requestHash", { description: "The fingerprint of the request held (sha256 of its canonical JSON)." }),
    required: t.exposeInt("required", { description: "Approvals needed." }),
    approverRoles: t.field({ type: [MemberRoleEnum], description: "Roles that may decide.", resolve: (r) => r.approverRoles as never }),
    approvals: t.field({
      type: [ApprovalRef],
      description: "The decisions so far, oldest first.",
      resolve: (r, _a, ctx) => ctx.db.select().from(approvals).where(eq(approvals.requestId, r.id)).orderBy(asc(approvals.createdAt), asc(approvals.id)),
    }),
    policyChange: t.field({
      type: ApprovalPolicyRef,
      nullable: true,
      description: "For a POLICY_CHANGE: the policy that applies once approved.",
      resolve: (r) => (r.action === "POLICY_CHANGE" ? ({ ...(r.payload as object), updatedAt: null } as PolicyView) : null),
    }),
    approvalsHash: t.exposeString("approvalsHash", {
      nullable: true,
      description: "Once APPROVED: sha256 of the approvals record (in the audit log's `operation.released` event); a revocation names it on chain.",
    }),
    rejectionReason: t.exposeString("rejectionReason", { nullable: true, description: "Why it was rejected." }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", description: "When it ends EXPIRED unless decided." }),
    decidedAt: t.expose("decidedAt", { type: "DateTime", nullable: true, description: "When it ended." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was asked for." }),
  }),
});

builder.queryField("approvalPolicy", (t) =>
  t.field({
    type: ApprovalPolicyRef,
    description:
      "The approval policy in force for a collection (its own, else the institution's default: `collectionId` says which), or the default itself without `collectionId`. No rules when none is set. NOT_FOUND for another institution's collection.",
    authScopes: { scope: "read" },
    args: { collectionId: t.arg.id({ description: "The collection (`id` or `nodeId`); omitted: the default." }) },
    resolve: async (_root, { collectionId }, ctx): Promise<PolicyView> => {
      const institutionId = ctx.caller!.institutionId;
      const id = collectionId == null ? null : (await ownedRow(ctx, collections, collectionId, "collection")).id;
      const policy = id ? await policyFor(ctx.db, institutionId, id) : await ownPolicy(ctx.db, institutionId, null);
      return policy ?? { collectionId: null, rules: [], ttlSeconds: DEFAULT_APPROVAL_TTL_SECONDS, updatedAt: null };
    },
  }),
);

builder.queryField("approvalRequest", (t) =>
  t.field({
    type: ApprovalRequestRef,
    nullable: true,
    description: "A request held for approval, by id.",
    authScopes: { scope: "read" },
    args: { id: t.arg.id({ required: true, description: "Its `id` or `nodeId`." }) },
    resolve: (_root, { id }, ctx) => ownedRow(ctx, approvalRequests, id, "approval request"),
  }),
);

/** What the caller's key may decide: requests awaiting approval that another member asked for, in roles it holds. */
async function decidableBy(ctx: Context): Promise<SQL> {
  const caller = ctx.caller!;
  const [key] = await ctx.db
    .select({ memberId: apiKeys.memberId, role: members.role })
    .from(apiKeys)
    .leftJoin(members, eq(members.id, apiKeys.memberId))
    .where(eq(apiKeys.id, caller.apiKeyId));
  if (!key?.memberId || !key.role) return sql`false`;
  return and(
    eq(approvalRequests.institutionId, caller.institutionId),
    eq(approvalRequests.status, "AWAITING_APPROVAL"),
    sql`${approvalRequests.expiresAt} > now()`,
    sql`${key.role} = any(${approvalRequests.approverRoles})`,
    or(isNull(approvalRequests.requestedByMemberId), sql`${approvalRequests.requestedByMemberId} <> ${key.memberId}`),
    or(isNull(approvalRequests.requestedByKeyId), sql`${approvalRequests.requestedByKeyId} <> ${caller.apiKeyId}`),
    sql`not exists (select 1 from ${approvals} where ${approvals.requestId} = ${approvalRequests.id} and ${approvals.memberId} = ${key.memberId})`,
  )!;
}

builder.queryField("pendingApprovals", (t) =>
  t.connection(
    {
      type: ApprovalRequestRef,
      description:
        "What waits for the caller's decision, a page at a time (oldest first unless `orderBy: DESC`): requests awaiting approval that another member asked for, whose policy lets the caller's member approve, and that it has not decided yet. Empty for a key made for no member.",
      authScopes: { scope: "read" },
      args: {
        action: t.arg({ type: ApprovalActionEnum, description: "Only this action." }),
        orderBy: t.arg({ type: SortOrderEnum, defaultValue: "ASC", description: "By request time, then id." }),
      },
      resolve: async (_root, args, ctx) => {
        const where = [await decidableBy(ctx)];
        if (args.action) where.push(eq(approvalRequests.action, args.action));
        return paginate<ApprovalRequest>({ db: ctx.db, table: approvalRequests, where: and(...where), order: args.orderBy ?? "ASC", args });
      },
    },
    { name: "ApprovalRequestConnection", description: "A page of requests held for approval.", fields: connectionFields },
    { name: "ApprovalRequestEdge", description: "A request held for approval and its cursor." },
  ),
);

builder.queryField("approvalRequests", (t) =>
  t.connection(
    {
      type: ApprovalRequestRef,
      description: "Every request held for approval by the institution's policies, whatever became of it (newest first unless `orderBy: ASC`).",
      authScopes: { scope: "read" },
      args: {
        status: t.arg({ type: ApprovalRequestStatusEnum, description: "Only requests in this state." }),
        orderBy: t.arg({ type: SortOrderEnum, defaultValue: "DESC", description: "By request time, then id." }),
      },
      resolve: (_root, args, ctx) => {
        const where: SQL[] = [eq(approvalRequests.institutionId, ctx.caller!.institutionId)];
        if (args.status) where.push(eq(approvalRequests.status, args.status));
        return paginate<ApprovalRequest>({ db: ctx.db, table: approvalRequests, where: and(...where), order: args.orderBy ?? "DESC", args });
      },
    },
    { name: "ApprovalRequestHistoryConnection", description: "A page of requests held for approval.", fields: connectionFields },
    { name: "ApprovalRequestHistoryEdge", description: "A request held for approval and its cursor." },
  ),
);

const ApprovalRuleInput = builder.inputType("ApprovalRuleInput", {
  description: "One rule: an action, how many distinct members must approve it, which roles may.",
  fields: (t) => ({
    action: t.field({ type: ApprovalActionEnum, required: true, description: "The action to hold; one rule per action." }),
    required: t.int({ required: true, description: "Approvals needed, 1 to 10, from members other than the one who asks." }),
    approverRoles: t.field({ type: [MemberRoleEnum], required: true, description: "Roles that may approve or reject (OWNER, ISSUER; a VIEWER cannot)." }),
    aboveItems: t.int({ description: "BULK_ISSUANCE and AIRDROP only: hold only requests of more items than this (1 to 10000); omitted: every request." }),
  }),
});

const SetApprovalPolicyInput = builder.inputType("SetApprovalPolicyInput", {
  description: "A collection's approval policy (or the institution's default), replacing the one set for it.",
  fields: (t) => ({
    collectionId: t.id({ description: "The collection (`id` or `nodeId`); omitted: the institution's default, which also governs editions, airdrops, ADMIN keys and collections without a policy." }),
    rules: t.field({ type: [ApprovalRuleInput], required: true, description: "The rules, one per action, at least one. A policy is narrowed, never removed: to hold nothing else, keep only its POLICY_CHANGE rule." }),
    ttlSeconds: t.int({ description: `How long a request waits for approval, ${MIN_APPROVAL_TTL_SECONDS} s to ${MAX_APPROVAL_TTL_SECONDS / 86400} days; default ${DEFAULT_APPROVAL_TTL_SECONDS / 86400} days.` }),
  }),
});

const SetApprovalPolicyPayload = builder
  .objectRef<{ policy: PolicyView | undefined; approvalRequest: ApprovalRequest | undefined }>("SetApprovalPolicyPayload")
  .implement({
    description: "Result of setApprovalPolicy: applied at once, or held for approval under the policy in force.",
    fields: (t) => ({
      applied: t.boolean({ description: "True when the policy is in force now; false when the change awaits approval.", resolve: (p) => !p.approvalRequest }),
      policy: t.field({ type: ApprovalPolicyRef, nullable: true, description: "The policy set for that scope now (still the old one while the change awaits approval).", resolve: (p) => p.policy ?? null }),
      approvalRequest: t.field({ type: ApprovalRequestRef, nullable: true, description: "The change's approval request, when it is held.", resolve: (p) => p.approvalRequest ?? null }),
    }),
  });

builder.mutationField("setApprovalPolicy", (t) =>
  t.field({
    errors: { types: [InvalidInputError, NotFoundError, NotAllowedError] },
    type: SetApprovalPolicyPayload,
    description:
      "Sets which actions need approval, by how many members and which roles (an OWNER's key, ADMIN). When the policy in force guards its own change, the change waits for approval like any other request. FORBIDDEN for a key not acting for an OWNER.",
    authScopes: { scope: "admin" },
    args: { input: t.arg({ type: SetApprovalPolicyInput, required: true, description: "The policy." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(() =>
        setApprovalPolicy(ctx.db, { ...actorOf(ctx.caller!), institutionId: ctx.caller!.institutionId }, {
          collectionId: input.collectionId == null ? null : (rawId(input.collectionId) ?? String(input.collectionId)),
          rules: input.rules.map((r) => ({ action: r.action, required: r.required, approverRoles: r.approverRoles, aboveItems: r.aboveItems })),
          ttlSeconds: input.ttlSeconds,
        }),
      ),
  }),
);

const DecisionPayload = builder.objectRef<ApprovalRequest>("ApprovalDecisionPayload").implement({
  description: "Result of approveOperation or rejectOperation.",
  fields: (t) => ({
    approvalRequest: t.field({ type: ApprovalRequestRef, description: "The request, as the decision left it (APPROVED once the threshold is met).", resolve: (r) => r }),
  }),
});

const IDEMPOTENT =
  "Your unique key for this decision: sent again (by the same key, with the same decision), it answers the request as it stands instead of CONFLICT; with another decision, IDEMPOTENCY_CONFLICT.";

const DECISION_ERRORS = "NOT_FOUND for another institution's; FORBIDDEN for the member who asked, a key made for no member, or a role the policy does not name; CONFLICT when it is not awaiting approval (decided or expired) or this member already decided.";

builder.mutationField("approveOperation", (t) =>
  t.field({
    errors: { types: [InvalidInputError, NotFoundError, NotAllowedError, ConflictError, IdempotencyConflictError] },
    type: DecisionPayload,
    description: `Approves a request held for approval, as the member the key was made for. The approval that meets the threshold releases it: the operation becomes QUEUED and goes to the chain. ${DECISION_ERRORS}`,
    authScopes: { scope: "issue" },
    args: {
      id: t.arg.id({ required: true, description: "The approval request (`id` or `nodeId`)." }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENT }),
    },
    resolve: (_root, { id, idempotencyKey }, ctx) =>
      withOperationErrors(() =>
        approveOperation(createPipeline({ db: ctx.db, logger: ctx.logger, live: ctx.liveSink }), decider(ctx), rawId(id, "ApprovalRequest") ?? String(id), idempotencyKey),
      ),
  }),
);

builder.mutationField("rejectOperation", (t) =>
  t.field({
    errors: { types: [InvalidInputError, NotFoundError, NotAllowedError, ConflictError, IdempotencyConflictError] },
    type: DecisionPayload,
    description: `Rejects a request held for approval, for good: its operation ends REJECTED and never reaches the chain. ${DECISION_ERRORS}`,
    authScopes: { scope: "issue" },
    args: {
      id: t.arg.id({ required: true, description: "The approval request (`id` or `nodeId`)." }),
      reason: t.arg.string({ required: true, description: "Why, in words (kept in the audit log)." }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENT }),
    },
    resolve: (_root, { id, reason, idempotencyKey }, ctx) =>
      withOperationErrors(() =>
        rejectOperation(createPipeline({ db: ctx.db, logger: ctx.logger, live: ctx.liveSink }), decider(ctx), rawId(id, "ApprovalRequest") ?? String(id), reason, idempotencyKey),
      ),
  }),
);

function decider(ctx: Context) {
  return { institutionId: ctx.caller!.institutionId, apiKeyId: ctx.caller!.apiKeyId };
}

