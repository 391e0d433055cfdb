import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEventHash } from "../../core/audit/event-hash.ts";
import type { ExportedAuditEvent } from "../../core/audit/export.ts";
import { certificateRegistryAt, certificateRegistryInterface, OnChainStatus } from "../../core/chain/certificate-registry.ts";
import { members, outbox, revocations, webhookDeliveries } from "../../core/db/schema.ts";
import { reconcile } from "../../core/reconcile.ts";
import { createApiKey } from "../../server/auth/api-keys.ts";
import { issueCertificate, type IssuedCertificate } from "../core/verification/certificates.ts";
import { graphqlClient } from "../support/graphql-http.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

const run = promisify(execFile);
type Result = { code: number; stdout: string; stderr: string };
const node = (env: Record<string, string>, ...args: string[]): Promise<Result> =>
  run("node", args, { maxBuffer: 1 << 24, env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );

const ERR = "... on Error { __typename code message field }";
const SET_POLICY = `mutation($input: SetApprovalPolicyInput!) { setApprovalPolicy(input: $input) {
  ... on SetApprovalPolicyPayload { applied policy { ttlSeconds rules { action required approverRoles } } approvalRequest { id status action required } } ${ERR} } }`;
const REVOKE = `mutation($input: RevokeCertificateInput!) { revokeCertificate(input: $input) {
  ... on RevokeCertificatePayload { revocation { id status } } ${ERR} } }`;
const REVOCATION = `query($id: ID!) { revocation(id: $id) { id status error txHash approvalsHash } }`;
const REQUEST_OF = `{ approvalRequests(first: 50) { edges { node { id status action subjectId required approvalsHash revocation { id } } } } }`;
const PENDING = `{ pendingApprovals(first: 20) { totalCount edges { node { id action subjectId } } } }`;
const APPROVE = `mutation($id: ID!, $key: String) { approveOperation(id: $id, idempotencyKey: $key) { ... on ApprovalDecisionPayload { approvalRequest { id status approvalsHash approvals { memberId decision } } } ${ERR} } }`;
const REJECT = `mutation($id: ID!, $reason: String!) { rejectOperation(id: $id, reason: $reason) { ... on ApprovalDecisionPayload { approvalRequest { id status rejectionReason } } ${ERR} } }`;
const POLICY = `query($collectionId: ID) { approvalPolicy(collectionId: $collectionId) { ttlSeconds rules { action required } } }`;
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeyPayload { secret apiKey { id approvalRequestId } } ${ERR} } }`;
const BULK = `mutation($input: IssueCertificatesInput!) { issueCertificates(input: $input) { ... on IssueCertificatesPayload { approvalRequestId results { issuance { id status } error { code message } } } ${ERR} } }`;
const SUSPEND = `mutation($input: CertificateSuspensionInput!) { suspendCertificate(input: $input) { ... on CertificateOperationPayload { operation { id status } } ${ERR} } }`;
const CERT_OP = `query($id: ID!) { certificateOperation(id: $id) { id status error } }`;
const ISSUANCE = `query($id: ID!) { issuance(id: $id) { id status error } }`;
const AUDIT = `query($filter: AuditLogFilter, $last: Int) { auditLog(filter: $filter, last: $last) { totalCount edges { node { seq kind actor hash prevHash anchor { status root } } } } }`;

describe("dual control: approvals before the chain, and an audit log anyone can check", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let url: string;
  let baseUrl: string;
  let owner: ReturnType<typeof graphqlClient>;
  let secondOwner: ReturnType<typeof graphqlClient>;
  let issuer: ReturnType<typeof graphqlClient>;
  let memberless: ReturnType<typeof graphqlClient>;
  let ownerKey: string;
  let issuerMemberId: string;
  const certs: IssuedCertificate[] = [];
  const requestFor = async (subjectId: string) => {
    const { approvalRequests } = await owner.ok<{ approvalRequests: { edges: { node: any }[] } }>(REQUEST_OF);
    return approvalRequests.edges.map((e) => e.node).find((n) => n.subjectId === subjectId)!;
  };
  const revocation = async (id: string) => (await owner.ok<{ revocation: any }>(REVOCATION, { id })).revocation;
  const revoke = async (certificateId: string) =>
    (await issuer.ok<{ revokeCertificate: { revocation: { id: string; status: string } } }>(REVOKE, { input: { certificateId, reason: "Degree withdrawn by the board", reasonCode: "PRIVILEGE_WITHDRAWN" } }))
      .revokeCertificate.revocation;

  beforeAll(async () => {
    // Anchor audit roots every second, so the export can be checked against the chain within the test.
    stack = await startTestStack({ AUDIT_ANCHOR_INTERVAL_MS: "1000" });
    url = stack.devInfo.graphqlUrl;
    baseUrl = url.replace(/\/graphql$/, "");
    const institutionId = stack.devInfo.institutionId;
    const db = stack.db.db;
    const member = async (role: "OWNER" | "ISSUER") =>
      (await db.insert(members).values({ institutionId, role, address: Wallet.createRandom().address }).returning())[0]!;
    const [a, b, c] = [await member("OWNER"), await member("OWNER"), await member("ISSUER")];
    issuerMemberId = c.id;
    ownerKey = (await createApiKey(db, { institutionId, name: "owner A", scopes: ["read", "issue", "admin"], memberId: a.id })).key;
    owner = graphqlClient(url, ownerKey);
    secondOwner = graphqlClient(url, (await createApiKey(db, { institutionId, name: "owner B", scopes: ["read", "issue", "admin"], memberId: b.id })).key);
    issuer = graphqlClient(url, (await createApiKey(db, { institutionId, name: "issuer C", scopes: ["read", "issue"], memberId: c.id })).key);
    memberless = graphqlClient(url, stack.devInfo.apiKey);
    for (let i = 0; i < 3; i++) certs.push(await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: `Licence ${i}` }));
  }, 180_000);
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("an owner sets a 2-of-N revocation policy; with none in force it applies at once", async () => {
    const { setApprovalPolicy } = await owner.ok<{ setApprovalPolicy: any }>(SET_POLICY, {
      input: {
        collectionId: stack.devInfo.collectionId,
        rules: [
          { action: "REVOKE", required: 2, approverRoles: ["OWNER", "ISSUER"] },
          { action: "POLICY_CHANGE", required: 2, approverRoles: ["OWNER"] },
        ],
        ttlSeconds: 600,
      },
    });
    expect(setApprovalPolicy.applied).toBe(true);
    expect(setApprovalPolicy.policy.rules).toEqual([
      { action: "REVOKE", required: 2, approverRoles: ["OWNER", "ISSUER"] },
      { action: "POLICY_CHANGE", required: 2, approverRoles: ["OWNER"] },
    ]);
    // An issuer is not an owner: FORBIDDEN even to try.
    const refused = await issuer.fails(SET_POLICY, { input: { collectionId: stack.devInfo.collectionId, rules: [{ action: "REVOKE", required: 1, approverRoles: ["OWNER"] }] } });
    expect(refused.code).toBe("FORBIDDEN");
  });

  it("a revocation waits, the requester and a memberless key cannot approve, a second member does and it reaches the chain naming the approvals", async () => {
    // A webhook hears each state of it, the held one included (deliveries are recorded with each change).
    await owner.ok(`mutation { registerWebhook(url: "http://127.0.0.1:9/dual-control", idempotencyKey: "dual-hook") { ... on RegisterWebhookPayload { webhook { id } } ${ERR} } }`);
    const asked = await revoke(certs[0]!.id);
    expect(asked.status).toBe("AWAITING_APPROVAL");
    const request = await requestFor(asked.id);
    expect(request).toMatchObject({ status: "AWAITING_APPROVAL", action: "REVOKE", required: 1 });

    const self = await issuer.fails(APPROVE, { id: request.id });
    expect(self).toMatchObject({ code: "FORBIDDEN", typename: "NotAllowedError" });
    const keyWithoutMember = await memberless.fails(APPROVE, { id: request.id });
    expect(keyWithoutMember.code).toBe("FORBIDDEN");

    // It waits for the second owner, and for no one else.
    const waiting = (await secondOwner.ok<{ pendingApprovals: any }>(PENDING)).pendingApprovals;
    expect(waiting.edges.map((e: any) => e.node.id)).toContain(request.id);
    expect((await issuer.ok<{ pendingApprovals: any }>(PENDING)).pendingApprovals.totalCount).toBe(0);
    // Nothing went to the queue while it waited.
    const queued = await stack.db.db.select().from(outbox).where(eq(outbox.topic, "revoke-certificate"));
    expect(queued.filter((o) => o.payload.revocationId === asked.id)).toEqual([]);

    const approved = (await secondOwner.ok<{ approveOperation: any }>(APPROVE, { id: request.id, key: "dual-approve" })).approveOperation.approvalRequest;
    expect(approved.status).toBe("APPROVED");
    expect(approved.approvalsHash).toMatch(/^0x[0-9a-f]{64}$/);
    // A retry with its idempotency key answers the same; a second approval without one is a CONFLICT.
    const retried = (await secondOwner.ok<{ approveOperation: any }>(APPROVE, { id: request.id, key: "dual-approve" })).approveOperation.approvalRequest;
    expect(retried).toMatchObject({ status: "APPROVED", approvalsHash: approved.approvalsHash });
    const again = await secondOwner.fails(APPROVE, { id: request.id });
    expect(again).toMatchObject({ code: "CONFLICT", typename: "ConflictError" });

    const done = await waitFor(() => revocation(asked.id), (r) => r.status === "CONFIRMED" || r.status === "FAILED", 60_000);
    expect(done).toMatchObject({ status: "CONFIRMED", approvalsHash: approved.approvalsHash });
    const registry = certificateRegistryAt(stack.devInfo.contracts.CertificateRegistry, stack.provider);
    expect(Number(await registry.status(BigInt(certs[0]!.tokenId)))).toBe(OnChainStatus.indexOf("REVOKED"));
    // The chain alone shows it was dual-controlled: the revoking transaction names the approvals' hash.
    const receipt = await stack.provider.getTransactionReceipt(done.txHash);
    const iface = certificateRegistryInterface();
    const named = receipt!.logs.map((l) => iface.parseLog(l)).find((p) => p?.name === "RevocationApproved");
    expect(named?.args.getValue("tokenId").toString()).toBe(certs[0]!.tokenId);
    expect(named?.args.getValue("approvalsHash")).toBe(approved.approvalsHash);
    const told = await stack.db.db.select({ type: webhookDeliveries.eventType, payload: webhookDeliveries.payload }).from(webhookDeliveries);
    const mine = told.filter((d) => JSON.stringify(d.payload).includes(asked.id)).map((d) => d.type);
    expect(mine).toEqual(expect.arrayContaining(["revocation.awaiting_approval", "revocation.queued", "revocation.submitted", "revocation.confirmed"]));
  }, 90_000);

  it("the reconciler finds the approvals named on chain, and reports a database that says otherwise", async () => {
    const [approved] = await stack.db.db.select().from(revocations).where(eq(revocations.status, "CONFIRMED"));
    const mismatches = async () => (await reconcile(stack.db.db, stack.provider, stack.devInfo.chainId)).mismatches.filter((m) => m.kind === "approvals-mismatch");
    expect(await mismatches()).toEqual([]);
    await stack.db.db.update(revocations).set({ approvalsHash: `0x${"00".repeat(31)}01` }).where(eq(revocations.id, approved!.id));
    try {
      const found = await mismatches();
      expect(found).toHaveLength(1);
      expect(found[0]!.detail).toContain(approved!.id);
    } finally {
      await stack.db.db.update(revocations).set({ approvalsHash: approved!.approvalsHash }).where(eq(revocations.id, approved!.id));
    }
  });

  it("a rejected revocation never reaches the chain", async () => {
    const asked = await revoke(certs[1]!.id);
    const request = await requestFor(asked.id);
    const rejected = (await owner.ok<{ rejectOperation: any }>(REJECT, { id: request.id, reason: "Wrong certificate" })).rejectOperation.approvalRequest;
    expect(rejected).toMatchObject({ status: "REJECTED", rejectionReason: "Wrong certificate" });
    expect(await revocation(asked.id)).toMatchObject({ status: "REJECTED", txHash: null });
    expect((await secondOwner.fails(APPROVE, { id: request.id })).code).toBe("CONFLICT");
    const queued = await stack.db.db.select().from(outbox).where(eq(outbox.topic, "revoke-certificate"));
    expect(queued.filter((o) => o.payload.revocationId === asked.id)).toEqual([]);
    const registry = certificateRegistryAt(stack.devInfo.contracts.CertificateRegistry, stack.provider);
    expect(Number(await registry.status(BigInt(certs[1]!.tokenId)))).toBe(OnChainStatus.indexOf("VALID"));
  });

  it("a policy change needs the current policy's approval, then applies", async () => {
    const asked = (await owner.ok<{ setApprovalPolicy: any }>(SET_POLICY, {
      input: { collectionId: stack.devInfo.collectionId, rules: [{ action: "REVOKE", required: 2, approverRoles: ["OWNER", "ISSUER"] }, { action: "POLICY_CHANGE", required: 2, approverRoles: ["OWNER"] }], ttlSeconds: 5 },
    })).setApprovalPolicy;
    expect(asked).toMatchObject({ applied: false, policy: { ttlSeconds: 600 }, approvalRequest: { status: "AWAITING_APPROVAL", action: "POLICY_CHANGE", required: 1 } });
    expect((await owner.fails(APPROVE, { id: asked.approvalRequest.id })).code).toBe("FORBIDDEN");
    // An issuer may approve revocations, not policy changes.
    expect((await issuer.fails(APPROVE, { id: asked.approvalRequest.id })).code).toBe("FORBIDDEN");
    expect((await owner.ok<{ approvalPolicy: any }>(POLICY, { collectionId: stack.devInfo.collectionId })).approvalPolicy.ttlSeconds).toBe(600);
    const approved = (await secondOwner.ok<{ approveOperation: any }>(APPROVE, { id: asked.approvalRequest.id })).approveOperation.approvalRequest;
    expect(approved.status).toBe("APPROVED");
    expect((await owner.ok<{ approvalPolicy: any }>(POLICY, { collectionId: stack.devInfo.collectionId })).approvalPolicy.ttlSeconds).toBe(5);
  });

  it("a revocation nobody approves before its deadline ends EXPIRED, off chain", async () => {
    const asked = await revoke(certs[2]!.id);
    expect(asked.status).toBe("AWAITING_APPROVAL");
    const ended = await waitFor(() => revocation(asked.id), (r) => r.status !== "AWAITING_APPROVAL", 30_000);
    expect(ended).toMatchObject({ status: "EXPIRED", txHash: null });
    expect((await requestFor(asked.id)).status).toBe("EXPIRED");
    const late = await secondOwner.fails(APPROVE, { id: (await requestFor(asked.id)).id });
    expect(late.code).toBe("CONFLICT");
    const registry = certificateRegistryAt(stack.devInfo.contracts.CertificateRegistry, stack.provider);
    expect(Number(await registry.status(BigInt(certs[2]!.tokenId)))).toBe(OnChainStatus.indexOf("VALID"));
  }, 60_000);

  it("an ADMIN key made under the default policy's ADMIN_API_KEY rule works only once another owner approves it", async () => {
    const policy = (await owner.ok<{ setApprovalPolicy: any }>(SET_POLICY, { input: { rules: [{ action: "ADMIN_API_KEY", required: 2, approverRoles: ["OWNER"] }], ttlSeconds: 600 } })).setApprovalPolicy;
    expect(policy.applied).toBe(true);
    const made = (await owner.ok<{ createApiKey: any }>(CREATE_KEY, { input: { name: "second admin", scopes: ["ADMIN"], idempotencyKey: "dual-admin-key" } })).createApiKey;
    expect(made.apiKey.approvalRequestId).toBeTruthy();
    const inert = graphqlClient(url, made.secret);
    expect((await inert.raw(`{ viewer { id } }`)).status).toBe(401);
    // A READ key is not held: the rule names ADMIN keys only.
    const reader = (await owner.ok<{ createApiKey: any }>(CREATE_KEY, { input: { name: "reader", scopes: ["READ"], idempotencyKey: "dual-read-key" } })).createApiKey;
    expect(reader.apiKey.approvalRequestId).toBeNull();
    expect((await owner.fails(APPROVE, { id: made.apiKey.approvalRequestId })).code).toBe("FORBIDDEN");
    await secondOwner.ok(APPROVE, { id: made.apiKey.approvalRequestId });
    expect((await inert.ok<{ viewer: { id: string } }>(`{ viewer { id } }`)).viewer.id).toBeTruthy();
  });

  it("a bulk issuance above the rule's size waits as a whole, and the approvals it needs queue every item", async () => {
    const change = (await owner.ok<{ setApprovalPolicy: any }>(SET_POLICY, {
      input: {
        collectionId: stack.devInfo.collectionId,
        rules: [
          { action: "REVOKE", required: 2, approverRoles: ["OWNER", "ISSUER"] },
          { action: "BULK_ISSUANCE", required: 2, approverRoles: ["OWNER"], aboveItems: 1 },
          { action: "SUSPEND", required: 2, approverRoles: ["OWNER", "ISSUER"] },
          { action: "POLICY_CHANGE", required: 2, approverRoles: ["OWNER"] },
        ],
        ttlSeconds: 600,
      },
    })).setApprovalPolicy;
    // Run alone, no policy is in force and the change applies at once; after the tests above it waits for approval.
    if (change.approvalRequest) await secondOwner.ok(APPROVE, { id: change.approvalRequest.id });
    const items = [0, 1].map((i) => ({ recipient: Wallet.createRandom().address, title: `Bulk ${i}`, idempotencyKey: `dual-bulk-${i}` }));
    const bulk = (await issuer.ok<{ issueCertificates: any }>(BULK, { input: { collectionId: stack.devInfo.collectionId, idempotencyKey: "dual-bulk", items } })).issueCertificates;
    expect(bulk.approvalRequestId).toBeTruthy();
    expect(bulk.results.map((r: any) => r.issuance.status)).toEqual(["AWAITING_APPROVAL", "AWAITING_APPROVAL"]);
    // The same request again is the same bulk, held by the same request.
    const again = (await issuer.ok<{ issueCertificates: any }>(BULK, { input: { collectionId: stack.devInfo.collectionId, idempotencyKey: "dual-bulk", items } })).issueCertificates;
    expect(again.approvalRequestId).toBe(bulk.approvalRequestId);
    // The issuer who asked is not an OWNER, so it does not count: two owners must approve.
    const first = (await owner.ok<{ approveOperation: any }>(APPROVE, { id: bulk.approvalRequestId })).approveOperation.approvalRequest;
    expect(first.status).toBe("AWAITING_APPROVAL");
    expect((await owner.ok<{ issuance: any }>(ISSUANCE, { id: bulk.results[0].issuance.id })).issuance.status).toBe("AWAITING_APPROVAL");
    const second = (await secondOwner.ok<{ approveOperation: any }>(APPROVE, { id: bulk.approvalRequestId })).approveOperation.approvalRequest;
    expect(second.status).toBe("APPROVED");
    for (const result of bulk.results) {
      const done = await waitFor(async () => (await owner.ok<{ issuance: any }>(ISSUANCE, { id: result.issuance.id })).issuance, (i) => i.status === "CONFIRMED" || i.status === "FAILED", 60_000);
      expect(done.status).toBe("CONFIRMED");
    }
    // A single certificate is not a bulk above the rule's size: it is not held.
    const single = (await issuer.ok<{ issueCertificates: any }>(BULK, { input: { collectionId: stack.devInfo.collectionId, idempotencyKey: "dual-bulk-1", items: [{ ...items[0]!, idempotencyKey: "dual-single" }] } })).issueCertificates;
    expect(single.approvalRequestId).toBeNull();
    expect(single.results[0].issuance.status).toBe("QUEUED");
  }, 90_000);

  it("a suspension under the policy waits too, and reaches the chain once approved", async () => {
    const asked = (await issuer.ok<{ suspendCertificate: any }>(SUSPEND, { input: { certificateId: certs[1]!.id, reason: "Under investigation", idempotencyKey: "dual-suspend" } })).suspendCertificate.operation;
    expect(asked.status).toBe("AWAITING_APPROVAL");
    await owner.ok(APPROVE, { id: (await requestFor(asked.id)).id });
    const done = await waitFor(async () => (await owner.ok<{ certificateOperation: any }>(CERT_OP, { id: asked.id })).certificateOperation, (o) => o.status === "CONFIRMED" || o.status === "FAILED", 60_000);
    expect(done.status).toBe("CONFIRMED");
    const registry = certificateRegistryAt(stack.devInfo.contracts.CertificateRegistry, stack.provider);
    expect(Number(await registry.status(BigInt(certs[1]!.tokenId)))).toBe(OnChainStatus.indexOf("SUSPENDED"));
  }, 90_000);

  describe("the audit log", () => {
    let file: string;
    let lines: string[];
    const verify = (path: string) =>
      node(
        { CHAIN_RPC_URL: stack.devInfo.rpcUrl, CHAIN_ID: String(stack.devInfo.chainId), ISSUER_REGISTRY_ADDRESS: stack.devInfo.contracts.IssuerRegistry!, HALLMARK_DATA_DIR: stack.dataDir },
        "scripts/audit.ts",
        "--verify-log",
        path,
      );
    const variant = (name: string, edit: (events: string[]) => string[]) => {
      const path = join(stack.dataDir, `${name}.jsonl`);
      writeFileSync(path, `${edit([...lines]).join("\n")}\n`);
      return path;
    };

    beforeAll(async () => {
      // Every event of the story above, anchored on chain (roots are cut every second).
      await waitFor(
        async () => (await owner.ok<{ auditLog: any }>(AUDIT, { last: 1 })).auditLog.edges[0]?.node.anchor?.status,
        (s) => s === "CONFIRMED",
        60_000,
      );
      const res = await fetch(`${baseUrl}/audit-log.jsonl`, { headers: { authorization: `Bearer ${ownerKey}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/jsonl/);
      file = join(stack.dataDir, "audit-log.jsonl");
      writeFileSync(file, await res.text());
      lines = readFileSync(file, "utf8").trim().split("\n");
    }, 90_000);

    it("records who did what, chained by hash, filterable over GraphQL", async () => {
      const events = lines.map((l) => JSON.parse(l) as ExportedAuditEvent);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const kinds = events.map((e) => e.kind);
      for (const kind of ["apiKey.created", "approvalPolicy.changed", "operation.requested", "operation.approved", "operation.released", "operation.rejected", "operation.expired", "approvalPolicy.changeRequested"]) {
        expect(kinds).toContain(kind);
      }
      const expired = events.find((e) => e.kind === "operation.expired")!;
      expect(expired.actor).toBe("worker");
      const released = events.find((e) => e.kind === "operation.released")!;
      expect(released.data.approvalsHash).toMatch(/^0x[0-9a-f]{64}$/);
      const mine = (await owner.ok<{ auditLog: any }>(AUDIT, { filter: { memberId: issuerMemberId, kinds: ["OPERATION_REQUESTED"] } })).auditLog;
      expect(mine.totalCount).toBe(6);
      expect(mine.edges.every((e: any) => e.node.actor === `member:${issuerMemberId}`)).toBe(true);
      // The export needs an ADMIN key.
      const denied = await fetch(`${baseUrl}/audit-log.jsonl`);
      expect(denied.status).toBe(401);
    });

    it("an exported log verifies against the chain", async () => {
      const result = await verify(file);
      expect(result.stdout).toMatch(/^audit log OK: \d+ events/m);
      expect(result.code).toBe(0);
    }, 60_000);

    it("verification fails, naming the first bad event, when one event is altered, removed or reordered", async () => {
      const altered = await verify(
        variant("altered", (ls) => {
          const e = JSON.parse(ls[2]!);
          e.actor = "member:00000000-0000-4000-8000-000000000000";
          ls[2] = JSON.stringify(e);
          return ls;
        }),
      );
      expect(altered.code).toBe(1);
      expect(altered.stdout).toMatch(/FAILED at line 3 \(event 3\): .*altered/);

      const removed = await verify(variant("removed", (ls) => ls.filter((_, i) => i !== 1)));
      expect(removed.code).toBe(1);
      expect(removed.stdout).toMatch(/FAILED at line 2 \(event 3\)/);

      const reordered = await verify(variant("reordered", (ls) => [ls[0]!, ls[2]!, ls[1]!, ...ls.slice(3)]));
      expect(reordered.code).toBe(1);
      expect(reordered.stdout).toMatch(/FAILED at line 2 \(event 3\)/);

      // Altered and every hash after it recomputed, so the chain of hashes holds: the anchored root does not.
      const rehashed = await verify(
        variant("rehashed", (ls) => {
          const events = ls.map((l) => JSON.parse(l) as ExportedAuditEvent);
          events[1]!.data = { ...events[1]!.data, reason: "nothing to see" };
          for (let i = 1; i < events.length; i++) {
            events[i]!.prevHash = events[i - 1]!.hash;
            events[i]!.hash = auditEventHash(events[i]!);
          }
          return events.map((e) => JSON.stringify(e));
        }),
      );
      expect(rehashed.code).toBe(1);
      expect(rehashed.stdout).toMatch(/FAILED at line \d+ \(event \d+\): .*(Merkle|root)/);
    }, 120_000);
  });
});
