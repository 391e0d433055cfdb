import { eq } from "drizzle-orm";
import { ChainInstitutionStatus, issuerRegistryAt, issuerRegistryInterface } from "../core/chain/issuer-registry.ts";
import { certificateRegistryAt, chainRoleId } from "../core/chain/certificate-registry.ts";
import { chainTxs, collections, institutions, registryOperations } from "../core/db/schema.ts";
import type { ChainRole, RegistryOperation } from "../core/operations/operator-requests.ts";
import { transition } from "../core/operations/transitions.ts";
import { ChainConfirmer } from "./chain-confirmer.ts";
import type { WorkerDeps } from "./deps.ts";
import { issuerRegistryOf } from "./processors/operator-request.ts";

/**
 * SUBMITTED → CONFIRMED | FAILED for the operator's registry changes, from the chain: once the transaction is
 * mined (and deep enough), the registry is read back and the database takes what it says (an institution's id and
 * status, a role held or not), so the API's view follows the chain. A reverted transaction fails the operation;
 * a dropped one is sent again by the transaction monitor under a new nonce and followed there.
 */
export class OperatorRequestConfirmer extends ChainConfirmer {
  constructor(deps: WorkerDeps) {
    super("registry confirmer", deps);
  }

  async tick(): Promise<void> {
    const { db, provider, config } = this.deps;
    const rows = await db
      .select({ op: registryOperations, tx: chainTxs })
      .from(registryOperations)
      .innerJoin(chainTxs, eq(chainTxs.id, registryOperations.chainTxId))
      .where(eq(registryOperations.status, "SUBMITTED"));
    if (!rows.length) return;
    const head = await provider.getBlockNumber();
    for (const { op, tx } of rows) {
      if (tx.status === "REVERTED") await this.finish(op, "FAILED", `transaction ${tx.txHash} reverted`);
      else if (tx.status === "MINED" && tx.blockNumber != null && head - tx.blockNumber >= config.chain.confirmations) await this.confirm(op, tx.txHash);
    }
  }

  private async finish(op: RegistryOperation, to: "CONFIRMED" | "FAILED", error: string | null, institution?: Partial<typeof institutions.$inferInsert>): Promise<void> {
    await this.pipeline.transaction(async (ctx) => {
      const moved = await transition(ctx, "registryOperation", op.id, ["SUBMITTED"], to, { error }, { kind: op.kind });
      if (moved && institution) await ctx.db.update(institutions).set(institution).where(eq(institutions.id, op.institutionId));
    });
  }

  private async confirm(op: RegistryOperation, txHash: string): Promise<void> {
    const { db, provider } = this.deps;
    if (op.kind === "GRANT_ROLE" || op.kind === "REVOKE_ROLE") {
      const [collection] = await db.select().from(collections).where(eq(collections.id, op.collectionId!));
      const held = (await certificateRegistryAt(collection!.contractAddress!, provider).hasRole(chainRoleId(op.params.role as ChainRole), op.params.account)) as boolean;
      const wanted = op.kind === "GRANT_ROLE";
      await this.finish(op, "CONFIRMED", held === wanted ? null : `mined, but the role is ${held ? "held" : "not held"} now (changed since)`);
      return;
    }
    const address = issuerRegistryOf(this.deps)!;
    const registry = issuerRegistryAt(address, provider);
    let chainId: bigint | undefined;
    if (op.kind === "REGISTER_INSTITUTION") {
      const receipt = await provider.getTransactionReceipt(txHash);
      const iface = issuerRegistryInterface();
      for (const log of receipt?.logs ?? []) {
        const parsed = log.address.toLowerCase() === address.toLowerCase() ? iface.parseLog(log) : null;
        if (parsed?.name === "InstitutionRegistered") chainId = parsed.args[0] as bigint;
      }
      if (chainId === undefined) {
        await this.finish(op, "FAILED", `transaction ${txHash} registered no institution`);
        return;
      }
    } else {
      const [row] = await db.select().from(institutions).where(eq(institutions.id, op.institutionId));
      chainId = BigInt(row!.chainInstitutionId!);
    }
    const record = await registry.institution(chainId);
    const status = ChainInstitutionStatus[Number(record.status)];
    await this.finish(op, "CONFIRMED", null, {
      chainInstitutionId: chainId.toString(),
      status: status === "SUSPENDED" ? "SUSPENDED" : "ACTIVE",
      suspendedReason: status === "SUSPENDED" ? (op.params.reason ?? null) : null,
    });
  }
}
