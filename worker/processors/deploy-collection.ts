import { UnrecoverableError } from "bullmq";
import { eq } from "drizzle-orm";
import { Interface } from "ethers";
import { loadArtifact } from "../../core/chain/artifacts.ts";
import { certificateAnchorCreation, certificateRegistryCreation, contractMetadataBase } from "../../core/chain/contract-creation.ts";
import { certificateRegistryInterface } from "../../core/chain/certificate-registry.ts";
import { decodeContractError, describeContractError } from "../../core/chain/contract-errors.ts";
import { claimRow, sendOperation } from "../../core/chain/send-operation.ts";
import { collections } from "../../core/db/schema.ts";
import type { DeployCollectionJob } from "../../core/jobs.ts";
import type { Collection } from "../../core/operations/collections.ts";
import { transition } from "../../core/operations/transitions.ts";
import { pipelineOf, type WorkerDeps } from "../deps.ts";
import { initOnce, issuerRegistryOf } from "./operator-request.ts";

export async function failCollection(deps: WorkerDeps, id: string, from: readonly ("QUEUED" | "SUBMITTED")[], error: string, set: Partial<Collection> = {}): Promise<void> {
  await transition(pipelineOf(deps), "collection", id, from, "FAILED", { ...set, error });
}

/**
 * The creation code of a collection's contract: the platform admin key as its admin (the operator's role changes
 * go through it), every issuing key of the worker as an issuer, and the issuer registry linked, so the contract
 * issues once it is bound to the institution there. A registry names its ERC-7572 document under the public URL
 * (an anchor is no token contract: it has none).
 */
function creationOf(collection: Collection, admin: string, issuers: string[], issuerRegistry: string, contractURIBase: string | undefined): string {
  return collection.kind === "ANCHORED"
    ? certificateAnchorCreation({ name: collection.name, admin, issuers, issuerRegistry })
    : certificateRegistryCreation({ name: collection.name, symbol: collection.symbol, admin, issuers, issuerRegistry, contractURIBase });
}

let anchorInterface: Interface | undefined;

/**
 * QUEUED → SUBMITTED: signs, stores and broadcasts the creation of the collection's contract with the admin key,
 * through the nonce-managed sender (a creation is stored signed and re-broadcast, never signed twice). The
 * collection stage (worker/collection-stage.ts) takes it from there: records the contract the mined creation
 * made, binds it to the institution in the issuer registry, and confirms the binding from the chain.
 */
export async function deployCollection(deps: WorkerDeps, job: DeployCollectionJob): Promise<void> {
  const [collection] = await deps.db.select().from(collections).where(eq(collections.id, job.collectionId));
  if (!collection) throw new UnrecoverableError(`collection ${job.collectionId} does not exist`);
  if (collection.status !== "QUEUED" || collection.chainTxId) return;
  const sender = deps.adminSender;
  const registry = issuerRegistryOf(deps);
  const missing = !sender
    ? "no admin key is configured (ADMIN_PRIVATE_KEY or DEPLOYER_PRIVATE_KEY)"
    : !registry
      ? "no issuer registry is configured (ISSUER_REGISTRY_ADDRESS)"
      : !deps.senders.length
        ? "the worker has no issuing keys to name as the contract's issuers"
        : undefined;
  if (missing) {
    await failCollection(deps, collection.id, ["QUEUED"], missing);
    throw new UnrecoverableError(missing);
  }
  await initOnce(sender!);
  const base = contractMetadataBase(deps.config.publicUrl, collection.chainId);
  const data = creationOf(collection, sender!.address, deps.senders.map((s) => s.address), registry!, base);
  await pipelineOf(deps).afterCommit((within) =>
    sendOperation(deps, sender!, { to: null, data, purpose: `collection:create:${collection.id}` }, {
      claim: (tx) => claimRow(tx, collections, collection.id, ["QUEUED"]),
      record: async (tx, stored) => {
        await transition(within(tx), "collection", collection.id, ["QUEUED"], "SUBMITTED", { chainTxId: stored.id, txHash: stored.txHash });
      },
      refused: async (err) => {
        anchorInterface ??= new Interface(loadArtifact("CertificateAnchor").abi);
        const decoded = decodeContractError(err, certificateRegistryInterface(), anchorInterface);
        if (!decoded) return false;
        const message = `the contract's creation was refused: ${describeContractError(decoded)}`;
        await failCollection(deps, collection.id, ["QUEUED"], message);
        throw new UnrecoverableError(message);
      },
    }),
  );
}
