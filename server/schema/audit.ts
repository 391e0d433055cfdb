import { and, asc, count, desc, eq, gt, gte, inArray, lt, type SQL } from "drizzle-orm";
import { GraphQLError } from "graphql";
import { AUDIT_EVENT_KINDS } from "../../core/audit/log.ts";
import { auditAnchors, auditEvents, members } from "../../core/db/schema.ts";
import { ownedRow } from "./ids.ts";
import { builder } from "../builder.ts";
import { describedValues } from "./enums.ts";
import { connectionFields, pageOf, pageSize, SortOrderEnum, type Page } from "./pagination.ts";

type AuditEventRow = typeof auditEvents.$inferSelect;

const AUDIT_KIND_NAMES = AUDIT_EVENT_KINDS.map((k) => k.replace(/[A-Z]/g, (c) => `_${c}`).replace(".", "_").toUpperCase()) as string[];
const kindOfName = new Map(AUDIT_KIND_NAMES.map((n, i) => [n, AUDIT_EVENT_KINDS[i]!]));
const nameOfKind = new Map(AUDIT_EVENT_KINDS.map((k, i) => [k as string, AUDIT_KIND_NAMES[i]!]));

const AuditEventKindEnum = builder.enumType("AuditEventKind", {
  description: "What an audit event records (`kind` in the export is the dotted form, e.g. OPERATION_REQUESTED is `operation.requested`).",
  values: describedValues(AUDIT_KIND_NAMES, Object.fromEntries(AUDIT_KIND_NAMES.map((n, i) => [n, `\`${AUDIT_EVENT_KINDS[i]}\`.`]))),
});

const AuditAnchorRef = builder.objectRef<typeof auditAnchors.$inferSelect>("AuditAnchor").implement({
  description: "A Merkle root over a range of the audit log, anchored on chain by the issuer registry's `AuditLogAnchored` event.",
  fields: (t) => ({
    root: t.exposeString("root", { description: "The Merkle root (sorted-pair keccak256) over the events' hashes." }),
    firstSeq: t.exposeInt("firstSeq", { description: "The first event covered." }),
    lastSeq: t.exposeInt("lastSeq", { description: "The last event covered." }),
    status: t.exposeString("status", { description: "QUEUED, SUBMITTED, CONFIRMED (on chain) or FAILED (its events go to the next root)." }),
    txHash: t.exposeString("txHash", { nullable: true, description: "The anchoring transaction." }),
    blockNumber: t.exposeInt("blockNumber", { nullable: true, description: "Its block, once CONFIRMED." }),
  }),
});

const AuditEventRef = builder.objectRef<AuditEventRow>("AuditEvent").implement({
  description: "One administrative action in the institution's append-only audit log, chained to the one before by hash.",
  fields: (t) => ({
    seq: t.exposeInt("seq", { description: "Its place in the log, from 1." }),
    kind: t.field({ type: AuditEventKindEnum, description: "What happened.", resolve: (e) => nameOfKind.get(e.kind) ?? e.kind }),
    actor: t.exposeString("actor", { description: "Who: `member:<id>`, `apiKey:<id>` (a key acting for no member), `operator` or `worker`." }),
    actorMemberId: t.id({ nullable: true, description: "The member, when one acted.", resolve: (e) => e.actorMemberId }),
    actorApiKeyId: t.id({ nullable: true, description: "The key it came through.", resolve: (e) => e.actorKeyId }),
    subjectKind: t.exposeString("subjectKind", { nullable: true, description: "What it acted on (revocation, certificateOperation, apiKey, member, approvalPolicy, …)." }),
    subjectId: t.exposeString("subjectId", { nullable: true, description: "Its id." }),
    data: t.field({ type: "JSON", description: "The details, as hashed.", resolve: (e) => e.data }),
    requestHash: t.exposeString("requestHash", { nullable: true, description: "The fingerprint of the request that caused it." }),
    at: t.expose("at", { type: "DateTime", description: "When, as recorded in the transaction of the change." }),
    prevHash: t.exposeString("prevHash", { description: "The previous event's hash (64 zeros for the first)." }),
    hash: t.exposeString("hash", { description: "sha256 of the event's canonical JSON (see the API guide, Audit log)." }),
    anchor: t.field({
      type: AuditAnchorRef,
      nullable: true,
      description: "The on-chain root covering it, once one was cut.",
      resolve: async (e, _a, ctx) => (e.anchorId ? ((await ctx.db.select().from(auditAnchors).where(eq(auditAnchors.id, e.anchorId)))[0] ?? null) : null),
    }),
  }),
});

const AuditLogFilter = builder.inputType("AuditLogFilter", {
  description: "Narrows the audit log; every field given must hold.",
  fields: (t) => ({
    kinds: t.field({ type: [AuditEventKindEnum], description: "Only these kinds." }),
    actor: t.string({ description: "Only this actor, as `actor` names it (`member:<id>`, `apiKey:<id>`, `operator`, `worker`)." }),
    memberId: t.id({ description: "Only actions of this member (through any key)." }),
    from: t.field({ type: "DateTime", description: "Only events at or after this instant." }),
    to: t.field({ type: "DateTime", description: "Only events before this instant." }),
  }),
});

function badInput(message: string, field: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", field } });
}
const encode = (seq: number) => Buffer.from(`audit:${seq}`).toString("base64url");
function decode(cursor: string, field: string): number {
  const m = /^audit:(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw badInput(`${field} is not a cursor of this connection`, field);
  return Number(m[1]);
}

builder.queryField("auditLog", (t) =>
  t.connection(
    {
      type: AuditEventRef,
      description:
        "The institution's audit log, a page at a time, in log order (oldest first unless `orderBy: DESC`). Needs ADMIN. The whole log, with Merkle proofs, is exported as JSON Lines at `GET /audit-log.jsonl`.",
      authScopes: { scope: "admin" },
      args: {
        filter: t.arg({ type: AuditLogFilter, description: "Which events; all when omitted." }),
        orderBy: t.arg({ type: SortOrderEnum, defaultValue: "ASC", description: "By sequence." }),
      },
      resolve: async (_root, args, ctx): Promise<Page<AuditEventRow>> => {
        const f = args.filter;
        const where: (SQL | undefined)[] = [eq(auditEvents.institutionId, ctx.caller!.institutionId)];
        if (f?.kinds?.length) where.push(inArray(auditEvents.kind, f.kinds.map((k) => kindOfName.get(k) ?? k)));
        if (f?.actor) where.push(eq(auditEvents.actor, f.actor));
        // A member of another institution is not found, as anywhere else.
        if (f?.memberId != null) where.push(eq(auditEvents.actorMemberId, (await ownedRow(ctx, members, f.memberId, "member")).id));
        if (f?.from) where.push(gte(auditEvents.at, f.from));
        if (f?.to) where.push(lt(auditEvents.at, f.to));
        const filtered = and(...where);
        const { size, fromEnd } = pageSize(args);
        const order = args.orderBy ?? "ASC";
        const after = args.after != null ? decode(args.after, "after") : undefined;
        const before = args.before != null ? decode(args.before, "before") : undefined;
        const later = (s: number) => (order === "ASC" ? gt(auditEvents.seq, s) : lt(auditEvents.seq, s));
        const earlier = (s: number) => (order === "ASC" ? lt(auditEvents.seq, s) : gt(auditEvents.seq, s));
        const ascending = (order === "ASC") !== fromEnd;
        const rows = await ctx.db
          .select()
          .from(auditEvents)
          .where(and(filtered, after !== undefined ? later(after) : undefined, before !== undefined ? earlier(before) : undefined))
          .orderBy(ascending ? asc(auditEvents.seq) : desc(auditEvents.seq))
          .limit(size + 1);
        return pageOf(rows, {
          size,
          fromEnd,
          after: after !== undefined,
          before: before !== undefined,
          edge: (r) => ({ cursor: encode(r.seq), node: r }),
          totalCount: () => ctx.db.select({ n: count() }).from(auditEvents).where(filtered).then((r) => r[0]!.n),
        });
      },
    },
    { name: "AuditEventConnection", description: "A page of audit events.", fields: connectionFields },
    { name: "AuditEventEdge", description: "An audit event and its cursor." },
  ),
);
