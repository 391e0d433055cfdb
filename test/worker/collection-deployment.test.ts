import { UnrecoverableError } from "bullmq";
import { eq, like } from "drizzle-orm";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployIssuerRegistry } from "../../core/chain/deploy.ts";
import { certificateRegistryAt, chainRoleId } from "../../core/chain/certificate-registry.ts";
import { issuerRegistryAt } from "../../core/chain/issuer-registry.ts";
import { TxSender } from "../../core/chain/tx-sender.ts";
import { chainTxs, collections, webhookDeliveries, webhookEndpoints } from "../../core/db/schema.ts";
import { forgetEndpoints } from "../../core/webhooks/events.ts";
import { requestCreateCollection } from "../../core/operations/collections.ts";
import { OperationError } from "../../core/operations/errors.ts";
import { requestIssuanceBatch } from "../../core/operations/issue.ts";
import { requestRegisterInstitution, requestRoleChange } from "../../core/operations/operator-requests.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { firstOwnerKeys } from "../../server/auth/api-keys.ts";
import { CollectionStage } from "../../worker/collection-stage.ts";
import type { WorkerDeps } from "../../worker/deps.ts";
import { OperatorRequestConfirmer } from "../../worker/operator-request-confirmer.ts";
import { deployCollection } from "../../worker/processors/deploy-collection.ts";
import { operatorRequest } from "../../worker/processors/operator-request.ts";
import { TxMonitor } from "../../worker/tx-monitor.ts";
import { holderFor, startStageFixture, type StageFixture } from "../support/stage-fixture.ts";

/**
 * A collection created through the API: the deploy-collection job signs its contract's creation once with the admin
 * key, however often it runs; the collection stage records the contract the mined creation made, binds it to the
 * institution in the issuer registry and confirms the binding from the chain. Nothing is issued into it before.
 */
describe("collection deployment: one creation, bound in the issuer registry, CONFIRMED from the chain", () => {
  let fx: StageFixture;
  let deps: WorkerDeps;
  let issuerRegistry: string;
  let institutionId: string;
  let chainInstitutionId: string;

  /** Carries every stored transaction to its receipt, then runs the given stage once. */
  async function mineThen(stage: { tick(): Promise<void> }): Promise<void> {
    const monitor = new TxMonitor(deps, [deps.adminSender!]);
    for (let round = 0; (await deps.adminSender!.inFlightCount()) > 0; round++) {
      if (round === 20) throw new Error("transactions still in flight after 20 monitor ticks");
      await monitor.tick();
    }
    await stage.tick();
  }

  const collection = async (id: string) => (await fx.db.select().from(collections).where(eq(collections.id, id)))[0]!;
  const issueInto = (collectionId: string) =>
    requestIssuanceBatch({ db: fx.db, custody: deps.custody, quotas: fx.config.quotas }, institutionId, collectionId, [
      { idempotencyKey: `into-${collectionId}`, recipient: holderFor(), title: "Diploma" },
    ]);

  beforeAll(async () => {
    // A public URL, so that registries are created naming their ERC-7572 document.
    fx = await startStageFixture({ env: { PUBLIC_URL: "https://hallmark.example" } });
    const deployer = fx.chain.wallet(DEV_KEYS.deployer);
    ({ address: issuerRegistry } = await deployIssuerRegistry(deployer, { admin: deployer.address, operator: deployer.address }));
    const adminSender = new TxSender({ db: fx.db, provider: fx.chain.provider, wallet: deployer, chainId: fx.config.chain.chainId, logger: fx.deps.logger });
    deps = { ...fx.deps, adminSender, issuerRegistry };
    const registered = await requestRegisterInstitution(
      fx.db,
      { name: "Second College", slug: "second-college", identity: "second.example.edu", ownerEmail: "owner@second.example.edu", idempotencyKey: "second" },
      firstOwnerKeys,
    );
    institutionId = registered.institution.id;
    await operatorRequest(deps, { operationId: registered.operation.id });
    await mineThen(new OperatorRequestConfirmer(deps));
    chainInstitutionId = (await fx.db.query.institutions.findFirst({ where: (i, { eq }) => eq(i.id, institutionId) }))!.chainInstitutionId!;
    expect(chainInstitutionId).toBeTruthy();
    await fx.db.insert(webhookEndpoints).values({ institutionId, url: "https://example.test/hook", secret: "s" });
    forgetEndpoints(institutionId);
  });
  afterAll(async () => {
    await fx?.close();
  });

  it("creates a certificate registry with one creation however often its job runs, binds it, and confirms it; issuing waits for CONFIRMED", async () => {
    const { collection: requested, created } = await requestCreateCollection(fx.db, institutionId, { name: "Second Diplomas", symbol: "SEC", kind: "CERTIFICATE", idempotencyKey: "diplomas" }, fx.config.chain.chainId);
    expect(created).toBe(true);
    expect(requested).toMatchObject({ status: "QUEUED", contractAddress: null });
    await expect(issueInto(requested.id)).rejects.toMatchObject({ code: "COLLECTION_NOT_READY", details: { status: "QUEUED" } });
    await expect(requestRoleChange(fx.db, { collectionId: requested.id, role: "ISSUER", account: Wallet.createRandom().address, grant: true })).rejects.toMatchObject({ code: "COLLECTION_NOT_READY" });

    const job = { collectionId: requested.id };
    await Promise.all([deployCollection(deps, job), deployCollection(deps, job)]);
    await deployCollection(deps, job);
    const creations = await fx.db.select().from(chainTxs).where(like(chainTxs.purpose, `collection:create:${requested.id}`));
    expect(creations).toHaveLength(1);
    expect(creations[0]!.to).toBeNull();
    expect(await collection(requested.id)).toMatchObject({ status: "SUBMITTED", chainTxId: creations[0]!.id });
    await expect(issueInto(requested.id)).rejects.toMatchObject({ code: "COLLECTION_NOT_READY", details: { status: "SUBMITTED" } });

    // Two workers' stages see the creation mined at once: the binding is signed by one of them.
    const stage = new CollectionStage(deps);
    await mineThen({ tick: () => Promise.all([stage.tick(), new CollectionStage(deps).tick()]).then(() => {}) });
    const binding = await collection(requested.id);
    expect(binding.status).toBe("SUBMITTED");
    expect(binding.contractAddress).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(binding.deployTxHash).toBe(creations[0]!.txHash);
    await stage.tick();
    expect(await fx.db.select().from(chainTxs).where(like(chainTxs.purpose, `collection:bind:${requested.id}`))).toHaveLength(1);

    await mineThen(stage);
    const confirmed = await collection(requested.id);
    expect(confirmed).toMatchObject({ status: "CONFIRMED", error: null, contractAddress: binding.contractAddress });
    const registry = certificateRegistryAt(confirmed.contractAddress!, fx.chain.provider);
    expect(await registry.getFunction("name")()).toBe("Second Diplomas");
    expect(await registry.getFunction("contractURI")()).toBe(`https://hallmark.example/contracts/${fx.config.chain.chainId}/${confirmed.contractAddress!.toLowerCase()}/contract.json`);
    expect(await registry.getFunction("hasRole")(chainRoleId("ISSUER"), fx.sender.address)).toBe(true);
    const issuers = issuerRegistryAt(issuerRegistry, fx.chain.provider);
    expect(String(await issuers.getFunction("institutionOf")(confirmed.contractAddress!))).toBe(chainInstitutionId);
    expect(await issuers.getFunction("canIssue")(confirmed.contractAddress!)).toBe(true);

    const [issued] = await issueInto(requested.id);
    expect(issued!.error).toBeUndefined();
    expect(issued!.issuance).toMatchObject({ status: "QUEUED", collectionId: requested.id });

    // Told to the institution's webhooks like every operation: once per state, the contract with its CONFIRMED.
    const told = await fx.db.select().from(webhookDeliveries).where(like(webhookDeliveries.eventId, `evt_collection_${requested.id}_%`));
    expect(told.map((d) => d.eventType).sort()).toEqual(["collection.confirmed", "collection.submitted"]);
    const payload = told.find((d) => d.eventType === "collection.submitted")!.payload as { data: { collection: Record<string, unknown> } };
    expect(payload.data.collection).toMatchObject({ id: requested.id, status: "SUBMITTED", txHash: creations[0]!.txHash });
  });

  it("creates an anchored collection too; certificates are not issued into it one by one", async () => {
    const { collection: requested } = await requestCreateCollection(fx.db, institutionId, { name: "Second Transcripts", symbol: "STR", kind: "ANCHORED", idempotencyKey: "anchored" }, fx.config.chain.chainId);
    await deployCollection(deps, { collectionId: requested.id });
    const stage = new CollectionStage(deps);
    await mineThen(stage);
    await mineThen(stage);
    const confirmed = await collection(requested.id);
    expect(confirmed).toMatchObject({ status: "CONFIRMED", kind: "ANCHORED" });
    expect(await fx.chain.provider.getCode(confirmed.contractAddress!)).not.toBe("0x");
    await expect(issueInto(requested.id)).rejects.toMatchObject({ code: "BAD_USER_INPUT", field: "collectionId" });

    // The key that anchors batches is made an issuer of it by the operator; an anchor has no other role.
    const anchorKey = Wallet.createRandom().address;
    await expect(requestRoleChange(fx.db, { collectionId: requested.id, role: "MINTER", account: anchorKey, grant: true })).rejects.toMatchObject({ code: "BAD_USER_INPUT", field: "role" });
    const { operation } = await requestRoleChange(fx.db, { collectionId: requested.id, role: "ISSUER", account: anchorKey, grant: true });
    await operatorRequest(deps, { operationId: operation.id });
    await mineThen(new OperatorRequestConfirmer(deps));
    expect(await certificateRegistryAt(confirmed.contractAddress!, fx.chain.provider).getFunction("hasRole")(chainRoleId("ISSUER"), anchorKey)).toBe(true);
  });

  it("answers the same collection for the same idempotency key, and refuses another request under it", async () => {
    const input = { name: "Second Badges", symbol: "SBD", kind: "CERTIFICATE" as const, idempotencyKey: "badges" };
    const first = await requestCreateCollection(fx.db, institutionId, input, fx.config.chain.chainId);
    const again = await requestCreateCollection(fx.db, institutionId, input, fx.config.chain.chainId);
    expect(again).toMatchObject({ created: false, collection: { id: first.collection.id } });
    await expect(requestCreateCollection(fx.db, institutionId, { ...input, symbol: "OTHER" }, fx.config.chain.chainId)).rejects.toMatchObject({ code: "IDEMPOTENCY_CONFLICT" });
    await expect(requestCreateCollection(fx.db, institutionId, { ...input, symbol: "bad symbol", idempotencyKey: "x" }, fx.config.chain.chainId)).rejects.toBeInstanceOf(OperationError);
  });

  it("fails a collection for good, saying why, when the worker has no admin key: nothing is signed", async () => {
    const { collection: requested } = await requestCreateCollection(fx.db, institutionId, { name: "Keyless", symbol: "KEY", kind: "CERTIFICATE", idempotencyKey: "keyless" }, fx.config.chain.chainId);
    await expect(deployCollection({ ...deps, adminSender: undefined }, { collectionId: requested.id })).rejects.toBeInstanceOf(UnrecoverableError);
    expect(await collection(requested.id)).toMatchObject({ status: "FAILED", error: expect.stringContaining("no admin key"), chainTxId: null });
    expect(await fx.db.select().from(chainTxs).where(like(chainTxs.purpose, `collection:%:${requested.id}`))).toHaveLength(0);
    await expect(issueInto(requested.id)).rejects.toMatchObject({ code: "COLLECTION_NOT_READY", details: { status: "FAILED" } });
  });

  it("refuses a collection for an institution not yet registered on chain", async () => {
    const pending = await requestRegisterInstitution(
      fx.db,
      { name: "Pending College", slug: "pending-college", identity: "pending.example.edu", ownerEmail: "owner@pending.example.edu", idempotencyKey: "pending" },
      firstOwnerKeys,
    );
    await expect(
      requestCreateCollection(fx.db, pending.institution.id, { name: "Early", symbol: "EAR", kind: "CERTIFICATE", idempotencyKey: "early" }, fx.config.chain.chainId),
    ).rejects.toMatchObject({ code: "INSTITUTION_PENDING" });
  });
});
