import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { institutions, registryOperations } from "../db/schema.ts";
import { OperationError } from "./errors.ts";

/**
 * Refuses to record issuances for an institution the operator suspended, or is suspending (its suspension is
 * queued or on its way to the chain): nothing is queued for it until it is reactivated.
 */
export async function assertMayIssue(db: Database, institutionId: string): Promise<void> {
  const [row] = await db.select({ status: institutions.status }).from(institutions).where(eq(institutions.id, institutionId));
  if (!row) throw new OperationError("NOT_FOUND", "institution not found");
  if (row.status === "SUSPENDED") throw new OperationError("INSTITUTION_SUSPENDED", "the institution is suspended: it cannot issue until the operator reactivates it");
  if (row.status === "PENDING") {
    throw new OperationError("INSTITUTION_PENDING", "the institution is not yet registered on chain: it can issue once its registration is CONFIRMED");
  }
  const [suspending] = await db
    .select({ id: registryOperations.id })
    .from(registryOperations)
    .where(
      and(
        eq(registryOperations.institutionId, institutionId),
        eq(registryOperations.kind, "SUSPEND_INSTITUTION"),
        inArray(registryOperations.status, ["QUEUED", "SUBMITTED"]),
      ),
    )
    .limit(1);
  if (suspending) throw new OperationError("INSTITUTION_SUSPENDED", "the institution is being suspended: it cannot issue");
}
