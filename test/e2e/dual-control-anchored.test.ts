import { and, eq } from "drizzle-orm";
import { Contract, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadArtifact } from "../../core/chain/artifacts.ts";
import { encodePng } from "../../scripts/dev/demo-edition.ts";
import { auditEvents, members, outbox, webhookDeliveries } from "../../core/db/schema.ts";
import { createApiKey } from "../../server/auth/api-keys.ts";
import { ERROR_FIELDS, graphqlClient } from "../support/graphql-http.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

const CREATE_COLLECTION = `mutation($input: CreateCollectionInput!) { createCollection(input: $input) {
  ... on CreateCollectionPayload { collection { id status } } ${ERROR_FIELDS} } }`;
const COLLECTION = `query($id: ID!) { collection(id: $id) { id status error contractAddress } }`;
const ANCHOR = `mutation($input: AnchorCertificatesInput!) { anchorCertificates(input: $input) {
  ... on AnchorCertificatesPayload { anchoredBatch { id status } } ${ERROR_FIELDS} } }`;
const BATCH = `query($id: ID!) { anchoredBatch(id: $id) { id status root revokedAt
  certificates(first: 10) { edges { node { id digest status file } } } } }`;
const REVOKE_ONE = `mutation($input: RevokeAnchoredCertificateInput!) { revokeAnchoredCertificate(input: $input) {
  ... on AnchoredRevocationPayload { created revocation { id status target } } ${ERROR_FIELDS} } }`;
const REVOKE_BATCH = `mutation($input: RevokeAnchoredBatchInput!) { revokeAnchoredBatch(input: $input) {
  ... on AnchoredRevocationPayload { created revocation { id status target } } ${ERROR_FIELDS} } }`;
const REVOCATION = `query($id: ID!) { anchoredRevocation(id: $id) { id status error txHash } }`;
const SET_POLICY = `mutation($input: SetApprovalPolicyInput!) { setApprovalPolicy(input: $input) {
  ... on SetApprovalPolicyPayload { applied approvalRequest { id } } ${ERROR_FIELDS} } }`;
const REQUESTS = `{ approvalRequests(first: 50) { edges { node { id status action subjectId required approvalsHash } } } }`;
const APPROVE = `mutation($id: ID!) { approveOperation(id: $id) { ... on ApprovalDecisionPayload { approvalRequest { id status approvalsHash } } ${ERROR_FIELDS} } }`;
const REJECT = `mutation($id: ID!, $reason: String!) { rejectOperation(id: $id, reason: $reason) { ... on ApprovalDecisionPayload { approvalRequest { id status } } ${ERROR_FIELDS} } }`;
const BULK = `mutation($input: IssueCertificatesInput!) { issueCertificates(input: $input) { ... on IssueCertificatesPayload { approvalRequestId results { issuance { id status } } } ${ERROR_FIELDS} } }`;
const ISSUANCE = `query($id: ID!) { issuance(id: $id) { id status error } }`;
const QUOTA = `{ quota { month issuancesThisMonth storageBytes } }`;
const CREATE_EDITION = `mutation($cid: String!) { createEdition(input: { name: "Held lamps", images: [{ cid: $cid, label: "Lamp" }], maxSupply: 10, transferPolicy: LOCKED, idempotencyKey: "held-edition" }) {
  ... on CreateEditionPayload { edition { id status } } ${ERROR_FIELDS} } }`;

type Client = ReturnType<typeof graphqlClient>;

describe("dual control over anchored revocations, and the quota of held issuances", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let owner: Client;
  let secondOwner: Client;
  let issuer: Client;
  let baseUrl: string;
  let anchoredId: string;
  let anchor: Contract;
  let batchId: string;
  const holders = [Wallet.createRandom(), Wallet.createRandom(), Wallet.createRandom()];

  const requestFor = async (subjectId: string) => {
    const { approvalRequests } = await owner.ok<{ approvalRequests: { edges: { node: any }[] } }>(REQUESTS);
    return approvalRequests.edges.map((e) => e.node).find((n) => n.subjectId === subjectId)!;
  };
  const batch = async (id: string) => (await owner.ok<{ anchoredBatch: any }>(BATCH, { id })).anchoredBatch;
  const revocation = async (id: string) => (await owner.ok<{ anchoredRevocation: any }>(REVOCATION, { id })).anchoredRevocation;
  const verifyFile = async (file: unknown) => {
    const res = await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(file) });
    expect(res.status).toBe(200);
    return (await res.json()) as { verdict: string };
  };
  const queuedFor = async (revocationId: string) =>
    (await stack.db.db.select().from(outbox).where(eq(outbox.topic, "revoke-anchored"))).filter((o) => o.payload.revocationId === revocationId);

  beforeAll(async () => {
    stack = await startTestStack();
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    const { institutionId } = stack.devInfo;
    const db = stack.db.db;
    const member = async (role: "OWNER" | "ISSUER") =>
      (await db.insert(members).values({ institutionId, role, address: Wallet.createRandom().address }).returning())[0]!;
    const [a, b, c] = [await member("OWNER"), await member("OWNER"), await member("ISSUER")];
    const key = async (name: string, memberId: string, scopes: ("read" | "issue" | "admin")[]) => (await createApiKey(db, { institutionId, name, scopes, memberId })).key;
    owner = graphqlClient(stack.devInfo.graphqlUrl, await key("owner A", a.id, ["read", "issue", "admin"]));
    secondOwner = graphqlClient(stack.devInfo.graphqlUrl, await key("owner B", b.id, ["read", "issue", "admin"]));
    issuer = graphqlClient(stack.devInfo.graphqlUrl, await key("issuer C", c.id, ["read", "issue"]));

    const { createCollection } = await owner.ok<{ createCollection: any }>(CREATE_COLLECTION, {
      input: { name: "Held Transcripts", symbol: "HTR", kind: "ANCHORED", idempotencyKey: "held-anchored" },
    });
    anchoredId = createCollection.collection.id;
    const ready = await waitFor(async () => (await owner.ok<{ collection: any }>(COLLECTION, { id: anchoredId })).collection, (c) => c.status !== "QUEUED" && c.status !== "SUBMITTED", 60_000);
    expect(ready).toMatchObject({ status: "CONFIRMED", error: null });
    anchor = new Contract(ready.contractAddress, loadArtifact("CertificateAnchor").abi, stack.provider);

    const { anchorCertificates } = await owner.ok<{ anchorCertificates: any }>(ANCHOR, {
      input: { collectionId: anchoredId, idempotencyKey: "held-batch", certificates: holders.map((h, i) => ({ recipient: h.address, title: "Transcript", recipientName: `Holder ${i}` })) },
    });
    batchId = anchorCertificates.anchoredBatch.id;
    const anchored = await waitFor(() => batch(batchId), (b) => b.status === "CONFIRMED" || b.status === "FAILED", 60_000);
    expect(anchored.status).toBe("CONFIRMED");

    // Revocations of this collection need two members of OWNER or ISSUER (the issuer who asks counts as one).
    const policy = await owner.ok<{ setApprovalPolicy: any }>(SET_POLICY, {
      input: { collectionId: anchoredId, rules: [{ action: "REVOKE", required: 2, approverRoles: ["OWNER", "ISSUER"] }], ttlSeconds: 600 },
    });
    expect(policy.setApprovalPolicy.applied).toBe(true);
    await owner.ok(`mutation { registerWebhook(url: "http://127.0.0.1:9/anchored-dual", idempotencyKey: "anchored-dual-hook") { ... on RegisterWebhookPayload { webhook { id } } ${ERROR_FIELDS} } }`);
  }, 180_000);
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("an anchored certificate's revocation waits, a second member approves, and it reaches the chain naming the approvals; the holder's file then fails", async () => {
    const before = await batch(batchId);
    const victim = before.certificates.edges[0]!.node;
    expect((await verifyFile(victim.file)).verdict).toBe("VALID");

    const asked = (await issuer.ok<{ revokeAnchoredCertificate: any }>(REVOKE_ONE, { input: { digest: victim.digest, reason: "transcript withdrawn", idempotencyKey: "held-one" } }))
      .revokeAnchoredCertificate;
    expect(asked).toMatchObject({ created: true, revocation: { status: "AWAITING_APPROVAL", target: victim.digest } });
    // Asking again (another key) answers the one awaiting approval.
    const again = (await owner.ok<{ revokeAnchoredCertificate: any }>(REVOKE_ONE, { input: { digest: victim.digest, reason: "transcript withdrawn", idempotencyKey: "held-one-again" } }))
      .revokeAnchoredCertificate;
    expect(again).toMatchObject({ created: false, revocation: { id: asked.revocation.id, status: "AWAITING_APPROVAL" } });

    const request = await requestFor(asked.revocation.id);
    expect(request).toMatchObject({ status: "AWAITING_APPROVAL", action: "REVOKE", required: 1 });
    expect(await queuedFor(asked.revocation.id)).toEqual([]);
    // The member who asked cannot approve, with the same typed error as for any held operation.
    expect(await issuer.fails(APPROVE, { id: request.id })).toMatchObject({ code: "FORBIDDEN", typename: "NotAllowedError" });
    expect(await anchor.getFunction("isRevoked")(victim.digest)).toBe(false);

    const approved = (await secondOwner.ok<{ approveOperation: any }>(APPROVE, { id: request.id })).approveOperation.approvalRequest;
    expect(approved).toMatchObject({ status: "APPROVED", approvalsHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    const done = await waitFor(() => revocation(asked.revocation.id), (r) => r.status === "CONFIRMED" || r.status === "FAILED", 60_000);
    expect(done).toMatchObject({ status: "CONFIRMED", error: null });

    // On chain: revokeWithApprovals, its event naming the approvals' hash.
    const receipt = await stack.provider.getTransactionReceipt(done.txHash);
    const events = receipt!.logs.map((l) => anchor.interface.parseLog(l)).filter((e) => e);
    expect(events.map((e) => [e!.name, ...e!.args])).toEqual([
      ["DocumentRevoked", victim.digest],
      ["RevocationApproved", victim.digest, approved.approvalsHash],
    ]);
    expect(await anchor.getFunction("isRevoked")(victim.digest)).toBe(true);

    const after = await batch(batchId);
    expect(after.certificates.edges.map((e: any) => e.node.status)).toEqual(["REVOKED", "VALID", "VALID"]);
    expect((await verifyFile(victim.file)).verdict).toBe("INVALID");
    expect((await verifyFile(after.certificates.edges[1]!.node.file)).verdict).toBe("VALID");

    const told = await stack.db.db.select({ type: webhookDeliveries.eventType, payload: webhookDeliveries.payload }).from(webhookDeliveries);
    const mine = told.filter((d) => JSON.stringify(d.payload).includes(asked.revocation.id)).map((d) => d.type);
    expect(mine).toEqual(expect.arrayContaining(["anchoredRevocation.awaiting_approval", "anchoredRevocation.queued", "anchoredRevocation.confirmed"]));
    const audited = await stack.db.db
      .select({ kind: auditEvents.kind })
      .from(auditEvents)
      .where(and(eq(auditEvents.subjectKind, "anchoredRevocation"), eq(auditEvents.subjectId, asked.revocation.id)));
    expect(audited.map((e) => e.kind)).toEqual(["operation.requested", "operation.approved", "operation.released"]);
  }, 120_000);

  it("a rejected revocation of the whole batch never reaches the chain, and leaves the batch free to be revoked later", async () => {
    const { root } = await batch(batchId);
    const asked = (await issuer.ok<{ revokeAnchoredBatch: any }>(REVOKE_BATCH, { input: { anchoredBatchId: batchId, reason: "session annulled", idempotencyKey: "held-batch-revoke" } }))
      .revokeAnchoredBatch;
    expect(asked).toMatchObject({ created: true, revocation: { status: "AWAITING_APPROVAL", target: root } });
    const request = await requestFor(asked.revocation.id);
    const rejected = (await owner.ok<{ rejectOperation: any }>(REJECT, { id: request.id, reason: "the session stands" })).rejectOperation.approvalRequest;
    expect(rejected.status).toBe("REJECTED");
    expect(await revocation(asked.revocation.id)).toMatchObject({ status: "REJECTED", txHash: null });
    // Decided for good: a later approval is a CONFLICT.
    expect(await secondOwner.fails(APPROVE, { id: request.id })).toMatchObject({ code: "CONFLICT", typename: "ConflictError" });
    expect(await queuedFor(asked.revocation.id)).toEqual([]);
    // Give the worker time it would need to send anything: nothing is sent, the root stays valid.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await anchor.getFunction("isRevoked")(root)).toBe(false);
    expect((await batch(batchId)).revokedAt).toBeNull();

    // Asked again, it is a new request awaiting approval, not the rejected one.
    const anew = (await issuer.ok<{ revokeAnchoredBatch: any }>(REVOKE_BATCH, { input: { anchoredBatchId: batchId, reason: "session annulled after all", idempotencyKey: "held-batch-revoke-2" } }))
      .revokeAnchoredBatch;
    expect(anew).toMatchObject({ created: true, revocation: { status: "AWAITING_APPROVAL" } });
    expect(anew.revocation.id).not.toBe(asked.revocation.id);
  }, 60_000);

  it("a rejected bulk issuance held for approval gives its quota back: the usage reads as before", async () => {
    const change = (await owner.ok<{ setApprovalPolicy: any }>(SET_POLICY, {
      input: { collectionId: stack.devInfo.collectionId, rules: [{ action: "BULK_ISSUANCE", required: 2, approverRoles: ["OWNER"], aboveItems: 1 }], ttlSeconds: 600 },
    })).setApprovalPolicy;
    expect(change.applied).toBe(true);
    const before = (await owner.ok<{ quota: any }>(QUOTA)).quota;
    const items = [0, 1, 2].map((i) => ({ recipient: Wallet.createRandom().address, title: `Held ${i}`, idempotencyKey: `held-bulk-${i}` }));
    const bulk = (await issuer.ok<{ issueCertificates: any }>(BULK, { input: { collectionId: stack.devInfo.collectionId, idempotencyKey: "held-bulk", items } })).issueCertificates;
    expect(bulk.results.map((r: any) => r.issuance.status)).toEqual(["AWAITING_APPROVAL", "AWAITING_APPROVAL", "AWAITING_APPROVAL"]);
    const charged = (await owner.ok<{ quota: any }>(QUOTA)).quota;
    expect(charged.issuancesThisMonth).toBe(before.issuancesThisMonth + 3);
    expect(charged.storageBytes).toBeGreaterThan(before.storageBytes);

    const rejected = (await owner.ok<{ rejectOperation: any }>(REJECT, { id: bulk.approvalRequestId, reason: "wrong cohort" })).rejectOperation.approvalRequest;
    expect(rejected.status).toBe("REJECTED");
    for (const r of bulk.results) expect((await owner.ok<{ issuance: any }>(ISSUANCE, { id: r.issuance.id })).issuance.status).toBe("REJECTED");
    expect((await owner.ok<{ quota: any }>(QUOTA)).quota).toEqual(before);
  }, 60_000);

  it("a rejected edition held for approval gives its metadata's storage back", async () => {
    const change = (await owner.ok<{ setApprovalPolicy: any }>(SET_POLICY, {
      input: { rules: [{ action: "EDITION_CREATION", required: 2, approverRoles: ["OWNER"] }], ttlSeconds: 600 },
    })).setApprovalPolicy;
    expect(change.applied).toBe(true);
    const form = new FormData();
    form.set("file", new Blob([new Uint8Array(encodePng(4, 4, () => [200, 40, 40]))]), "held.png");
    const uploaded = await fetch(`${baseUrl}/media`, { method: "POST", headers: { authorization: `Bearer ${stack.devInfo.apiKey}`, "x-graphql-csrf": "1" }, body: form });
    expect(uploaded.status).toBeLessThan(300);
    const { cid } = (await uploaded.json()) as { cid: string };
    const before = (await owner.ok<{ quota: any }>(QUOTA)).quota;
    const { createEdition } = await owner.ok<{ createEdition: any }>(CREATE_EDITION, { cid });
    expect(createEdition.edition.status).toBe("AWAITING_APPROVAL");
    expect((await owner.ok<{ quota: any }>(QUOTA)).quota.storageBytes).toBeGreaterThan(before.storageBytes);
    const request = await requestFor(createEdition.edition.id);
    expect((await secondOwner.ok<{ rejectOperation: any }>(REJECT, { id: request.id, reason: "not this season" })).rejectOperation.approvalRequest.status).toBe("REJECTED");
    expect((await owner.ok<{ quota: any }>(QUOTA)).quota).toEqual(before);
  }, 60_000);
});
