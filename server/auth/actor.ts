import type { Actor } from "../../core/audit/log.ts";
import type { Caller } from "./caller.ts";

/** The caller as the audit log and approval requests name it: its member's authority, and the key itself. */
export function actorOf(caller: Caller): Actor {
  if (caller.operator) return { operator: true, apiKeyId: caller.apiKeyId };
  return { memberId: caller.memberId ?? null, apiKeyId: caller.apiKeyId };
}
