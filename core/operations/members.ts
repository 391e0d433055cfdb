import { appendAuditEvent, type Actor } from "../audit/log.ts";
import { and, eq, sql } from "drizzle-orm";
import type { Database, DbTransaction } from "../db/index.ts";
import { isId } from "../db/ids.ts";
import { members, MEMBER_ROLES, type MemberRole } from "../db/schema.ts";
import { OperationError } from "./errors.ts";
import { parseAddress, parseIdempotencyKey } from "./validate.ts";
import { idempotencyConflict } from "./idempotency.ts";
import { revokeKeysAndTheirMakings } from "./api-key-revocation.ts";

export type Member = typeof members.$inferSelect;

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

export function parseEmail(value: string): string {
  const v = value.trim().toLowerCase();
  if (v.length > 254 || !EMAIL.test(v)) throw new OperationError("BAD_USER_INPUT", "email is not a valid e-mail address", "email");
  return v;
}

function parseRole(role: string): MemberRole {
  if (!(MEMBER_ROLES as readonly string[]).includes(role)) throw new OperationError("BAD_USER_INPUT", "role must be OWNER, ISSUER or VIEWER", "role");
  return role as MemberRole;
}

export async function listMembers(db: Database, institutionId: string): Promise<Member[]> {
  return db.select().from(members).where(eq(members.institutionId, institutionId)).orderBy(members.createdAt);
}

/**
 * Adds a member named by exactly one of an Ethereum address (EIP-55 when mixed-case, never zero) or an e-mail
 * address. The same idempotency key, or the same person with the same role, answers with the member already
 * there; the same person with another role is a CONFLICT (change the role instead).
 */
export async function addMember(
  db: Database,
  institutionId: string,
  input: { address?: string | null; email?: string | null; role: string; idempotencyKey: string },
  actor: Actor = {},
): Promise<{ member: Member; created: boolean }> {
  const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
  if ((input.address == null) === (input.email == null)) {
    throw new OperationError("BAD_USER_INPUT", "give exactly one of address or email", input.address == null ? "address" : "email");
  }
  const address = input.address != null ? parseAddress(input.address, "address") : null;
  const email = input.email != null ? parseEmail(input.email) : null;
  const role = parseRole(input.role);
  return db.transaction(async (tx) => {
    const [inserted] = await tx.insert(members).values({ institutionId, address, email, role, idempotencyKey }).onConflictDoNothing().returning();
    if (inserted) {
      await appendAuditEvent(tx, { institutionId, kind: "member.added", actor, subject: { kind: "member", id: inserted.id }, data: { role, address, email } });
      return { member: inserted, created: true };
    }
    const existing = await tx
      .select()
      .from(members)
      .where(
        and(
          eq(members.institutionId, institutionId),
          sql`(${members.idempotencyKey} = ${idempotencyKey} OR ${address ? sql`${members.address} = ${address}` : sql`${members.email} = ${email}`})`,
        ),
      );
    const same = existing.find((m) => m.address === address && m.email === email);
    const byKey = existing.find((m) => m.idempotencyKey === idempotencyKey);
    if (byKey && byKey !== same) {
      throw idempotencyConflict();
    }
    if (same && same.role === role) return { member: same, created: false };
    throw new OperationError("CONFLICT", `already a member, as ${same?.role}: use changeMemberRole`, address ? "address" : "email");
  });
}

export async function ownedMember(db: Database | DbTransaction, institutionId: string, id: string, lock = false): Promise<Member> {
  if (!isId(id)) throw new OperationError("NOT_FOUND", "member not found", "id");
  const q = db.select().from(members).where(and(eq(members.id, id), eq(members.institutionId, institutionId)));
  const [row] = lock ? await q.for("update") : await q;
  if (!row) throw new OperationError("NOT_FOUND", "member not found", "id");
  return row;
}

/**
 * Locks the institution's owners (always in id order, so two changes cannot deadlock) and then the member, and
 * refuses a change that would leave the institution without an owner.
 */
async function lockForChange(tx: DbTransaction, institutionId: string, id: string, losesOwner: (m: Member) => boolean): Promise<Member> {
  const owners = await tx
    .select({ id: members.id })
    .from(members)
    .where(and(eq(members.institutionId, institutionId), eq(members.role, "OWNER")))
    .orderBy(members.id)
    .for("update");
  const member = await ownedMember(tx, institutionId, id, true);
  if (member.role === "OWNER" && losesOwner(member) && !owners.some((o) => o.id !== member.id)) {
    throw new OperationError("LAST_OWNER", "an institution keeps at least one owner: make another member OWNER first", "id");
  }
  return member;
}

/**
 * Changes a member's role. Keys made for the member or by it keep their rows but are narrowed at once: every
 * request's scopes are cut to what each member on the key's chain of makers may still grant.
 */
export async function changeMemberRole(db: Database, institutionId: string, id: string, role: string, actor: Actor = {}): Promise<Member> {
  const to = parseRole(role);
  return db.transaction(async (tx) => {
    const member = await lockForChange(tx, institutionId, id, () => to !== "OWNER");
    if (member.role === to) return member;
    const [row] = await tx.update(members).set({ role: to, updatedAt: new Date() }).where(eq(members.id, member.id)).returning();
    await appendAuditEvent(tx, { institutionId, kind: "member.roleChanged", actor, subject: { kind: "member", id: member.id }, data: { from: member.role, to } });
    return row!;
  });
}

/**
 * Removes a member; the keys made for it, the keys it made, and every key made by those stop working at once (and
 * are marked revoked). Authentication checks the same chain, so a key this misses still cannot outlive its maker.
 */
export async function removeMember(db: Database, institutionId: string, id: string, actor: Actor = {}): Promise<Member> {
  return db.transaction(async (tx) => {
    const member = await lockForChange(tx, institutionId, id, () => true);
    await revokeKeysAndTheirMakings(tx, institutionId, sql`member_id = ${member.id} OR created_by_member_id = ${member.id}`);
    await tx.delete(members).where(eq(members.id, member.id));
    await appendAuditEvent(tx, { institutionId, kind: "member.removed", actor, subject: { kind: "member", id: member.id }, data: { role: member.role } });
    return member;
  });
}
