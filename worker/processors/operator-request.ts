import { UnrecoverableError } from "bullmq";
import { eq } from "drizzle-orm";
import { decodeAdminError, issuerRegistryInterface } from "../../core/chain/issuer-registry.ts";
import { certificateRegistryInterface, chainRoleId } from "../../core/chain/certificate-registry.ts";
import { describeContractError } from "../../core/chain/contract-errors.ts";
import type { TxSender } from "../../core/chain/tx-sender.ts";
import { collections, institutions, registryOperations } from "../../core/db/schema.ts";
import type { RegistryOperationJob } from "../../core/jobs.ts";
import { claimRow, sendOperation } from "../../core/chain/send-operation.ts";
import type { ChainRole, RegistryOperation } from "../../core/operations/operator-requests.ts";
import { transition } from "../../core/operations/transitions.ts";
import { pipelineOf, type WorkerDeps } from "../deps.ts";

const ready = new WeakMap<TxSender, Promise<void>>();

/** The admin key's nonce sequence, synced with the node once per process. */
export function initOnce(sender: TxSender): Promise<void> {
  let p = ready.get(sender);
  if (!p) {
    p = sender.init().catch((err) => {
      ready.delete(sender);
      throw err;
    });
    ready.set(sender, p);
  }
  return p;
}

export async function failOperation(deps: WorkerDeps, id: string, error: string): Promise<void> {
  await transition(pipelineOf(deps), "registryOperation", id, ["QUEUED"], "FAILED", { error });
}

export function issuerRegistryOf(deps: WorkerDeps): string | undefined {
  return deps.issuerRegistry ?? deps.config.chain.issuerRegistry;
}

/** The call an operation makes: on the issuer registry, or on a collection's certificate registry. */
async function callFor(deps: WorkerDeps, op: RegistryOperation): Promise<{ to: string; data: string } | string> {
  const [institution] = await deps.db.select().from(institutions).where(eq(institutions.id, op.institutionId));
  if (op.kind === "GRANT_ROLE" || op.kind === "REVOKE_ROLE") {
    const [collection] = await deps.db.select().from(collections).where(eq(collections.id, op.collectionId!));
    const fn = op.kind === "GRANT_ROLE" ? "grantRole" : "revokeRole";
    const data = certificateRegistryInterface().encodeFunctionData(fn, [chainRoleId(op.params.role as ChainRole), op.params.account]);
    // requestRoleChange accepts only a CONFIRMED collection, whose contract exists.
    return { to: collection!.contractAddress!, data };
  }
  const registry = issuerRegistryOf(deps);
  if (!registry) return "no issuer registry is configured (ISSUER_REGISTRY_ADDRESS)";
  const iface = issuerRegistryInterface();
  if (op.kind === "REGISTER_INSTITUTION") {
    // Collections still being created are bound by their own stage once their contract exists.
    const accounts = (await deps.db.select().from(collections).where(eq(collections.institutionId, op.institutionId))).flatMap((c) => (c.contractAddress ? [c.contractAddress] : []));
    return { to: registry, data: iface.encodeFunctionData("registerInstitution", [institution!.name, institution!.identity ?? "", accounts]) };
  }
  const chainId = BigInt(institution!.chainInstitutionId!);
  return op.kind === "SUSPEND_INSTITUTION"
    ? { to: registry, data: iface.encodeFunctionData("suspendInstitution", [chainId, op.params.reason ?? ""]) }
    : { to: registry, data: iface.encodeFunctionData("reactivateInstitution", [chainId]) };
}

/**
 * QUEUED → SUBMITTED: signs, stores and broadcasts the operator's call with the admin key, through the same
 * nonce-managed sender as issuance. The transaction monitor carries it to its receipt; the registry confirmer
 * reads the outcome back from the chain.
 */
export async function operatorRequest(deps: WorkerDeps, job: RegistryOperationJob): Promise<void> {
  const { db } = deps;
  const [op] = await db.select().from(registryOperations).where(eq(registryOperations.id, job.operationId));
  if (!op) throw new UnrecoverableError(`registry operation ${job.operationId} does not exist`);
  if (op.status !== "QUEUED" || op.chainTxId) return;
  const sender = deps.adminSender;
  if (!sender) {
    await failOperation(deps, op.id, "no admin key is configured (ADMIN_PRIVATE_KEY or DEPLOYER_PRIVATE_KEY)");
    throw new UnrecoverableError("no admin key");
  }
  await initOnce(sender);
  const call = await callFor(deps, op);
  if (typeof call === "string") {
    await failOperation(deps, op.id, call);
    throw new UnrecoverableError(call);
  }
  await pipelineOf(deps).afterCommit((within) => sendOperation(deps, sender, { ...call, purpose: `registry:${op.kind}:${op.id}` }, {
    claim: (tx) => claimRow(tx, registryOperations, op.id, ["QUEUED"]),
    record: async (tx, stored) => {
      await transition(within(tx), "registryOperation", op.id, ["QUEUED"], "SUBMITTED", { chainTxId: stored.id, txHash: stored.txHash }, { kind: op.kind });
    },
    refused: async (err) => {
      const decoded = decodeAdminError(err);
      if (!decoded) return false;
      const message = `rejected by the contract: ${describeContractError(decoded)}`;
      await failOperation(deps, op.id, message);
      throw new UnrecoverableError(message);
    },
  }));
}
