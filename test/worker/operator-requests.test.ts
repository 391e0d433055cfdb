import { UnrecoverableError } from "bullmq";
import { eq, like } from "drizzle-orm";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployIssuerRegistry } from "../../core/chain/deploy.ts";
import { ChainInstitutionStatus, issuerRegistryAt } from "../../core/chain/issuer-registry.ts";
import { certificateRegistryAt, chainRoleId } from "../../core/chain/certificate-registry.ts";
import { TxSender } from "../../core/chain/tx-sender.ts";
import { chainTxs, institutions, registryOperations } from "../../core/db/schema.ts";
import { requestRegisterInstitution, requestRoleChange, requestStatusChange } from "../../core/operations/operator-requests.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { firstOwnerKeys } from "../../server/auth/api-keys.ts";
import type { WorkerDeps } from "../../worker/deps.ts";
import { operatorRequest } from "../../worker/processors/operator-request.ts";
import { OperatorRequestConfirmer } from "../../worker/operator-request-confirmer.ts";
import { TxMonitor } from "../../worker/tx-monitor.ts";
import { ACCOUNT_2_KEY } from "../support/test-chain.ts";
import { startStageFixture, type StageFixture } from "../support/stage-fixture.ts";

/**
 * The platform operator's requests on chain (registry operations): the operator-request processor signs each with the admin key, once
 * however often its job runs; the operator-request confirmer reads the outcome back from the chain and the database takes
 * what the chain says. A refusal or a missing admin key fails the operation for good, saying why.
 */
describe("operator requests: the operator's changes signed once, confirmed from what the chain holds", () => {
  let fx: StageFixture;
  let deps: WorkerDeps;
  let issuerRegistry: string;

  beforeAll(async () => {
    fx = await startStageFixture();
    const deployer = fx.chain.wallet(DEV_KEYS.deployer);
    ({ address: issuerRegistry } = await deployIssuerRegistry(deployer, { admin: deployer.address, operator: deployer.address }));
    const adminSender = new TxSender({ db: fx.db, provider: fx.chain.provider, wallet: deployer, chainId: fx.config.chain.chainId, logger: fx.deps.logger });
    deps = { ...fx.deps, adminSender, issuerRegistry };
  });
  afterAll(async () => {
    await fx?.close();
  });

  const operation = async (id: string) => (await fx.db.select().from(registryOperations).where(eq(registryOperations.id, id)))[0]!;

  /** Mines what the processor signed and lets the confirmer read it back. */
  async function confirm(): Promise<void> {
    const monitor = new TxMonitor(deps, [deps.adminSender!]);
    for (let round = 0; (await deps.adminSender!.inFlightCount()) > 0; round++) {
      if (round === 20) throw new Error("transactions still in flight after 20 monitor ticks");
      await monitor.tick();
    }
    await new OperatorRequestConfirmer(deps).tick();
  }

  it("grants a role on a collection's registry with one transaction, however often the job runs, and confirms it from the chain", async () => {
    const account = Wallet.createRandom().address;
    const { operation: requested } = await requestRoleChange(fx.db, { collectionId: fx.collection.id, role: "MINTER", account, grant: true });
    const job = { operationId: requested.id };
    await Promise.all([operatorRequest(deps, job), operatorRequest(deps, job)]);
    await operatorRequest(deps, job);

    const signed = await fx.db.select().from(chainTxs).where(like(chainTxs.purpose, `registry:GRANT_ROLE:${requested.id}`));
    expect(signed).toHaveLength(1);
    expect(await operation(requested.id)).toMatchObject({ status: "SUBMITTED", chainTxId: signed[0]!.id });
    expect(fx.logs.filter((l) => l.msg === "registry operation SUBMITTED" && l.registryOperationId === requested.id)).toHaveLength(1);

    await confirm();
    expect(await operation(requested.id)).toMatchObject({ status: "CONFIRMED", error: null });
    expect(await fx.registry.getFunction("hasRole")(chainRoleId("MINTER"), account)).toBe(true);
  });

  it("registers an institution, then suspends and reactivates it; the database follows the issuer registry each time", async () => {
    const { institution, operation: registration } = await requestRegisterInstitution(fx.db, {
      name: "Registered College",
      slug: "registered-college",
      identity: "registered.example.edu",
      ownerEmail: "registrar@registered.example.edu",
      idempotencyKey: "register-college",
    }, firstOwnerKeys);
    expect(institution.status).toBe("PENDING");
    await operatorRequest(deps, { operationId: registration.id });
    await confirm();
    expect(await operation(registration.id)).toMatchObject({ status: "CONFIRMED" });
    const [registered] = await fx.db.select().from(institutions).where(eq(institutions.id, institution.id));
    expect(registered!.status).toBe("ACTIVE");
    const onChain = issuerRegistryAt(issuerRegistry, fx.chain.provider);
    const record = await onChain.getFunction("institution")(BigInt(registered!.chainInstitutionId!));
    expect(record.name).toBe("Registered College");

    for (const [kind, status] of [["SUSPEND_INSTITUTION", "SUSPENDED"], ["REACTIVATE_INSTITUTION", "ACTIVE"]] as const) {
      const { operation: change } = await requestStatusChange(fx.db, { institutionId: institution.id, kind, reason: "audit" });
      await operatorRequest(deps, { operationId: change.id });
      await confirm();
      expect(await operation(change.id)).toMatchObject({ status: "CONFIRMED" });
      const [row] = await fx.db.select().from(institutions).where(eq(institutions.id, institution.id));
      expect(row!.status).toBe(status);
      expect(row!.suspendedReason).toBe(status === "SUSPENDED" ? "audit" : null);
      expect(ChainInstitutionStatus[Number((await onChain.getFunction("institution")(BigInt(registered!.chainInstitutionId!))).status)]).toBe(status);
    }
  });

  it("refuses a second institution under a did:web another already holds", async () => {
    const register = (slug: string, identity: string) =>
      requestRegisterInstitution(fx.db, { name: slug, slug, identity, ownerEmail: `owner@${slug}.example`, idempotencyKey: slug }, firstOwnerKeys);
    await register("web-first", "did:web:shared.example.edu");
    await expect(register("web-second", "did:web:shared.example.edu")).rejects.toMatchObject({ code: "CONFLICT", field: "identity" });
    // A plain domain is not a DID: two entries may name one (the DNS proof says which is genuine).
    await register("domain-first", "plain.example.edu");
    await expect(register("domain-second", "plain.example.edu")).resolves.toMatchObject({ created: true });
  });

  it("a change the contract refuses (a key without the admin role) fails for good with the contract's reason, and nothing is signed", async () => {
    const notAdmin = new TxSender({ db: fx.db, provider: fx.chain.provider, wallet: fx.chain.wallet(ACCOUNT_2_KEY), chainId: fx.config.chain.chainId, logger: fx.deps.logger });
    const { operation: requested } = await requestRoleChange(fx.db, { collectionId: fx.collection.id, role: "PAUSER", account: Wallet.createRandom().address, grant: true });
    await expect(operatorRequest({ ...deps, adminSender: notAdmin }, { operationId: requested.id })).rejects.toBeInstanceOf(UnrecoverableError);
    const failed = await operation(requested.id);
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toMatch(/^rejected by the contract: AccessControlUnauthorizedAccount\(/);
    expect(await fx.db.select().from(chainTxs).where(like(chainTxs.purpose, `%${requested.id}`))).toHaveLength(0);
    expect(await certificateRegistryAt(fx.collection.contractAddress, fx.chain.provider).getFunction("hasRole")(chainRoleId("PAUSER"), failed.params.account)).toBe(false);
  });

  it("without an admin key the operation fails for good, saying which setting is missing", async () => {
    const { operation: requested } = await requestRoleChange(fx.db, { collectionId: fx.collection.id, role: "ISSUER", account: Wallet.createRandom().address, grant: true });
    await expect(operatorRequest({ ...deps, adminSender: undefined }, { operationId: requested.id })).rejects.toBeInstanceOf(UnrecoverableError);
    expect(await operation(requested.id)).toMatchObject({ status: "FAILED", error: "no admin key is configured (ADMIN_PRIVATE_KEY or DEPLOYER_PRIVATE_KEY)" });
  });
});
