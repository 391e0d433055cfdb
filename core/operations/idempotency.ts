import { createHash } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Database, DbTransaction } from "../db/index.ts";
import { idempotentRequests } from "../db/schema.ts";
import { canonicalJson } from "../metadata/canonical-json.ts";
import { OperationError } from "./errors.ts";
import { parseIdempotencyKey } from "./validate.ts";


/** The fingerprint of a request: sha256 of its canonical JSON, so key order and spacing never matter. */
export function requestHash(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

/** The refusal for a key sent again with a request other than the one it first came with. */
export function idempotencyConflict(): OperationError {
  return new OperationError("IDEMPOTENCY_CONFLICT", "this idempotencyKey was already used for a different request", "idempotencyKey");
}

/** Refuses when a stored request's fingerprint is not this one's. */
export function assertSameRequest(storedHash: string, hash: string): void {
  if (storedHash !== hash) throw idempotencyConflict();
}

export interface IdempotentRequest {
  /** Whose keys these are: `institution:<id>`, `operator`, `holder:<address>`. */
  scope: string;
  /** The caller's key; without one the change simply runs. */
  key?: string | null;
  /** The mutation, so one key cannot name two kinds of request. */
  operation: string;
  /** What makes two requests the same one (the arguments, normalized). */
  request: unknown;
}

/**
 * Runs a change at most once per key. The key is claimed first, in the change's own transaction: a concurrent
 * request with the same key waits on that claim and, once the first commits, answers what it produced (`replay`
 * of the stored `result`); a failed change rolls its claim back with it, so a retry runs afresh. The same key with
 * another request is IDEMPOTENCY_CONFLICT.
 */
export async function idempotent<T>(
  db: Database,
  req: IdempotentRequest,
  run: (tx: DbTransaction) => Promise<{ value: T; result: Record<string, unknown> }>,
  replay: (result: Record<string, unknown>) => Promise<T>,
): Promise<{ value: T; replayed: boolean }> {
  if (req.key == null) return { value: (await db.transaction(run)).value, replayed: false };
  const key = parseIdempotencyKey(req.key);
  const hash = requestHash({ operation: req.operation, request: req.request });
  const outcome = await db.transaction(async (tx) => {
    const [claimed] = await tx
      .insert(idempotentRequests)
      .values({ scope: req.scope, idempotencyKey: key, operation: req.operation, requestHash: hash, result: {} })
      .onConflictDoNothing()
      .returning({ id: idempotentRequests.id });
    if (!claimed) {
      const [earlier] = await tx
        .select()
        .from(idempotentRequests)
        .where(and(eq(idempotentRequests.scope, req.scope), eq(idempotentRequests.idempotencyKey, key)));
      if (earlier!.operation !== req.operation) throw idempotencyConflict();
      assertSameRequest(earlier!.requestHash, hash);
      return { replay: earlier!.result };
    }
    const { value, result } = await run(tx);
    await tx.update(idempotentRequests).set({ result }).where(eq(idempotentRequests.id, claimed.id));
    return { value };
  });
  return "replay" in outcome ? { value: await replay(outcome.replay!), replayed: true } : { value: outcome.value as T, replayed: false };
}
