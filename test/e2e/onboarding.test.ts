import { join } from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_KEYS, type EmbeddedChain } from "../../scripts/dev/chain.ts";
import type { EmbeddedRedis } from "../../scripts/dev/redis.ts";
import { graphqlClient, subscribeOverSse } from "../support/graphql-http.ts";
import { PlatformProcesses } from "../support/platform-processes.ts";
import { type TestPostgres } from "../support/postgres.ts";
import { startProductionServices, type ProductionServices } from "../support/production-services.ts";
import { within } from "../support/stage-fixture.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

const REGISTER = `mutation($input: RegisterInstitutionInput!) {
  registerInstitution(input: $input) { ... on InstitutionOperationPayload { created ownerApiKey institution { id status } operation { id status } } ... on Error { __typename code message field } }
}`;
const INSTITUTIONS = `{ institutions { id status } }`;
const COLLECTION_FIELDS = `id name symbol kind status contractAddress deployBlock txHash error`;
const CREATE = `mutation($input: CreateCollectionInput!) {
  createCollection(input: $input) { ... on CreateCollectionPayload { created collection { ${COLLECTION_FIELDS} } } ... on Error { __typename code message field } }
}`;
const COLLECTION = `query($id: ID!) { collection(id: $id) { ${COLLECTION_FIELDS} } }`;
const ISSUE = `mutation($input: IssueCertificateInput!) {
  issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id status } } ... on CollectionNotReadyError { status } ... on Error { __typename code message field } }
}`;
const ISSUANCE = `query($id: ID!) { issuance(id: $id) { status error certificate { id } } }`;
const VERIFY = `query($id: ID!) { verify(id: $id) { verdict checks { name result reason } certificate { issuerName collectionName } chain { contract } } }`;
const LIVE = `subscription { operationsUpdated { kind id status collection { status contractAddress } } }`;

/**
 * A second institution onboarded from nothing, over HTTP only: the operator registers it and hands over the first
 * OWNER key; with that key it creates a collection (its contract created and bound on chain by the worker), issues
 * into it, and anyone verifies the certificate, which names the institution.
 */
describe("self-service onboarding over HTTP", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let operator: ReturnType<typeof graphqlClient>;
  let owner: ReturnType<typeof graphqlClient>;
  let ownerKey: string;
  let institutionId: string;
  const NAME = "Hochschule Zweite";

  const collection = async (id: string) => (await owner.ok<{ collection: any }>(COLLECTION, { id })).collection;
  const settledCollection = (id: string) => waitFor(() => collection(id), (c) => c.status === "CONFIRMED" || c.status === "FAILED", 60_000);

  beforeAll(async () => {
    stack = await startTestStack();
    operator = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.operatorKey);
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("registers a second institution and answers its first OWNER key once", async () => {
    const input = { name: NAME, slug: "hochschule-zweite", identity: "zweite.example.edu", ownerEmail: "rektorat@zweite.example.edu", idempotencyKey: "onboard-zweite" };
    const { registerInstitution: res } = await operator.ok<{ registerInstitution: any }>(REGISTER, { input });
    expect(res).toMatchObject({ created: true, institution: { status: "PENDING" } });
    expect(res.ownerApiKey).toMatch(/^hm_/);
    ownerKey = res.ownerApiKey;
    institutionId = res.institution.id;
    owner = graphqlClient(stack.devInfo.graphqlUrl, ownerKey);
    expect((await operator.ok<{ registerInstitution: any }>(REGISTER, { input })).registerInstitution).toMatchObject({ created: false, ownerApiKey: null });

    await waitFor(
      async () => (await operator.ok<{ institutions: any[] }>(INSTITUTIONS)).institutions.find((i) => i.id === institutionId),
      (i) => i.status === "ACTIVE",
    );
    expect((await owner.ok<{ viewer: any }>(`{ viewer { id name status } }`)).viewer).toEqual({ id: institutionId, name: NAME, status: "ACTIVE" });
  });

  it("creates a CERTIFICATES collection: QUEUED, SUBMITTED, CONFIRMED told live; issuing before CONFIRMED is COLLECTION_NOT_READY", async () => {
    const live = subscribeOverSse(stack.devInfo.graphqlUrl, ownerKey, LIVE, "operationsUpdated");
    try {
      // The subscription is open before the collection is asked for (its first keep-alive has come back).
      await new Promise((r) => setTimeout(r, 500));
      const input = { name: "Zweite Diplome", symbol: "ZWD", kind: "CERTIFICATES", idempotencyKey: "diplome" };
      const { createCollection: res } = await owner.ok<{ createCollection: any }>(CREATE, { input });
      expect(res).toMatchObject({ created: true, collection: { name: "Zweite Diplome", symbol: "ZWD", kind: "CERTIFICATES", status: "QUEUED", contractAddress: null, deployBlock: null } });
      const id = res.collection.id;

      const { body } = await owner.raw(ISSUE, { input: { collectionId: id, recipient: Wallet.createRandom().address, title: "Too early", idempotencyKey: "too-early" } });
      const refused = (body.data as any).issueCertificate;
      expect(refused).toMatchObject({ __typename: "CollectionNotReadyError", code: "COLLECTION_NOT_READY", field: "collectionId" });
      expect(["QUEUED", "SUBMITTED"]).toContain(refused.status);

      // The same key again answers the same collection; another request under it is refused.
      expect((await owner.ok<{ createCollection: any }>(CREATE, { input })).createCollection).toMatchObject({ created: false, collection: { id } });
      expect((await owner.fails(CREATE, { input: { ...input, symbol: "OTHER" } })).code).toBe("IDEMPOTENCY_CONFLICT");

      const confirmed = await settledCollection(id);
      expect(confirmed).toMatchObject({ status: "CONFIRMED", error: null });
      expect(confirmed.contractAddress).toMatch(/^0x[0-9a-fA-F]{40}$/);
      expect(confirmed.deployBlock).toBeGreaterThan(0);
      await waitFor(async () => live.seen.filter((e) => e?.kind === "COLLECTION" && e.id === id).map((e) => e.status), (s) => s.includes("CONFIRMED"), 10_000);
      const told = live.seen.filter((e) => e?.kind === "COLLECTION" && e.id === id);
      expect([...new Set(told.map((e) => e.status))]).toEqual(["SUBMITTED", "CONFIRMED"]);
      expect(told.at(-1).collection).toEqual({ status: "CONFIRMED", contractAddress: confirmed.contractAddress });
    } finally {
      live.close();
    }
  });

  it("issues a certificate with the owner key into the confirmed collection; it is CONFIRMED and verifies, naming the institution", async () => {
    const { collections } = await owner.ok<{ collections: any }>(`{ collections { edges { node { id status } } } }`);
    const target = collections.edges.map((e: any) => e.node).find((c: any) => c.status === "CONFIRMED");
    const { issueCertificate: res } = await owner.ok<{ issueCertificate: any }>(ISSUE, {
      input: { collectionId: target.id, recipient: Wallet.createRandom().address, title: "Bachelor of Science", recipientName: "Ada Zweite", idempotencyKey: "first-certificate" },
    });
    expect(res.issuance.status).toBe("QUEUED");
    const done = await waitFor(async () => (await owner.ok<{ issuance: any }>(ISSUANCE, { id: res.issuance.id })).issuance, (i) => i.status === "CONFIRMED" || i.status === "FAILED", 60_000);
    expect(done).toMatchObject({ status: "CONFIRMED", error: null });
    const { verify } = await graphqlClient(stack.devInfo.graphqlUrl).ok<{ verify: any }>(VERIFY, { id: done.certificate.id });
    expect(verify.verdict, JSON.stringify(verify.checks)).toBe("VALID");
    expect(verify.certificate).toMatchObject({ issuerName: NAME, collectionName: "Zweite Diplome" });
    expect(verify.checks.find((c: any) => c.name === "issuer")).toMatchObject({ result: "valid", reason: expect.stringContaining(`"${NAME}" (zweite.example.edu), registered and active`) });
    expect(verify.chain.contract.toLowerCase()).toBe((await collection(target.id)).contractAddress.toLowerCase());
  });

  it("creates an ANCHORED collection too, which takes no single certificates", async () => {
    const { createCollection: res } = await owner.ok<{ createCollection: any }>(CREATE, { input: { name: "Zweite Transcripts", symbol: "ZWT", kind: "ANCHORED", idempotencyKey: "anchored" } });
    expect(res.collection).toMatchObject({ kind: "ANCHORED", status: "QUEUED" });
    const confirmed = await settledCollection(res.collection.id);
    expect(confirmed).toMatchObject({ status: "CONFIRMED", error: null });
    expect(await stack.provider.getCode(confirmed.contractAddress)).not.toBe("0x");
    const refused = await owner.fails(ISSUE, { input: { collectionId: res.collection.id, recipient: Wallet.createRandom().address, title: "One", idempotencyKey: "into-anchor" } });
    expect([refused.code, refused.extensions.field]).toEqual(["BAD_USER_INPUT", "collectionId"]);
  });

  it("refuses bad collections with typed errors, and keys without ADMIN", async () => {
    const base = { name: "Good", symbol: "GOOD", kind: "CERTIFICATES", idempotencyKey: "bad" };
    for (const [input, field] of [
      [{ name: "" }, "name"],
      [{ name: "x".repeat(129) }, "name"],
      [{ name: "tab\there" }, "name"],
      [{ symbol: "lower" }, "symbol"],
      [{ symbol: "TOOLONGSYMBOL" }, "symbol"],
      [{ symbol: "" }, "symbol"],
      [{ idempotencyKey: " " }, "idempotencyKey"],
    ] as const) {
      const e = await owner.fails(CREATE, { input: { ...base, ...input } });
      expect([e.code, e.extensions.field], JSON.stringify(input)).toEqual(["BAD_USER_INPUT", field]);
    }
    expect((await owner.raw(CREATE, { input: { ...base, kind: "NFTS" } })).status).toBe(400);
    expect((await operator.fails(CREATE, { input: base })).code).toBe("FORBIDDEN");
    // A key the owner makes for issuing (read and issue) may not create collections.
    const { createApiKey } = await owner.ok<{ createApiKey: any }>(
      `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { ... on CreateApiKeyPayload { secret } ... on Error { __typename code message field } } }`,
      { i: { name: "registrar office", scopes: ["READ", "ISSUE"], idempotencyKey: "issuing-key" } },
    );
    expect((await graphqlClient(stack.devInfo.graphqlUrl, createApiKey.secret).fails(CREATE, { input: base })).code).toBe("FORBIDDEN");
  });
});

/**
 * The same onboarding on the production processes, as the README's "Running in production" has an operator run
 * them: `npm run migrate` and `npm run deploy` (the operator's issuer registry and first operator key, nothing of
 * any institution) on an empty PostgreSQL, Redis and JSON-RPC chain, then `npm start` and `npm run worker`; from
 * there on GraphQL alone, from the operator's key to an institution's first verified certificate.
 */
describe("self-service onboarding on npm start and npm run worker", () => {
  let pg: TestPostgres;
  let redis: EmbeddedRedis;
  let chain: EmbeddedChain;
  let dir: string;
  let services: ProductionServices | undefined;
  const processes = new PlatformProcesses();
  let issuerRegistry: string | undefined;

  const env = (name: string) => ({
    PATH: process.env.PATH,
    NODE_ENV: "test",
    LOG_LEVEL: "error",
    HALLMARK_DATA_DIR: join(dir, name),
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    CHAIN_RPC_URL: chain.rpcUrl,
    CHAIN_ID: "31337",
    DEPLOYER_PRIVATE_KEY: DEV_KEYS.deployer,
    ADMIN_PRIVATE_KEY: DEV_KEYS.deployer,
    SIGNER_PRIVATE_KEY: DEV_KEYS.minter,
    HOST: "127.0.0.1",
    PORT: "0",
    BATCH_WINDOW_MS: "50",
    ...(issuerRegistry ? { ISSUER_REGISTRY_ADDRESS: issuerRegistry } : {}),
  });

  beforeAll(async () => {
    services = await startProductionServices("hallmark-onboarding-");
    ({ pg, redis, chain, dir } = services);
  }, 60_000);
  afterAll(async () => {
    await processes.stopAll();
    await services?.stop();
  });

  it("takes an institution from the operator's registration to a verified certificate", async () => {
    const migrate = processes.run("scripts/migrate.ts", env("migrate"));
    expect(await within(migrate.exited, 30_000, "npm run migrate"), migrate.stderr).toBe(0);
    // The operator's contracts and first operator key; no institution exists yet.
    const deploy = processes.run("scripts/deploy.ts", env("deploy"), ["--out", join(dir, "deployments")]);
    expect(await within(deploy.exited, 60_000, "npm run deploy"), deploy.stderr).toBe(0);
    const deployed = JSON.parse(deploy.stdout) as { issuerRegistry: string; operatorApiKey: string | null };
    expect(deployed.operatorApiKey).toMatch(/^hm_/);
    issuerRegistry = deployed.issuerRegistry;
    // Run again, as a release pipeline would: the same registry is checked, no second operator key appears.
    const again = processes.run("scripts/deploy.ts", env("deploy-again"), ["--out", join(dir, "deployments")]);
    expect(await within(again.exited, 60_000, "npm run deploy (again)"), again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ issuerRegistry, operatorApiKey: null });
    await processes.startWorker(env("worker"));
    const { port } = await processes.startServer(env("server"));
    const url = `http://127.0.0.1:${port}/graphql`;
    const operator = graphqlClient(url, deployed.operatorApiKey!);

    const { registerInstitution: registered } = await operator.ok<{ registerInstitution: any }>(REGISTER, {
      input: { name: "Zweite Fachhochschule", slug: "zweite-fh", identity: "fh-zweite.example.edu", ownerEmail: "rektorat@fh-zweite.example.edu", idempotencyKey: "zweite-fh" },
    });
    const owner = graphqlClient(url, registered.ownerApiKey);
    await waitFor(async () => (await owner.ok<{ viewer: any }>(`{ viewer { status } }`)).viewer, (v) => v.status === "ACTIVE", 60_000);

    const { createCollection } = await owner.ok<{ createCollection: any }>(CREATE, { input: { name: "FH Diplome", symbol: "FHD", kind: "CERTIFICATES", idempotencyKey: "fh-diplome" } });
    const collectionId = createCollection.collection.id;
    const confirmed = await waitFor(async () => (await owner.ok<{ collection: any }>(COLLECTION, { id: collectionId })).collection, (c) => c.status === "CONFIRMED" || c.status === "FAILED", 60_000);
    expect(confirmed).toMatchObject({ status: "CONFIRMED", error: null });

    const { issueCertificate } = await owner.ok<{ issueCertificate: any }>(ISSUE, {
      input: { collectionId, recipient: Wallet.createRandom().address, title: "Diplom-Ingenieur", idempotencyKey: "fh-first" },
    });
    const issued = await waitFor(async () => (await owner.ok<{ issuance: any }>(ISSUANCE, { id: issueCertificate.issuance.id })).issuance, (i) => i.status === "CONFIRMED" || i.status === "FAILED", 60_000);
    expect(issued).toMatchObject({ status: "CONFIRMED", error: null });
    const { verify } = await graphqlClient(url).ok<{ verify: any }>(VERIFY, { id: issued.certificate.id });
    const check = (name: string) => verify.checks.find((c: any) => c.name === name);
    expect(check("status"), JSON.stringify(verify.checks)).toMatchObject({ result: "valid" });
    expect(check("issuer")).toMatchObject({ result: "valid", reason: expect.stringContaining('"Zweite Fachhochschule" (fh-zweite.example.edu), registered and active') });
    // Without IPFS_API_URL each process keeps its own embedded IPFS store: the server cannot read what the worker
    // pinned, so the document's integrity is not checked here (UNKNOWN, never INVALID); the stack above checks it.
    expect(check("integrity")).toMatchObject({ result: "skipped" });
    expect(verify.verdict).toBe("UNKNOWN");
    expect(verify.chain.contract.toLowerCase()).toBe(confirmed.contractAddress.toLowerCase());
  }, 240_000);
});
