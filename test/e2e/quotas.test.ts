import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { encodePng } from "../../scripts/dev/demo-edition.ts";
import { graphqlClient, typedErrors, type TypedError } from "../support/graphql-http.ts";
import { startTestStack } from "../support/stack.ts";

const QUOTA = `{ quota { month issuancesThisMonth limit remainingThisMonth maxBatchSize storageBytes storageBytesLimit overridden } }`;
const SET = `mutation($input: SetQuotaInput!) { setQuota(input: $input) { ... on Quota { limit maxBatchSize storageBytesLimit issuancesThisMonth overridden } ... on Error { __typename code message field } } }`;
const ISSUE = `mutation($input: IssueCertificateInput!) { issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id status } } ... on Error { __typename code message field } ... on QuotaExceededError { quota limit used requested } } }`;
const BULK = `mutation($input: IssueCertificatesInput!) { issueCertificates(input: $input) { ... on IssueCertificatesPayload { results { index issuance { id } error { code } } } ... on Error { __typename code message field } ... on QuotaExceededError { quota limit used requested } } }`;

describe("quotas over HTTP", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let api: ReturnType<typeof graphqlClient>;
  let operator: ReturnType<typeof graphqlClient>;
  let n = 0;
  const key = () => `q-${++n}`;
  const item = () => ({ recipient: Wallet.createRandom().address, title: "Quota test", idempotencyKey: key() });
  /** The typed error a mutation answered, or undefined when it was accepted. */
  const refusalOf = async (query: string, input: Record<string, unknown>): Promise<TypedError | undefined> => {
    const { body } = await api.raw(query, { input });
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return typedErrors(body.data)[0];
  };
  const issue = (input: Record<string, unknown> = item()) => refusalOf(ISSUE, { ...input, collectionId: stack.devInfo.collectionId });
  const bulk = (count: number) => refusalOf(BULK, { collectionId: stack.devInfo.collectionId, idempotencyKey: key(), items: Array.from({ length: count }, item) });
  const quota = async () => (await api.ok<{ quota: any }>(QUOTA)).quota;
  const setQuota = (input: Record<string, unknown>) => operator.ok<{ setQuota: any }>(SET, { input: { institutionId: stack.devInfo.institutionId, ...input } });

  beforeAll(async () => {
    // Defaults come from configuration.
    stack = await startTestStack({ QUOTA_ISSUANCES_PER_MONTH: "500", QUOTA_MAX_BATCH_SIZE: "40", QUOTA_STORAGE_BYTES: "10000000" });
    api = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.apiKey);
    operator = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.operatorKey);
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("reads the configured defaults and the usage of this calendar month", async () => {
    expect(await quota()).toEqual({
      month: new Date().toISOString().slice(0, 7),
      issuancesThisMonth: 0,
      limit: 500,
      remainingThisMonth: 500,
      maxBatchSize: 40,
      storageBytes: 0,
      storageBytesLimit: 10000000,
      overridden: [],
    });
    expect(await issue()).toBeUndefined();
    const after = await quota();
    expect(after.issuancesThisMonth).toBe(1);
    expect(after.storageBytes).toBeGreaterThan(0);
  });

  it("refuses the request that would pass the monthly limit with QUOTA_EXCEEDED, its limit and usage", async () => {
    const used = (await quota()).issuancesThisMonth;
    expect((await setQuota({ issuancesPerMonth: used + 2 })).setQuota).toMatchObject({ limit: used + 2, overridden: ["issuancesPerMonth"] });
    const kept = item();
    expect(await issue(kept)).toBeUndefined();
    expect(await issue()).toBeUndefined();
    const refused = await issue();
    expect(refused).toMatchObject({ __typename: "QuotaExceededError", code: "QUOTA_EXCEEDED", quota: "issuancesPerMonth", limit: used + 2, used: used + 2, requested: 1 });
    // A retry of an issuance already recorded is not a new one: it is answered, and not counted.
    expect(await issue(kept)).toBeUndefined();
    expect((await quota()).issuancesThisMonth).toBe(used + 2);
  });

  it("concurrent requests cannot overshoot the limit", async () => {
    const used = (await quota()).issuancesThisMonth;
    await setQuota({ issuancesPerMonth: used + 5 });
    const results = await Promise.all(Array.from({ length: 12 }, () => issue()));
    const accepted = results.filter((r) => !r);
    const refused = results.filter((r) => r?.code === "QUOTA_EXCEEDED");
    expect([accepted.length, refused.length]).toEqual([5, 7]);
    expect(await quota()).toMatchObject({ issuancesThisMonth: used + 5, remainingThisMonth: 0 });
  });

  it("a bulk request that would pass the monthly limit records nothing", async () => {
    const used = (await quota()).issuancesThisMonth;
    await setQuota({ issuancesPerMonth: used + 3 });
    expect(await bulk(4)).toMatchObject({ __typename: "QuotaExceededError", code: "QUOTA_EXCEEDED", limit: used + 3, used, requested: 4 });
    expect((await quota()).issuancesThisMonth).toBe(used);
  });

  it("refuses a batch larger than maxBatchSize", async () => {
    await setQuota({ issuancesPerMonth: null, maxBatchSize: 2 });
    expect(await bulk(3)).toMatchObject({ code: "QUOTA_EXCEEDED", quota: "maxBatchSize", limit: 2, requested: 3 });
    const ok = await api.ok<{ issueCertificates: any }>(BULK, { input: { collectionId: stack.devInfo.collectionId, idempotencyKey: key(), items: Array.from({ length: 2 }, item) } });
    expect(ok.issueCertificates.results.every((r: any) => r.issuance)).toBe(true);
    expect((await quota()).overridden).toEqual(["maxBatchSize"]);
  });

  it("setQuota with an idempotency key: a retry answers the quota; other limits under the same key are refused", async () => {
    const first = (await setQuota({ maxBatchSize: 7, idempotencyKey: "quota-retry" })).setQuota;
    expect(first).toMatchObject({ maxBatchSize: 7 });
    expect((await setQuota({ maxBatchSize: 7, idempotencyKey: "quota-retry" })).setQuota).toEqual(first);
    const refused = await operator.fails(SET, { input: { institutionId: stack.devInfo.institutionId, maxBatchSize: 8, idempotencyKey: "quota-retry" } });
    expect([refused.typename, refused.code]).toEqual(["IdempotencyConflictError", "IDEMPOTENCY_CONFLICT"]);
    expect((await quota()).maxBatchSize).toBe(7);
    await setQuota({ maxBatchSize: null });
  });

  it("refuses content past the storage limit", async () => {
    const { storageBytes } = await quota();
    await setQuota({ storageBytes: storageBytes + 10 });
    expect(await issue()).toMatchObject({ code: "QUOTA_EXCEEDED", quota: "storageBytes", limit: storageBytes + 10, used: storageBytes });
    await setQuota({ storageBytes: null, maxBatchSize: null });
    expect((await quota()).overridden).toEqual([]);
    expect(await issue()).toBeUndefined();
  });

  it("setQuota validates its input", async () => {
    const bad = async (input: Record<string, unknown>, code: string, field?: string) => {
      const e = await operator.fails(SET, { input: { institutionId: stack.devInfo.institutionId, ...input } });
      expect([e.code, e.extensions.field], JSON.stringify(input)).toEqual([code, field]);
    };
    await bad({ issuancesPerMonth: -1 }, "BAD_USER_INPUT", "issuancesPerMonth");
    await bad({ maxBatchSize: 0 }, "BAD_USER_INPUT", "maxBatchSize");
    await bad({ maxBatchSize: 10_001 }, "BAD_USER_INPUT", "maxBatchSize");
    await bad({ storageBytes: 1.5 }, "BAD_USER_INPUT", "storageBytes");
    await bad({ storageBytes: 2 ** 60 }, "BAD_USER_INPUT", "storageBytes");
    await bad({ institutionId: "00000000-0000-4000-8000-000000000000" }, "NOT_FOUND", "institutionId");
    await bad({ institutionId: "<b>x</b>" }, "NOT_FOUND", "institutionId");
    for (const input of [{ issuancesPerMonth: "ten" }, { issuancesPerMonth: 2 ** 31 }, { maxBatchSize: 1.5 }]) {
      const { status, body } = await operator.raw(SET, { input: { institutionId: stack.devInfo.institutionId, ...input } });
      expect([status, body.data ?? null]).toEqual([400, null]);
    }
  });

  it("only the platform operator sets quotas; an institution reads its own", async () => {
    expect((await api.fails(SET, { input: { institutionId: stack.devInfo.institutionId, issuancesPerMonth: 1 } })).code).toBe("FORBIDDEN");
    expect((await graphqlClient(stack.devInfo.graphqlUrl).fails(QUOTA)).code).toBe("UNAUTHENTICATED");
    expect((await operator.fails(QUOTA)).code).toBe("FORBIDDEN");
    const listed = await operator.ok<{ institutions: any[] }>(`{ institutions { id quota { limit issuancesThisMonth } } }`);
    expect(listed.institutions.find((i) => i.id === stack.devInfo.institutionId).quota.limit).toBe(500);
  });

  describe("POST /media against the storage quota", () => {
    const base = () => stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    const upload = async (png: Uint8Array) => {
      const form = new FormData();
      form.append("file", new Blob([png as Uint8Array<ArrayBuffer>], { type: "image/png" }), "a.png");
      const res = await fetch(`${base()}/media`, { method: "POST", headers: { authorization: `Bearer ${stack.devInfo.apiKey}`, "x-graphql-csrf": "1" }, body: form });
      return { status: res.status, body: (await res.json()) as any };
    };
    // A small file is one raw block: its CID is known without storing it anywhere.
    const cidOf = async (bytes: Uint8Array) => CID.createV1(raw.code, await sha256.digest(bytes)).toString();
    const png = (seed: number) => encodePng(24 + seed, 16, (x, y) => [(x * 31 + seed * 17) % 256, (y * 47 + seed) % 256, (x ^ y ^ seed) & 255]);

    it("an upload that needs more than remains is refused before anything is stored, and its CID is not served", async () => {
      const bytes = png(1);
      // Something already stored, so what remains is less than the total limit.
      expect((await upload(png(0))).status).toBe(201);
      const { storageBytes } = await quota();
      // Well under the total limit, one byte over what remains.
      await setQuota({ storageBytes: storageBytes + bytes.length - 1 });
      try {
        const refused = await upload(bytes);
        expect([refused.status, refused.body.error.code, refused.body.error.quota]).toEqual([429, "QUOTA_EXCEEDED", "storageBytes"]);
        const cid = await cidOf(bytes);
        expect(await stack.ipfs.has(cid)).toBe(false);
        expect((await fetch(`${base()}/ipfs/${cid}`)).status).toBe(404);
        expect((await quota()).storageBytes).toBe(storageBytes);
      } finally {
        await setQuota({ storageBytes: null });
      }
    });

    it("two concurrent uploads that each fit but together do not: exactly one is stored", async () => {
      const [a, b] = [png(2), png(3)];
      const { storageBytes } = await quota();
      await setQuota({ storageBytes: storageBytes + a.length + b.length - 1 });
      try {
        const results = await Promise.all([upload(a), upload(b)]);
        expect(results.map((r) => r.status).sort()).toEqual([201, 429]);
        const refusedBytes = results[0]!.status === 429 ? a : b;
        expect((await fetch(`${base()}/ipfs/${await cidOf(refusedBytes)}`)).status).toBe(404);
        expect((await quota()).storageBytes).toBe(storageBytes + (refusedBytes === a ? b.length : a.length));
        // The same bytes again are counted once.
        const again = await upload(refusedBytes === a ? b : a);
        expect(again.status).toBe(201);
        expect((await quota()).storageBytes).toBe(storageBytes + (refusedBytes === a ? b.length : a.length));
      } finally {
        await setQuota({ storageBytes: null });
      }
    });
  });
});
