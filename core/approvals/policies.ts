import { and, eq, isNull } from "drizzle-orm";
import type { Database, DbTransaction } from "../db/index.ts";
import type { Actor } from "../audit/log.ts";
import { APPROVAL_ACTIONS, approvalPolicies, MEMBER_ROLES, members, type ApprovalAction, type ApprovalRule, type MemberRole } from "../db/schema.ts";
import { OperationError } from "../operations/errors.ts";

/** How long a request waits for its approvals when the policy says nothing: three days, a long weekend. */
export const DEFAULT_APPROVAL_TTL_SECONDS = 3 * 24 * 3600;
/** The shortest wait a policy may set (short enough for drills and tests), and the longest. */
export const MIN_APPROVAL_TTL_SECONDS = 5;
export const MAX_APPROVAL_TTL_SECONDS = 30 * 24 * 3600;
/** The actions whose rules count items (`aboveItems`). */
const COUNTED: readonly ApprovalAction[] = ["BULK_ISSUANCE", "AIRDROP"];

export type ApprovalPolicy = typeof approvalPolicies.$inferSelect;

export interface ApprovalPolicyInput {
  rules: { action: string; required: number; approverRoles: string[]; aboveItems?: number | null }[];
  ttlSeconds?: number | null;
}

/** The rule that governs one request, how many approvals it needs from others, and how long it may wait. */
export interface Gate {
  rule: ApprovalRule;
  /** Approvals needed from members other than the requester: the rule's count, less the requester's own when its role counts. */
  needed: number;
  ttlSeconds: number;
  /** The policy it comes from (null: the implicit rule that guards a policy without a POLICY_CHANGE rule). */
  policyId: string | null;
}

/** Checks a policy as an owner sends it; every problem names its field. */
export function parseApprovalPolicy(input: ApprovalPolicyInput): { rules: ApprovalRule[]; ttlSeconds: number } {
  // A policy is narrowed, never removed: to hold nothing else, keep only the rule that guards its own change.
  if (!input.rules.length) throw new OperationError("BAD_USER_INPUT", "rules must list at least one rule (a POLICY_CHANGE rule alone holds nothing else)", "rules");
  if (input.rules.length > APPROVAL_ACTIONS.length) throw new OperationError("BAD_USER_INPUT", `rules lists at most one rule per action (${APPROVAL_ACTIONS.length})`, "rules");
  const seen = new Set<string>();
  const rules = input.rules.map((r, i): ApprovalRule => {
    const field = `rules[${i}]`;
    if (!(APPROVAL_ACTIONS as readonly string[]).includes(r.action)) throw new OperationError("BAD_USER_INPUT", `${field}.action is not an action`, `${field}.action`);
    const action = r.action as ApprovalAction;
    if (seen.has(action)) throw new OperationError("BAD_USER_INPUT", `${field}: ${action} has a rule already`, `${field}.action`);
    seen.add(action);
    if (!Number.isInteger(r.required) || r.required < 1 || r.required > 10) {
      throw new OperationError("BAD_USER_INPUT", `${field}.required must be between 1 and 10 approvals`, `${field}.required`);
    }
    const roles = [...new Set(r.approverRoles)];
    if (roles.length !== r.approverRoles.length) throw new OperationError("BAD_USER_INPUT", `${field}.approverRoles names a role twice`, `${field}.approverRoles`);
    if (!roles.length || roles.some((role) => !(MEMBER_ROLES as readonly string[]).includes(role))) {
      throw new OperationError("BAD_USER_INPUT", `${field}.approverRoles must name at least one member role`, `${field}.approverRoles`);
    }
    if (roles.includes("VIEWER")) throw new OperationError("BAD_USER_INPUT", `${field}.approverRoles: a VIEWER only reads, and cannot approve`, `${field}.approverRoles`);
    let aboveItems: number | null = null;
    if (r.aboveItems != null) {
      if (!COUNTED.includes(action)) throw new OperationError("BAD_USER_INPUT", `${field}.aboveItems applies to BULK_ISSUANCE and AIRDROP only`, `${field}.aboveItems`);
      // Zero would say "every request" a second way: that is an absent aboveItems.
      if (!Number.isInteger(r.aboveItems) || r.aboveItems < 1 || r.aboveItems > 10_000) {
        throw new OperationError("BAD_USER_INPUT", `${field}.aboveItems must be between 1 and 10000 (omit it to hold every request)`, `${field}.aboveItems`);
      }
      aboveItems = r.aboveItems;
    }
    return { action, required: r.required, approverRoles: roles as MemberRole[], ...(COUNTED.includes(action) ? { aboveItems } : {}) };
  });
  const ttlSeconds = input.ttlSeconds ?? DEFAULT_APPROVAL_TTL_SECONDS;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < MIN_APPROVAL_TTL_SECONDS || ttlSeconds > MAX_APPROVAL_TTL_SECONDS) {
    throw new OperationError("BAD_USER_INPUT", `ttlSeconds must be between ${MIN_APPROVAL_TTL_SECONDS} and ${MAX_APPROVAL_TTL_SECONDS}`, "ttlSeconds");
  }
  return { rules, ttlSeconds };
}

/** The policy in force for a collection: its own, else the institution's default (collection null). */
export async function policyFor(db: Database | DbTransaction, institutionId: string, collectionId: string | null): Promise<ApprovalPolicy | undefined> {
  if (collectionId) {
    const [own] = await db.select().from(approvalPolicies).where(and(eq(approvalPolicies.institutionId, institutionId), eq(approvalPolicies.collectionId, collectionId)));
    if (own) return own;
  }
  const [fallback] = await db.select().from(approvalPolicies).where(and(eq(approvalPolicies.institutionId, institutionId), isNull(approvalPolicies.collectionId)));
  return fallback;
}

/** The policy set exactly for `collectionId` (null: the default), without falling back. */
export async function ownPolicy(db: Database | DbTransaction, institutionId: string, collectionId: string | null): Promise<ApprovalPolicy | undefined> {
  const [row] = await db
    .select()
    .from(approvalPolicies)
    .where(and(eq(approvalPolicies.institutionId, institutionId), collectionId ? eq(approvalPolicies.collectionId, collectionId) : isNull(approvalPolicies.collectionId)));
  return row;
}

/**
 * Whether a request needs approval, and under which rule: the policy in force for its collection has a rule for
 * the action (and, for counted actions, the request has more items than the rule's `aboveItems`).
 */
export async function approvalGate(
  db: Database | DbTransaction,
  opts: { institutionId: string; collectionId: string | null; action: ApprovalAction; items?: number; actor: Actor },
): Promise<Gate | null> {
  const policy = await policyFor(db, opts.institutionId, opts.collectionId);
  if (!policy) return null;
  const rule = policy.rules.find((r) => r.action === opts.action);
  if (!rule) return null;
  if (rule.aboveItems != null && (opts.items ?? 1) <= rule.aboveItems) return null;
  return gateOf(db, rule, policy.ttlSeconds, policy.id, opts.actor);
}

/**
 * A rule's `required` counts distinct members who agree, the requester among them when its role is one the rule
 * names ("two of the OWNER and ISSUER members": an issuer asks, one other approves). Nothing to approve: no gate.
 */
async function gateOf(db: Database | DbTransaction, rule: ApprovalRule, ttlSeconds: number, policyId: string | null, actor: Actor): Promise<Gate | null> {
  const [requester] = actor.memberId ? await db.select({ role: members.role }).from(members).where(eq(members.id, actor.memberId)) : [];
  const counts = !!requester && rule.approverRoles.includes(requester.role);
  const needed = rule.required - (counts ? 1 : 0);
  return needed > 0 ? { rule, needed, ttlSeconds, policyId } : null;
}

/**
 * What changing a policy needs: its own POLICY_CHANGE rule; a policy with rules but none for its own change is
 * guarded anyway, by as many OWNERs as its strictest rule names members, so that no owner switches dual control off
 * alone. A collection without a policy of its own is governed by the default's, and so is its first policy.
 */
export async function policyChangeGate(db: Database | DbTransaction, institutionId: string, collectionId: string | null, actor: Actor): Promise<Gate | null> {
  const current = await policyFor(db, institutionId, collectionId);
  if (!current || !current.rules.length) return null;
  const own = current.rules.find((r) => r.action === "POLICY_CHANGE");
  if (own) return gateOf(db, own, current.ttlSeconds, current.id, actor);
  const required = Math.max(...current.rules.map((r) => r.required));
  return gateOf(db, { action: "POLICY_CHANGE", required, approverRoles: ["OWNER"] }, current.ttlSeconds, null, actor);
}
