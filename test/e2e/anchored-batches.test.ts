import { Contract, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestAnchoredBatch } from "../../core/operations/anchored.ts";
import { loadArtifact } from "../../core/chain/artifacts.ts";
import { ERROR_FIELDS, graphqlClient, subscribeOverSse } from "../support/graphql-http.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

const CREATE_COLLECTION = `mutation($input: CreateCollectionInput!) { createCollection(input: $input) {
  ... on CreateCollectionPayload { collection { id status kind contractAddress } } ${ERROR_FIELDS} } }`;
const COLLECTION = `query($id: ID!) { collection(id: $id) { id status error contractAddress } }`;
const ANCHOR = `mutation($input: AnchorCertificatesInput!) { anchorCertificates(input: $input) {
  ... on AnchorCertificatesPayload { created anchoredBatch { id status root size queuePosition } }
  ... on QuotaExceededError { quota limit requested }
  ${ERROR_FIELDS} } }`;
const BATCH = `query($id: ID!) { anchoredBatch(id: $id) {
  id status root size txHash blockNumber error revokedAt createdAt collection { id kind }
  certificates(first: 10) { totalCount edges { node { id documentId digest recipient position status revokedAt file } } }
  revocations { id status wholeBatch target reason requestedBy txHash createdAt certificate { id } }
} }`;
const BATCHES = `query($filter: AnchoredBatchFilter, $first: Int, $after: String) { anchoredBatches(filter: $filter, first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id size status } } } }`;
const REVOKE_ONE = `mutation($input: RevokeAnchoredCertificateInput!) { revokeAnchoredCertificate(input: $input) {
  ... on AnchoredRevocationPayload { created revocation { id status wholeBatch target } } ${ERROR_FIELDS} } }`;
const REVOKE_BATCH = `mutation($input: RevokeAnchoredBatchInput!) { revokeAnchoredBatch(input: $input) {
  ... on AnchoredRevocationPayload { created revocation { id status wholeBatch target } } ${ERROR_FIELDS} } }`;
const REVOCATION = `query($id: ID!) { anchoredRevocation(id: $id) { id status error txHash } }`;

const LIVE = `subscription { operationsUpdated { kind id status txHash anchoredBatch { status root } anchoredRevocation { status wholeBatch } } }`;

type Cert = { id: string; documentId: string; digest: string; recipient: string; position: number; status: string; revokedAt: string | null; file: any };
type Batch = {
  id: string;
  status: string;
  root: string;
  size: number;
  txHash: string | null;
  blockNumber: number | null;
  error: string | null;
  revokedAt: string | null;
  certificates: { totalCount: number; edges: { node: Cert }[] };
  revocations: { id: string; status: string; wholeBatch: boolean; target: string; reason: string; requestedBy: string; txHash: string | null; certificate: { id: string } | null }[];
};

describe("anchored batches through the API", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let api: ReturnType<typeof graphqlClient>;
  let baseUrl: string;
  let anchoredId: string;
  let anchorAddress: string;
  let batchId: string;
  const holders = [Wallet.createRandom(), Wallet.createRandom(), Wallet.createRandom()];
  const rows = holders.map((h, i) => ({
    recipient: h.address,
    title: "Transcript of Records",
    recipientName: `Holder Number ${i}`,
    attributes: [{ name: "Credits", value: String(180 + i) }],
  }));

  const batch = async (id: string) => (await api.ok<{ anchoredBatch: Batch }>(BATCH, { id })).anchoredBatch;
  const verifyFile = async (file: unknown) => {
    const res = await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(file) });
    expect(res.status).toBe(200);
    return (await res.json()) as { verdict: string; checks: { name: string; result: string; reason: string }[] };
  };
  const settledRevocation = (id: string) =>
    waitFor(async () => (await api.ok<{ anchoredRevocation: any }>(REVOCATION, { id })).anchoredRevocation, (r) => r.status === "CONFIRMED" || r.status === "FAILED", 60_000);

  beforeAll(async () => {
    // A small batch limit, so the quota is reached with a few rows.
    stack = await startTestStack({ QUOTA_MAX_BATCH_SIZE: "5" });
    api = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.apiKey);
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    const { createCollection } = await api.ok<{ createCollection: any }>(CREATE_COLLECTION, {
      input: { name: "Demo Transcripts", symbol: "DTR", kind: "ANCHORED", idempotencyKey: "anchored-collection" },
    });
    anchoredId = createCollection.collection.id;
    const confirmed = await waitFor(async () => (await api.ok<{ collection: any }>(COLLECTION, { id: anchoredId })).collection, (c) => c.status !== "QUEUED" && c.status !== "SUBMITTED", 60_000);
    expect(confirmed).toMatchObject({ status: "CONFIRMED", error: null });
    anchorAddress = confirmed.contractAddress;
  }, 120_000);
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("refuses with typed errors: a certificate registry, bad rows named by index, an empty batch, a key without `issue`", async () => {
    const base = { collectionId: anchoredId, idempotencyKey: "refused", certificates: rows };
    const registry = await api.fails(ANCHOR, { input: { ...base, collectionId: stack.devInfo.collectionId } });
    expect([registry.typename, registry.code, registry.extensions.field]).toEqual(["InvalidInputError", "BAD_USER_INPUT", "collectionId"]);
    expect(registry.message).toContain("ANCHORED");

    const bad = await api.fails(ANCHOR, {
      input: { ...base, certificates: [rows[0], { ...rows[1], recipient: "0x1234" }, rows[2], { ...rows[2], validUntil: "2001-01-01T00:00:00Z" }] },
    });
    expect([bad.typename, bad.code, bad.extensions.field]).toEqual(["InvalidInputError", "BAD_USER_INPUT", "certificates.1.recipient"]);
    expect(bad.message).toContain("2 of 4 certificates are invalid");
    expect(bad.message).toContain("certificates.3.validUntil");

    expect((await api.fails(ANCHOR, { input: { ...base, certificates: [] } })).extensions.field).toBe("certificates");
    const missing = await api.fails(ANCHOR, { input: { ...base, collectionId: "00000000-0000-4000-8000-000000000000" } });
    expect([missing.typename, missing.code]).toEqual(["NotFoundError", "NOT_FOUND"]);
    expect((await graphqlClient(stack.devInfo.graphqlUrl).fails(ANCHOR, { input: base })).code).toBe("UNAUTHENTICATED");
    // Nothing of the refused requests was recorded.
    expect((await api.ok<{ anchoredBatches: any }>(BATCHES, {})).anchoredBatches.totalCount).toBe(0);
  });

  it("refuses a collection whose contract is not CONFIRMED yet, naming its status", async () => {
    const { createCollection } = await api.ok<{ createCollection: any }>(CREATE_COLLECTION, {
      input: { name: "Later Transcripts", symbol: "LTR", kind: "ANCHORED", idempotencyKey: "anchored-later" },
    });
    const e = await api.fails(ANCHOR, { input: { collectionId: createCollection.collection.id, idempotencyKey: "too-early", certificates: rows } });
    expect([e.typename, e.code, e.extensions.field]).toEqual(["CollectionNotReadyError", "COLLECTION_NOT_READY", "collectionId"]);
  });

  it("a batch past the institution's batch size is QUOTA_EXCEEDED", async () => {
    const many = Array.from({ length: stack.config.quotas.maxBatchSize + 1 }, () => ({ recipient: Wallet.createRandom().address }));
    const e = await api.fails(ANCHOR, { input: { collectionId: anchoredId, idempotencyKey: "too-many", certificates: many } });
    expect([e.typename, e.code, e.extensions.quota]).toEqual(["QuotaExceededError", "QUOTA_EXCEEDED", "maxBatchSize"]);
  });

  it("anchors a batch: QUEUED at once, CONFIRMED from the chain with one issue(root), its root held by the anchor, told live", async () => {
    const live = subscribeOverSse(stack.devInfo.graphqlUrl, stack.devInfo.apiKey, LIVE, "operationsUpdated");
    // The subscription is open before the batch is asked for.
    await new Promise((r) => setTimeout(r, 500));
    try {
      await anchorAndConfirm();
      await waitFor(async () => live.seen.filter((e) => e?.kind === "ANCHORED_BATCH" && e.id === batchId).map((e) => e.status), (s) => s.includes("CONFIRMED"), 10_000);
      const told = live.seen.filter((e) => e?.kind === "ANCHORED_BATCH" && e.id === batchId);
      expect([...new Set(told.map((e) => e.status))]).toEqual(["SUBMITTED", "CONFIRMED"]);
      expect(told.at(-1).anchoredBatch).toMatchObject({ status: "CONFIRMED" });
    } finally {
      live.close();
    }
  }, 90_000);

  async function anchorAndConfirm() {
    const { anchorCertificates: res } = await api.ok<{ anchorCertificates: any }>(ANCHOR, { input: { collectionId: anchoredId, idempotencyKey: "class-of-2026", certificates: rows } });
    expect(res).toMatchObject({ created: true, anchoredBatch: { status: "QUEUED", size: 3, root: expect.stringMatching(/^0x[0-9a-f]{64}$/), queuePosition: 0 } });
    batchId = res.anchoredBatch.id;
    const done = await waitFor(() => batch(batchId), (b) => b.status === "CONFIRMED" || b.status === "FAILED", 60_000);
    expect(done).toMatchObject({ status: "CONFIRMED", error: null, size: 3, txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/), revokedAt: null });
    expect(done.blockNumber).toBeGreaterThan(0);
    const anchor = new Contract(anchorAddress, loadArtifact("CertificateAnchor").abi, stack.provider);
    expect(await anchor.getFunction("isIssued")(done.root)).toBe(true);
    expect(Number(await anchor.getFunction("getIssuedBlock")(done.root))).toBe(done.blockNumber);
    const receipt = await stack.provider.getTransactionReceipt(done.txHash!);
    expect(receipt!.to!.toLowerCase()).toBe(anchorAddress.toLowerCase());
    expect(done.certificates.totalCount).toBe(3);
    expect(done.certificates.edges.map((e) => [e.node.position, e.node.recipient, e.node.status])).toEqual(holders.map((h, i) => [i, h.address, "VALID"]));
  }

  it("the same idempotency key makes no second batch; other rows under it are an IDEMPOTENCY_CONFLICT", async () => {
    const { anchorCertificates: again } = await api.ok<{ anchorCertificates: any }>(ANCHOR, { input: { collectionId: anchoredId, idempotencyKey: "class-of-2026", certificates: rows } });
    expect(again).toMatchObject({ created: false, anchoredBatch: { id: batchId, status: "CONFIRMED" } });
    const conflict = await api.fails(ANCHOR, { input: { collectionId: anchoredId, idempotencyKey: "class-of-2026", certificates: rows.slice(0, 2) } });
    expect([conflict.typename, conflict.code]).toEqual(["IdempotencyConflictError", "IDEMPOTENCY_CONFLICT"]);
    // A retry sent after a certificate's validUntil has passed answers the batch it made, checked as of that request.
    const expiring = [{ ...rows[0], validUntil: new Date(Date.now() + 86_400_000).toISOString() }];
    const quotas = { issuancesPerMonth: 1_000_000, maxBatchSize: 5, storageBytes: 10 * 1024 ** 3 };
    const key = { collectionId: anchoredId, idempotencyKey: "expiring-soon", certificates: expiring };
    const made = await requestAnchoredBatch({ db: stack.db.db, quotas }, stack.devInfo.institutionId, key);
    const retried = await requestAnchoredBatch({ db: stack.db.db, quotas }, stack.devInfo.institutionId, key, new Date(Date.now() + 2 * 86_400_000));
    expect(retried).toMatchObject({ created: false, batch: { id: made.batch.id } });
    // A new request with that date, though, is refused.
    await expect(requestAnchoredBatch({ db: stack.db.db, quotas }, stack.devInfo.institutionId, { ...key, idempotencyKey: "expired-now" }, new Date(Date.now() + 2 * 86_400_000))).rejects.toMatchObject({
      code: "BAD_USER_INPUT",
    });
    const list = (await api.ok<{ anchoredBatches: any }>(BATCHES, { filter: { collectionId: anchoredId } })).anchoredBatches;
    expect(list.totalCount).toBe(2);
    expect(list.edges.map((e: any) => e.node.id)).toContain(batchId);
    // One issue(root) transaction on chain for the first batch; the retries made none.
    const anchor = new Contract(anchorAddress, loadArtifact("CertificateAnchor").abi, stack.provider);
    const settled = await waitFor(() => batch(made.batch.id), (b) => b.status === "CONFIRMED", 60_000);
    expect(settled.status).toBe("CONFIRMED");
    expect(await anchor.queryFilter(anchor.filters.DocumentIssued!())).toHaveLength(2);
  });

  it("hands out each holder's file, which verifies VALID, and pages through the certificates", async () => {
    const b = await batch(batchId);
    for (const [i, { node }] of b.certificates.edges.entries()) {
      expect(node.file).toMatchObject({ $schema: "https://hallmark.dev/schemas/anchored-certificate/v1", anchor: { digest: node.digest, root: b.root, contract: anchorAddress } });
      expect(node.file.document.certificate).toMatchObject({ id: node.documentId, recipient: { address: holders[i]!.address, name: `Holder Number ${i}` } });
      const result = await verifyFile(node.file);
      expect(result.verdict, JSON.stringify(result.checks)).toBe("VALID");
    }
    const first = (await api.ok<any>(`query($id: ID!) { anchoredBatch(id: $id) { certificates(first: 2) { pageInfo { hasNextPage endCursor } edges { node { position } } } } }`, { id: batchId })).anchoredBatch.certificates;
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = (await api.ok<any>(`query($id: ID!, $after: String) { anchoredBatch(id: $id) { certificates(first: 2, after: $after) { pageInfo { hasNextPage } edges { node { position } } } } }`, { id: batchId, after: first.pageInfo.endCursor }))
      .anchoredBatch.certificates;
    expect([...first.edges, ...rest.edges].map((e: any) => e.node.position).sort()).toEqual([0, 1, 2]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    // A reader without the institution's key sees nothing of it.
    expect((await graphqlClient(stack.devInfo.graphqlUrl).fails(BATCH, { id: batchId })).code).toBe("UNAUTHENTICATED");
  });

  it("revokes one certificate by its digest: that one REVOKED, on chain and in its file's check; the others stay VALID", async () => {
    const b = await batch(batchId);
    const victim = b.certificates.edges[1]!.node;
    const { revokeAnchoredCertificate: res } = await api.ok<{ revokeAnchoredCertificate: any }>(REVOKE_ONE, {
      input: { digest: victim.digest, reason: "issued in error", idempotencyKey: "revoke-one" },
    });
    expect(res).toMatchObject({ created: true, revocation: { status: "QUEUED", wholeBatch: false, target: victim.digest } });
    expect(await settledRevocation(res.revocation.id)).toMatchObject({ status: "CONFIRMED", error: null, txHash: expect.stringMatching(/^0x/) });
    // Asking again, by its document id this time, answers the same revocation.
    const { revokeAnchoredCertificate: again } = await api.ok<{ revokeAnchoredCertificate: any }>(REVOKE_ONE, {
      input: { documentId: victim.documentId, reason: "issued in error", idempotencyKey: "revoke-one-again" },
    });
    expect(again).toMatchObject({ created: false, revocation: { id: res.revocation.id } });

    const after = await batch(batchId);
    expect(after.certificates.edges.map((e) => e.node.status)).toEqual(["VALID", "REVOKED", "VALID"]);
    expect(after.revocations).toEqual([
      expect.objectContaining({ status: "CONFIRMED", wholeBatch: false, reason: "issued in error", requestedBy: expect.stringMatching(/^apiKey:/), certificate: { id: victim.id } }),
    ]);
    expect((await verifyFile(victim.file)).verdict).toBe("INVALID");
    expect((await verifyFile(b.certificates.edges[0]!.node.file)).verdict).toBe("VALID");
    expect((await verifyFile(b.certificates.edges[2]!.node.file)).verdict).toBe("VALID");
  }, 90_000);

  it("refuses revocations it cannot do, with typed errors", async () => {
    const none = await api.fails(REVOKE_ONE, { input: { digest: `0x${"ab".repeat(32)}`, reason: "x", idempotencyKey: "nothing" } });
    expect([none.typename, none.code]).toEqual(["NotFoundError", "NOT_FOUND"]);
    const two = await api.fails(REVOKE_ONE, { input: { digest: `0x${"ab".repeat(32)}`, documentId: "x", reason: "x", idempotencyKey: "two" } });
    expect([two.typename, two.code]).toEqual(["InvalidInputError", "BAD_USER_INPUT"]);
    const noReason = await api.fails(REVOKE_BATCH, { input: { anchoredBatchId: batchId, reason: " ", idempotencyKey: "no-reason" } });
    expect([noReason.code, noReason.extensions.field]).toEqual(["BAD_USER_INPUT", "reason"]);
  });

  it("revokes the whole batch by its root: every certificate REVOKED, every file INVALID, with its history", async () => {
    const { revokeAnchoredBatch: res } = await api.ok<{ revokeAnchoredBatch: any }>(REVOKE_BATCH, { input: { anchoredBatchId: batchId, reason: "exam board annulled the session", idempotencyKey: "revoke-all" } });
    const b = await batch(batchId);
    expect(res).toMatchObject({ created: true, revocation: { wholeBatch: true, target: b.root } });
    expect(await settledRevocation(res.revocation.id)).toMatchObject({ status: "CONFIRMED" });
    const after = await batch(batchId);
    expect(after.revokedAt).not.toBeNull();
    expect(after.certificates.edges.map((e) => e.node.status)).toEqual(["REVOKED", "REVOKED", "REVOKED"]);
    expect(after.revocations.map((r) => [r.wholeBatch, r.status, r.reason])).toEqual([
      [false, "CONFIRMED", "issued in error"],
      [true, "CONFIRMED", "exam board annulled the session"],
    ]);
    for (const { node } of b.certificates.edges) {
      const result = await verifyFile(node.file);
      expect(result.verdict).toBe("INVALID");
      expect(result.checks.find((c) => c.name === "status")?.reason).toBeDefined();
    }
    // A certificate of a revoked batch is revoked already.
    const e = await api.fails(REVOKE_ONE, { input: { digest: b.certificates.edges[0]!.node.digest, reason: "again", idempotencyKey: "after-batch" } });
    expect([e.typename, e.code]).toEqual(["CertificateStateError", "CERTIFICATE_REVOKED"]);
  }, 90_000);
});
