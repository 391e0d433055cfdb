import { and, eq } from "drizzle-orm";
import { API_KEY_MAKERS, apiKeys, members, MEMBER_ROLES, type MemberRole } from "../../core/db/schema.ts";
import { OperationError } from "../../core/operations/errors.ts";
import { addMember, changeMemberRole, listMembers, ownedMember, removeMember, type Member } from "../../core/operations/members.ts";
import { parseIdempotencyKey } from "../../core/operations/validate.ts";
import { createApiKey, listApiKeys, revokeApiKey, ROLE_SCOPES, type ApiKeyRow } from "../auth/api-keys.ts";
import { API_KEY_SCOPES, type ApiKeyScope } from "../auth/caller.ts";
import type { Database } from "../../core/db/index.ts";
import { idempotencyConflict, idempotent } from "../../core/operations/idempotency.ts";
import { appendAuditEvent } from "../../core/audit/log.ts";
import { approvalGate } from "../../core/approvals/policies.ts";
import { queueOrHold } from "../../core/approvals/hold.ts";
import { requestHash } from "../../core/operations/idempotency.ts";
import { actorOf } from "../auth/actor.ts";
import { builder } from "../builder.ts";
import { keyScope, type Context } from "../context.ts";
import { ConflictError, IdempotencyConflictError, NotAllowedError, NotFoundError, notFound, withOperationErrors } from "../errors.ts";
import { describedValues } from "./enums.ts";
import { rawId } from "./ids.ts";
import { loaders, ownedRows } from "./loaders.ts";

const NAME_MAX = 100;
/** Keys live at most this long; longer-lived ones are refused (rotate instead). */
const MAX_KEY_LIFETIME_MS = 5 * 366 * 24 * 3600 * 1000;

const SCOPE_NAMES = ["READ", "ISSUE", "ADMIN"] as const;
const toScope = (s: (typeof SCOPE_NAMES)[number]) => s.toLowerCase() as ApiKeyScope;
const fromScope = (s: string) => s.toUpperCase() as (typeof SCOPE_NAMES)[number];

export const ApiKeyScopeEnum = builder.enumType("ApiKeyScope", {
  description: "What an API key may do. ADMIN implies READ and ISSUE.",
  values: describedValues(SCOPE_NAMES, {
    READ: "Read the institution's collections, issuances, certificates, quota.",
    ISSUE: "Issue and revoke certificates.",
    ADMIN: "Everything, plus API keys, members and webhooks.",
  }),
});

export const MemberRoleEnum = builder.enumType("MemberRole", {
  description: "A member's role. The keys made for a member get at most: VIEWER → READ; ISSUER → READ, ISSUE; OWNER → ADMIN.",
  values: describedValues(MEMBER_ROLES, {
    OWNER: "Runs the institution's account: keys, members, webhooks, and everything an issuer does. There is always at least one.",
    ISSUER: "Issues and revokes certificates, reads everything.",
    VIEWER: "Reads only.",
  }),
});

export const MemberRef = builder.node(builder.objectRef<Member>("Member"), {
  // Institution data: a key of the institution reads it only with READ, wherever it is reached from.
  authScopes: { readData: true },
  description: "A person of the institution, named by an Ethereum address (signs in with SIWE) or an e-mail address. Found by `node(id:)` only with an ADMIN key.",
  id: { resolve: (m) => m.id },
  loadMany: (ids, ctx) => ownedRows(ctx, members, ids, { admin: true }),
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier." }),
    address: t.exposeString("address", { nullable: true, description: "EIP-55 checksummed address, when named by one." }),
    email: t.exposeString("email", { nullable: true, description: "E-mail address (lower-cased), when named by one." }),
    role: t.field({ type: MemberRoleEnum, description: "The member's role.", resolve: (m) => m.role }),
    scopes: t.field({
      type: [ApiKeyScopeEnum],
      description: "The scopes keys made for this member may hold now (from its role).",
      resolve: (m) => ROLE_SCOPES[m.role].map(fromScope),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the member was added." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "Last change of role." }),
  }),
});

const ApiKeyMakerRef = builder.objectRef<ApiKeyRow>("ApiKeyMaker");

export const ApiKeyRef = builder.node(builder.objectRef<ApiKeyRow>("ApiKey"), {
  // Institution data: a key of the institution reads it only with READ, wherever it is reached from.
  authScopes: { readData: true },
  description: "An API key of the institution. The secret is shown once, by createApiKey, and never again. Found by `node(id:)` only with an ADMIN key.",
  id: { resolve: (k) => k.id },
  loadMany: (ids, ctx) => ownedRows(ctx, apiKeys, ids, { admin: true }),
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier; pass it to revokeApiKey." }),
    name: t.exposeString("name", { description: "Name, as given (stored and returned verbatim)." }),
    prefix: t.exposeString("prefix", { description: "The secret's first characters (`hm_xxxxxxxx`), to recognise it." }),
    approvalRequestId: t.id({
      nullable: true,
      description: "An ADMIN key made under the institution's ADMIN_API_KEY rule: the approval request it waits for; it authenticates nothing until approved (rejected or expired, it is revoked).",
      resolve: (k) => k.pendingApprovalId,
    }),
    scopes: t.field({ type: [ApiKeyScopeEnum], description: "Scopes it was made with.", resolve: (k) => k.scopes.map(fromScope) }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was made." }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true, description: "When it stops working; null: never." }),
    lastUsedAt: t.expose("lastUsedAt", {
      type: "DateTime",
      nullable: true,
      description: "Last request made with it, to the minute (written at most once a minute).",
    }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true, description: "When it was revoked; it works no more." }),
    member: t.field({
      type: MemberRef,
      nullable: true,
      description: "The member it acts for; its scopes never exceed what the member's role allows.",
      resolve: (k, _args, ctx) => (k.memberId ? loaders(ctx).member.load(k.memberId) : null),
    }),
    createdBy: t.field({
      type: ApiKeyMakerRef,
      description: "Who made it. It works only while its maker may still grant what it holds.",
      resolve: (k) => k,
    }),
  }),
});

const ApiKeyMakerKindEnum = builder.enumType("ApiKeyMakerKind", {
  description: "How an API key was made.",
  values: describedValues(API_KEY_MAKERS, {
    API_KEY: "By another key of the institution, through the API (`apiKey`, acting for `member` when it had one).",
    OPERATOR: "By the platform operator's command-line tools.",
    UNKNOWN: "Before makers were recorded: review it, and revoke it if nobody knows it.",
  }),
});

ApiKeyMakerRef.implement({
  description:
    "Who made an API key. Revoking the making key, or removing the making member, revokes the keys made by it (transitively); demoting that member narrows them at once.",
  fields: (t) => ({
    kind: t.field({ type: ApiKeyMakerKindEnum, description: "How it was made.", resolve: (k) => k.createdBy }),
    apiKey: t.field({
      type: ApiKeyRef,
      nullable: true,
      description: "The key that made it; null when made otherwise.",
      resolve: async (k, _args, ctx) => {
        if (!k.createdByKeyId) return null;
        const [maker] = await ctx.db
          .select()
          .from(apiKeys)
          .where(and(eq(apiKeys.id, k.createdByKeyId), eq(apiKeys.institutionId, k.institutionId)));
        return maker ?? null;
      },
    }),
    member: t.field({
      type: MemberRef,
      nullable: true,
      description: "The member whose authority made it (the making key's member); null when none, or removed (the key is then revoked).",
      resolve: (k, _args, ctx) => (k.createdByMemberId ? loaders(ctx).member.load(k.createdByMemberId) : null),
    }),
  }),
});

const CreateApiKeyInput = builder.inputType("CreateApiKeyInput", {
  description: "A new API key.",
  fields: (t) => ({
    name: t.string({ required: true, description: `What it is for, 1 to ${NAME_MAX} characters.` }),
    scopes: t.field({ type: [ApiKeyScopeEnum], required: true, description: "What it may do; at least one." }),
    expiresAt: t.field({ type: "DateTime", description: "When it stops working: in the future, at most 5 years ahead. Omitted: never." }),
    memberId: t.id({ description: "The member it acts for; its scopes must be within the member's role." }),
    idempotencyKey: t.string({
      required: true,
      description: "Your unique key for this request. Sent again, it answers with the key made the first time, without its secret.",
    }),
  }),
});

const CreateApiKeyPayload = builder
  .objectRef<{ apiKey: ApiKeyRow; secret: string | null; created: boolean }>("CreateApiKeyPayload")
  .implement({
    description: "Result of createApiKey.",
    fields: (t) => ({
      apiKey: t.field({ type: ApiKeyRef, description: "The key's record.", resolve: (p) => p.apiKey }),
      secret: t.exposeString("secret", {
        nullable: true,
        description: "The key itself, for `Authorization: Bearer …`: shown this once. Null when this names a key made earlier.",
      }),
      created: t.exposeBoolean("created", { description: "False when the idempotency key named a key made earlier." }),
    }),
  });

function parseName(value: string): string {
  const v = value.normalize("NFC").trim();
  if (!v) throw new OperationError("BAD_USER_INPUT", "name is required", "name");
  if (v.length > NAME_MAX) throw new OperationError("BAD_USER_INPUT", `name is longer than ${NAME_MAX} characters`, "name");
  if (/[\u0000-\u001F\u007F]/.test(v)) throw new OperationError("BAD_USER_INPUT", "name contains control characters", "name");
  return v;
}

async function requestApiKey(
  ctx: Context,
  input: { name: string; scopes: (typeof SCOPE_NAMES)[number][]; expiresAt?: Date | null; memberId?: string | number | null; idempotencyKey: string },
) {
  const institutionId = ctx.caller!.institutionId;
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  const name = parseName(input.name);
  if (!input.scopes.length) throw new OperationError("BAD_USER_INPUT", "scopes must not be empty", "scopes");
  if (new Set(input.scopes).size !== input.scopes.length) throw new OperationError("BAD_USER_INPUT", "scopes lists a scope more than once", "scopes");
  const scopes = API_KEY_SCOPES.filter((s) => input.scopes.map(toScope).includes(s));
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt) {
    if (expiresAt.getTime() <= Date.now()) throw new OperationError("BAD_USER_INPUT", "expiresAt must be in the future", "expiresAt");
    if (expiresAt.getTime() > Date.now() + MAX_KEY_LIFETIME_MS) throw new OperationError("BAD_USER_INPUT", "expiresAt is more than 5 years ahead", "expiresAt");
  }
  // Nobody makes a key that can do more than their own.
  const mine = ctx.caller!.scopes.includes("admin") ? API_KEY_SCOPES : ctx.caller!.scopes;
  if (scopes.some((s) => !mine.includes(s))) throw new OperationError("FORBIDDEN", "a key cannot be given scopes its creator lacks", "scopes");
  let memberId: string | null = null;
  if (input.memberId != null) {
    const member = await ownedMember(ctx.db, institutionId, rawId(input.memberId, "Member") ?? String(input.memberId)).catch(() => {
      throw new OperationError("NOT_FOUND", "member not found", "memberId");
    });
    const allowed = ROLE_SCOPES[member.role];
    if (scopes.some((s) => !allowed.includes(s))) {
      throw new OperationError("FORBIDDEN", `a ${member.role} member's keys may hold only ${allowed.join(", ")}`, "scopes");
    }
    memberId = member.id;
  }
  const [earlier] = await ctx.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.institutionId, institutionId), eq(apiKeys.idempotencyKey, idempotencyKey)));
  const same = (k: ApiKeyRow) =>
    k.name === name && k.scopes.join() === scopes.join() && (k.expiresAt?.getTime() ?? null) === (expiresAt?.getTime() ?? null) && k.memberId === memberId;
  if (earlier) {
    if (!same(earlier)) throw idempotencyConflict();
    return { apiKey: earlier, secret: null, created: false };
  }
  try {
    const actor = actorOf(ctx.caller!);
    return await ctx.db.transaction(async (tx) => {
      const made = await createApiKey(tx as unknown as Database, { institutionId, name, scopes, expiresAt, memberId, idempotencyKey, maker: ctx.caller! });
      // An ADMIN key under the institution's policy is made inert, and works once approved (core/approvals/).
      const gate = scopes.includes("admin") ? await approvalGate(tx, { institutionId, collectionId: null, action: "ADMIN_API_KEY", actor }) : null;
      const held = gate && (await queueOrHold(tx, gate, {
        institutionId,
        collectionId: null,
        action: "ADMIN_API_KEY",
        subjectKind: "apiKey",
        subjectId: made.id,
        actor,
        requestHash: requestHash({ createApiKey: { name, scopes, memberId, expiresAt: expiresAt?.toISOString() ?? null } }),
        release: [],
        data: { name, scopes, memberId },
      }));
      let row = made.row;
      if (held) [row] = await tx.update(apiKeys).set({ pendingApprovalId: held.id }).where(eq(apiKeys.id, made.id)).returning();
      await appendAuditEvent(tx, { institutionId, kind: "apiKey.created", actor, subject: { kind: "apiKey", id: made.id }, data: { name, scopes, memberId, awaitingApproval: !!held } });
      return { apiKey: row!, secret: made.key, created: true };
    });
  } catch (err) {
    // A concurrent request with the same idempotency key won the insert.
    const [raced] = await ctx.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.institutionId, institutionId), eq(apiKeys.idempotencyKey, idempotencyKey)));
    if (!raced) throw err;
    if (!same(raced)) throw idempotencyConflict();
    return { apiKey: raced, secret: null, created: false };
  }
}

builder.queryField("apiKeys", (t) =>
  t.field({
    type: [ApiKeyRef],
    description: "The institution's API keys, newest first, revoked ones included (never their secrets). Needs ADMIN.",
    authScopes: { scope: "admin" },
    resolve: (_root, _args, ctx) => listApiKeys(ctx.db, ctx.caller!.institutionId),
  }),
);

builder.mutationField("createApiKey", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, NotAllowedError] },
    type: CreateApiKeyPayload,
    description: "Makes an API key and shows its secret this once; it is stored only as a hash. Needs ADMIN.",
    authScopes: { scope: "admin" },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true, description: "The key to make." }) },
    resolve: (_root, { input }, ctx) => withOperationErrors(() => requestApiKey(ctx, input)),
  }),
);

builder.mutationField("revokeApiKey", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError] },
    type: ApiKeyRef,
    description: "Revokes an API key of the institution, and the keys made by it (transitively): every later request with them is UNAUTHENTICATED. Revoking again changes nothing. Needs ADMIN.",
    authScopes: { scope: "admin" },
    args: {
      id: t.arg.id({ required: true, description: "The key's id (`id` or `nodeId`)." }),
      idempotencyKey: t.arg.string({ description: "Your unique key for this request: sent again, it answers what the first answered; with another request, IDEMPOTENCY_CONFLICT." }),
    },
    resolve: (_root, { id, idempotencyKey }, ctx) =>
      withOperationErrors(async () => {
        const key = rawId(id, "ApiKey");
        const institutionId = ctx.caller!.institutionId;
        const revoke = async (db: Database) => {
          const row = key ? await revokeApiKey(db, institutionId, key) : undefined;
          if (!row) throw notFound("API key");
          return row;
        };
        const revokeAndRecord = (tx: Database) =>
          tx.transaction(async (inner) => {
            const row = await revoke(inner as unknown as Database);
            await appendAuditEvent(inner, { institutionId, kind: "apiKey.revoked", actor: actorOf(ctx.caller!), subject: { kind: "apiKey", id: row.id }, data: { name: row.name } });
            return row;
          });
        const { value } = await idempotent(
          ctx.db,
          { scope: keyScope(ctx), key: idempotencyKey, operation: "revokeApiKey", request: { id: key ?? String(id) } },
          async (tx) => ({ value: await revokeAndRecord(tx as unknown as Database), result: {} }),
          () => revoke(ctx.db),
        );
        return value;
      }),
  }),
);

builder.queryField("members", (t) =>
  t.field({
    type: [MemberRef],
    description: "The institution's members, oldest first. Needs ADMIN.",
    authScopes: { scope: "admin" },
    resolve: (_root, _args, ctx) => listMembers(ctx.db, ctx.caller!.institutionId),
  }),
);

const AddMemberInput = builder.inputType("AddMemberInput", {
  description: "A member to add: exactly one of `address` or `email`.",
  fields: (t) => ({
    address: t.string({ description: "Ethereum address (EIP-55 checksum when mixed-case; not the zero address)." }),
    email: t.string({ description: "E-mail address (kept lower-cased)." }),
    role: t.field({ type: MemberRoleEnum, required: true, description: "The member's role." }),
    idempotencyKey: t.string({ required: true, description: "Your unique key for this request." }),
  }),
});

const AddMemberPayload = builder.objectRef<{ member: Member; created: boolean }>("AddMemberPayload").implement({
  description: "Result of addMember.",
  fields: (t) => ({
    member: t.field({ type: MemberRef, description: "The member.", resolve: (p) => p.member }),
    created: t.exposeBoolean("created", { description: "False when this names a member added earlier." }),
  }),
});

builder.mutationField("addMember", (t) =>
  t.field({
    errors: { types: [IdempotencyConflictError, ConflictError] },
    type: AddMemberPayload,
    description: "Adds a member. The same person again with the same role answers with the member already there; with another role, CONFLICT. Needs ADMIN.",
    authScopes: { scope: "admin" },
    args: { input: t.arg({ type: AddMemberInput, required: true, description: "Who and with which role." }) },
    resolve: (_root, { input }, ctx) => withOperationErrors(() => addMember(ctx.db, ctx.caller!.institutionId, input, actorOf(ctx.caller!))),
  }),
);

builder.mutationField("changeMemberRole", (t) =>
  t.field({
    errors: { types: [NotFoundError, ConflictError, IdempotencyConflictError] },
    type: MemberRef,
    description: "Changes a member's role; the scopes of the keys made for it and by it follow at once. The last OWNER cannot be demoted (LAST_OWNER). Needs ADMIN.",
    authScopes: { scope: "admin" },
    args: {
      id: t.arg.id({ required: true, description: "The member's id." }),
      role: t.arg({ type: MemberRoleEnum, required: true, description: "The new role." }),
      idempotencyKey: t.arg.string({ description: "Your unique key for this request: sent again, it answers what the first answered; with another request, IDEMPOTENCY_CONFLICT." }),
    },
    resolve: (_root, { id, role, idempotencyKey }, ctx) =>
      withOperationErrors(async () => {
        const memberId = rawId(id, "Member") ?? String(id);
        const { value } = await idempotent(
          ctx.db,
          { scope: keyScope(ctx), key: idempotencyKey, operation: "changeMemberRole", request: { id: memberId, role } },
          async (tx) => ({ value: await changeMemberRole(tx as unknown as Database, ctx.caller!.institutionId, memberId, role as MemberRole, actorOf(ctx.caller!)), result: {} }),
          // A repeat answers the member as it stands now (the first request set the role asked for).
          () => ownedMember(ctx.db, ctx.caller!.institutionId, memberId),
        );
        return value;
      }),
  }),
);

builder.mutationField("removeMember", (t) =>
  t.field({
    errors: { types: [NotFoundError, ConflictError, IdempotencyConflictError] },
    type: MemberRef,
    description: "Removes a member and revokes the keys made for it, the keys it made, and the keys made by those. The last OWNER cannot be removed (LAST_OWNER). Needs ADMIN.",
    authScopes: { scope: "admin" },
    args: {
      id: t.arg.id({ required: true, description: "The member's id (`id` or `nodeId`)." }),
      idempotencyKey: t.arg.string({ description: "Your unique key for this request: sent again, it answers what the first answered; with another request, IDEMPOTENCY_CONFLICT." }),
    },
    resolve: (_root, { id, idempotencyKey }, ctx) =>
      withOperationErrors(async () => {
        const memberId = rawId(id, "Member") ?? String(id);
        const { value } = await idempotent(
          ctx.db,
          { scope: keyScope(ctx), key: idempotencyKey, operation: "removeMember", request: { id: memberId } },
          async (tx) => {
            const removed = await removeMember(tx as unknown as Database, ctx.caller!.institutionId, memberId, actorOf(ctx.caller!));
            // The row is gone: the answer is kept whole, to be given again.
            return { value: removed, result: { member: { ...removed, createdAt: removed.createdAt.toISOString(), updatedAt: removed.updatedAt.toISOString() } } };
          },
          async (result) => {
            const m = result.member as Member & { createdAt: string; updatedAt: string };
            return { ...m, createdAt: new Date(m.createdAt), updatedAt: new Date(m.updatedAt) };
          },
        );
        return value;
      }),
  }),
);
