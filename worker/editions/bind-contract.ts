import { and, eq, isNotNull, sql } from "drizzle-orm";
import { describeContractError } from "../../core/chain/contract-errors.ts";
import { decodeAdminError, issuerRegistryInterface } from "../../core/chain/issuer-registry.ts";
import { sendOperation } from "../../core/chain/send-operation.ts";
import { chainTxs, editionContracts, institutions } from "../../core/db/schema.ts";
import type { WorkerDeps } from "../deps.ts";
import { issuerRegistryOf } from "../processors/operator-request.ts";

type Deps = Pick<WorkerDeps, "db" | "config" | "logger" | "provider" | "adminSender" | "issuerRegistry">;

/** The purpose an editions contract's binding to its institution is stored under: one an institution, ever. */
export function editionsBindPurpose(institutionId: string): string {
  return `editions:bind:${institutionId}`;
}

/**
 * Binds each institution's editions contract to the institution in the issuer registry, as a collection's
 * registry is bound: a gallery then names the museum from the chain (and says so when a contract is bound to no
 * one). Minting never waits for it. The binding is signed once (its stored transaction, found by purpose, is the
 * record; the transaction monitor carries it to the chain); an institution not registered on chain yet is bound
 * once it is. `refused` remembers, for this process, the contracts the registry refused, so they are not
 * estimated again every tick.
 */
export async function bindEditionContracts(deps: Deps, refused: Set<string>): Promise<void> {
  const registry = issuerRegistryOf(deps as WorkerDeps);
  const sender = deps.adminSender;
  if (!registry || !sender || !sender.health().canPay) return;
  const unbound = await deps.db
    .select({ contract: editionContracts.contractAddress, institutionId: editionContracts.institutionId, chainInstitutionId: institutions.chainInstitutionId })
    .from(editionContracts)
    .innerJoin(institutions, eq(institutions.id, editionContracts.institutionId))
    .where(
      and(
        isNotNull(institutions.chainInstitutionId),
        sql`not exists (select 1 from ${chainTxs} where ${chainTxs.purpose} = 'editions:bind:' || ${editionContracts.institutionId}::text)`,
      ),
    );
  for (const row of unbound) {
    if (refused.has(row.contract)) continue;
    const purpose = editionsBindPurpose(row.institutionId);
    const data = issuerRegistryInterface().encodeFunctionData("bindAccount", [BigInt(row.chainInstitutionId!), row.contract]);
    const stored = await sendOperation(deps, sender, { to: registry, data, purpose }, {
      claim: async (tx) => {
        // Under the institution's row lock: two workers never both sign it.
        await tx.select({ id: institutions.id }).from(institutions).where(eq(institutions.id, row.institutionId)).for("update");
        const [already] = await tx.select({ id: chainTxs.id }).from(chainTxs).where(eq(chainTxs.purpose, purpose));
        return !already;
      },
      record: async () => {},
      refused: async (err) => {
        const decoded = decodeAdminError(err);
        if (!decoded) return false;
        refused.add(row.contract);
        deps.logger.warn({ institutionId: row.institutionId, contract: row.contract, reason: describeContractError(decoded) }, "the issuer registry refused to bind an editions contract");
        return true;
      },
    });
    if (stored) deps.logger.info({ institutionId: row.institutionId, contract: row.contract, txHash: stored.txHash }, "editions contract binding sent");
  }
}
