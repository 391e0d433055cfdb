import { createHash, randomUUID } from "node:crypto";
import { Wallet, ZeroAddress } from "ethers";
import { GraphQLClient, gql } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateRegistryAt, OnChainStatus } from "../../core/chain/certificate-registry.ts";
import { institutions } from "../../core/db/schema.ts";
import { createApiKey } from "../../server/auth/api-keys.ts";
import { issueCertificate, revokeCertificate } from "../core/verification/certificates.ts";
import { failureOf } from "../support/graphql-http.ts";
import { startTestStack, waitFor } from "../support/stack.ts";
import { wrongChecksumAddress } from "../support/addresses.ts";

const OPERATION_FIELDS = `operation { id kind status error txHash newHolder metadataUri digest newCertificate { id tokenId owner } } created certificate { id status }`;
const RECOVER = gql`mutation($input: RecoverCertificateInput!) { recoverCertificate(input: $input) { ... on CertificateOperationPayload { ${OPERATION_FIELDS} } ... on Error { __typename code message field } } }`;
const CORRECT = gql`mutation($input: CorrectCertificateMetadataInput!) { correctCertificateMetadata(input: $input) { ... on CertificateOperationPayload { ${OPERATION_FIELDS} } ... on Error { __typename code message field } } }`;
const SUSPEND = gql`mutation($input: CertificateSuspensionInput!) { suspendCertificate(input: $input) { ... on CertificateOperationPayload { ${OPERATION_FIELDS} } ... on Error { __typename code message field } } }`;
const UNSUSPEND = gql`mutation($input: CertificateSuspensionInput!) { unsuspendCertificate(input: $input) { ... on CertificateOperationPayload { ${OPERATION_FIELDS} } ... on Error { __typename code message field } } }`;
const OPERATION = gql`
  query($id: ID!) {
    certificateOperation(id: $id) { id kind status error txHash metadataUri digest newCertificate { id tokenId owner } }
  }
`;
const CERTIFICATE = gql`
  query($id: ID!) {
    certificate(id: $id) {
      id tokenId owner status metadataUri digest
      replaces { id tokenId }
      supersededBy { id tokenId }
      operations { id kind status }
      metadataHistory { uri digest txHash current }
      history { kind txHash blockNumber }
    }
  }
`;
const VERIFY = gql`query($id: ID!) { verify(id: $id) { verdict checks { name result reason } } }`;
const VERIFY_DOCUMENT = gql`query($document: JSON!) { verifyDocument(document: $document) { verdict checks { name result reason } } }`;

interface OperationView {
  id: string;
  kind: string;
  status: string;
  error: string | null;
  txHash: string | null;
  metadataUri: string | null;
  digest: string | null;
  newCertificate: { id: string; tokenId: string; owner: string } | null;
}
interface Payload {
  operation: OperationView;
  created: boolean;
  certificate: { id: string; status: string };
}
interface CertificateView {
  id: string;
  tokenId: string;
  owner: string;
  status: string;
  metadataUri: string;
  digest: string;
  replaces: { id: string; tokenId: string } | null;
  supersededBy: { id: string; tokenId: string } | null;
  operations: { id: string; kind: string; status: string }[];
  metadataHistory: { uri: string; digest: string; txHash: string | null; current: boolean }[];
  history: { kind: string; txHash: string | null; blockNumber: number | null }[];
}
interface Verification {
  verdict: string;
  checks: { name: string; result: string; reason: string }[];
}

describe("certificate operations: recovery, correction, suspension", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let client: GraphQLClient;
  let baseUrl: string;
  let registry: ReturnType<typeof certificateRegistryAt>;

  beforeAll(async () => {
    stack = await startTestStack();
    client = new GraphQLClient(stack.devInfo.graphqlUrl, { headers: { authorization: `Bearer ${stack.devInfo.apiKey}` } });
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    registry = certificateRegistryAt(stack.devInfo.contracts.CertificateRegistry, stack.provider);
  }, 120_000);
  afterAll(async () => {
    await stack?.cleanup();
  });

  const certificate = async (id: string) => (await client.request<{ certificate: CertificateView }>(CERTIFICATE, { id })).certificate;
  const verify = async (id: string) => (await client.request<{ verify: Verification }>(VERIFY, { id })).verify;
  const onChainStatus = async (tokenId: string) => OnChainStatus[Number(await registry.status(BigInt(tokenId)))];
  const finished = (id: string) =>
    waitFor(
      async () => (await client.request<{ certificateOperation: OperationView }>(OPERATION, { id })).certificateOperation,
      (o) => o.status === "CONFIRMED" || o.status === "FAILED",
    );
  /** An expected failure: a typed member of the mutation's result union. */
  const refusal = async (mutation: string, input: Record<string, unknown>) => {
    const failure = await failureOf(client.request(mutation, { input }));
    expect(failure.typed, `${failure.code} should be a typed error`).toBe(true);
    return failure;
  };

  describe("suspension", () => {
    let cert: Awaited<ReturnType<typeof issueCertificate>>;
    beforeAll(async () => {
      cert = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Suspended for a while" });
    }, 60_000);

    it("suspendCertificate goes QUEUED → SUBMITTED → CONFIRMED; the certificate is SUSPENDED on chain and in the API, and does not verify", async () => {
      const input = { certificateId: cert.id, reason: "Under investigation", idempotencyKey: `suspend-${cert.id}` };
      const res = await client.request<{ suspendCertificate: Payload }>(SUSPEND, { input });
      expect(res.suspendCertificate).toMatchObject({ created: true, operation: { kind: "SUSPEND", status: "QUEUED", error: null }, certificate: { id: cert.id, status: "VALID" } });
      const done = await finished(res.suspendCertificate.operation.id);
      expect(done).toMatchObject({ status: "CONFIRMED", error: null });
      expect(done.txHash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(await onChainStatus(cert.tokenId)).toBe("SUSPENDED");
      expect(await registry.isSuspended(BigInt(cert.tokenId))).toBe(true);
      // The indexer confirms from the event and records its block with it: the history has it as soon as it is CONFIRMED.
      const view = await certificate(cert.id);
      expect(view.status).toBe("SUSPENDED");
      expect(view.history.map((h) => h.kind)).toEqual(["ISSUED", "SUSPENDED"]);
      expect(view.history[1]).toMatchObject({ txHash: done.txHash, blockNumber: expect.any(Number) });
      const verdict = await verify(cert.id);
      expect(verdict.verdict).toBe("INVALID");
      expect(verdict.checks.find((c) => c.name === "status")?.result).toBe("invalid");

      // The same key and request: the same operation; the same key for something else: refused.
      const again = await client.request<{ suspendCertificate: Payload }>(SUSPEND, { input });
      expect(again.suspendCertificate).toMatchObject({ created: false, operation: { id: done.id, status: "CONFIRMED" } });
      expect((await refusal(SUSPEND, { ...input, reason: "Something else" })).extensions.code).toBe("IDEMPOTENCY_CONFLICT");
      // Suspended already: refused before anything is queued.
      const twice = await refusal(SUSPEND, { ...input, idempotencyKey: randomUUID() });
      expect(twice.extensions.code).toBe("CONFLICT");
    });

    it("unsuspendCertificate reinstates it: VALID on chain, in the API and to the verifier", async () => {
      const res = await client.request<{ unsuspendCertificate: Payload }>(UNSUSPEND, {
        input: { certificateId: cert.id, reason: "Cleared", idempotencyKey: `unsuspend-${cert.id}` },
      });
      expect(res.unsuspendCertificate.operation).toMatchObject({ kind: "UNSUSPEND", status: "QUEUED" });
      expect((await finished(res.unsuspendCertificate.operation.id)).status).toBe("CONFIRMED");
      expect(await onChainStatus(cert.tokenId)).toBe("VALID");
      const view = await certificate(cert.id);
      expect(view.status).toBe("VALID");
      expect(view.history.map((h) => h.kind)).toEqual(["ISSUED", "SUSPENDED", "UNSUSPENDED"]);
      expect((await verify(cert.id)).verdict).toBe("VALID");
      // Not suspended any more: nothing to lift.
      const again = await refusal(UNSUSPEND, { certificateId: cert.id, reason: "Again", idempotencyKey: randomUUID() });
      expect(again.extensions.code).toBe("CONFLICT");
    });
  });

  describe("recovery to a new wallet", () => {
    let old: Awaited<ReturnType<typeof issueCertificate>>;
    const lost = Wallet.createRandom().address;
    const fresh = Wallet.createRandom().address;
    let operation: OperationView;

    beforeAll(async () => {
      old = await issueCertificate(stack, { recipient: lost, title: "BSc Mathematics", recipientName: "Emmy Noether", attributes: [{ name: "Grade", value: "First" }] });
    }, 60_000);

    it("refuses malformed, zero and wrongly checksummed addresses with BAD_USER_INPUT naming newHolder, and queues nothing", async () => {
      const wrongChecksum = wrongChecksumAddress();
      for (const newHolder of ["0x1234", "not an address", ZeroAddress, wrongChecksum, lost]) {
        const err = await refusal(RECOVER, { certificateId: old.id, newHolder, reason: "Lost wallet", idempotencyKey: randomUUID() });
        expect(err.extensions, newHolder).toMatchObject({ code: "BAD_USER_INPUT", field: "newHolder" });
      }
      const blank = await refusal(RECOVER, { certificateId: old.id, newHolder: fresh, reason: "  ", idempotencyKey: randomUUID() });
      expect(blank.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "reason" });
      const unknown = await refusal(RECOVER, { certificateId: randomUUID(), newHolder: fresh, reason: "Lost wallet", idempotencyKey: randomUUID() });
      expect(unknown.extensions.code).toBe("NOT_FOUND");
      expect((await certificate(old.id)).operations).toEqual([]);
    });

    it("recoverCertificate goes QUEUED → PINNED → SUBMITTED → CONFIRMED and reissues to the new address", async () => {
      const input = { certificateId: old.id, newHolder: fresh.toLowerCase(), reason: "Lost wallet", idempotencyKey: `recover-${old.id}` };
      const res = await client.request<{ recoverCertificate: Payload }>(RECOVER, { input });
      expect(res.recoverCertificate).toMatchObject({ created: true, operation: { kind: "RECOVER", status: "QUEUED", newHolder: fresh } });
      const seen: string[] = [];
      const order = ["QUEUED", "PINNED", "SUBMITTED", "CONFIRMED"];
      operation = await waitFor(
        async () => {
          const { certificateOperation: o } = await client.request<{ certificateOperation: OperationView }>(OPERATION, { id: res.recoverCertificate.operation.id });
          if (seen.at(-1) !== o.status) seen.push(o.status);
          return o;
        },
        (o) => o.status === "CONFIRMED" || o.status === "FAILED",
      );
      expect(operation).toMatchObject({ status: "CONFIRMED", error: null });
      expect(seen.map((s) => order.indexOf(s))).toEqual([...seen.map((s) => order.indexOf(s))].sort());
      expect(operation.newCertificate).toMatchObject({ owner: fresh });
      // Same key, same request: the same operation.
      const again = await client.request<{ recoverCertificate: Payload }>(RECOVER, { input });
      expect(again.recoverCertificate).toMatchObject({ created: false, operation: { id: operation.id } });
      expect((await refusal(RECOVER, { ...input, newHolder: Wallet.createRandom().address })).extensions.code).toBe("IDEMPOTENCY_CONFLICT");
    });

    it("on chain: the old token SUPERSEDED and linked to the new one, owned by the new address, pointing at the new document", async () => {
      const oldToken = BigInt(old.tokenId);
      const newToken = BigInt(operation.newCertificate!.tokenId);
      expect(await onChainStatus(old.tokenId)).toBe("SUPERSEDED");
      expect(await onChainStatus(operation.newCertificate!.tokenId)).toBe("VALID");
      expect(await registry.supersededBy(oldToken)).toBe(newToken);
      expect(await registry.replaces(newToken)).toBe(oldToken);
      expect(await registry.ownerOf(newToken)).toBe(fresh);
      expect(await registry.tokenURI(newToken)).toBe(operation.metadataUri);
      expect((await registry.certificate(newToken)).digest).toBe(operation.digest);
    });

    it("in the API: old SUPERSEDED with supersededBy, new VALID with replaces, and its document the same fields for the new holder", async () => {
      const [was, now] = await Promise.all([certificate(old.id), certificate(operation.newCertificate!.id)]);
      expect(was).toMatchObject({ status: "SUPERSEDED", supersededBy: { id: now.id, tokenId: now.tokenId }, replaces: null });
      expect(now).toMatchObject({ status: "VALID", owner: fresh, replaces: { id: was.id, tokenId: was.tokenId }, supersededBy: null, metadataUri: operation.metadataUri });
      expect(was.history.map((h) => h.kind)).toEqual(["ISSUED", "RECOVERED"]);
      expect(was.history[1]!.txHash).toBe(operation.txHash);
      const cid = operation.metadataUri!.replace("ipfs://", "");
      const bytes = new Uint8Array(await (await fetch(`${baseUrl}/ipfs/${cid}`)).arrayBuffer());
      expect(`0x${createHash("sha256").update(bytes).digest("hex")}`).toBe(operation.digest);
      const doc = JSON.parse(new TextDecoder().decode(bytes));
      expect(doc.name).toBe("BSc Mathematics");
      // The same committed name (personal data stays out of the document), so the holder's disclosure opens both.
      const original = JSON.parse(await (await fetch(`${baseUrl}/ipfs/${old.metadataCid}`)).text());
      expect(original.certificate.recipient.name).toEqual({ digest: expect.stringMatching(/^sha256:/) });
      expect(doc.certificate).toMatchObject({
        recipient: { address: fresh, name: original.certificate.recipient.name },
        attributes: [{ name: "Grade", value: "First" }],
        replaces: { id: old.id, tokenId: old.tokenId },
      });
      expect(new TextDecoder().decode(bytes)).not.toContain("Noether");
      // The recovered certificate shows the holder's name through its own link, from the disclosures it inherits.
      const held = await client.request<any>(gql`query($id: ID!) { certificate(id: $id) { personalData { recipientName shareUrl } } }`, { id: now.id });
      expect(held.certificate.personalData.recipientName).toBe("Emmy Noether");
      const share = new URL(held.certificate.personalData.shareUrl).searchParams.get("share");
      const shown = await client.request<any>(gql`query($id: ID!, $share: String) { verify(id: $id, share: $share) { certificate { recipientName recipientNameStatus } } }`, { id: now.id, share });
      expect(shown.verify.certificate).toEqual({ recipientName: "Emmy Noether", recipientNameStatus: "MATCHES" });
    });

    it("verifies: the old certificate INVALID (superseded by a newer certificate), the new one VALID", async () => {
      const was = await verify(old.id);
      expect(was.verdict).toBe("INVALID");
      expect(was.checks.find((c) => c.name === "status")).toMatchObject({ result: "invalid", reason: "superseded by a newer certificate" });
      expect((await verify(operation.newCertificate!.id)).verdict).toBe("VALID");
    });

    it("refuses a second recovery of the superseded certificate with CERTIFICATE_SUPERSEDED", async () => {
      const err = await refusal(RECOVER, { certificateId: old.id, newHolder: Wallet.createRandom().address, reason: "Again", idempotencyKey: randomUUID() });
      expect(err.extensions.code).toBe("CERTIFICATE_SUPERSEDED");
    });
  });

  describe("metadata correction", () => {
    let cert: Awaited<ReturnType<typeof issueCertificate>>;
    let before: CertificateView;
    let operation: OperationView;

    beforeAll(async () => {
      cert = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "MSc Chemistyr", recipientName: "Rosalind Franklin" });
      before = await certificate(cert.id);
    }, 60_000);

    it("validates the fields as at issue, and queues nothing malformed", async () => {
      const long = await refusal(CORRECT, { certificateId: cert.id, title: "x".repeat(201), idempotencyKey: randomUUID() });
      expect(long.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "title" });
      const attr = await refusal(CORRECT, { certificateId: cert.id, title: "MSc", attributes: [{ name: " ", value: "x" }], idempotencyKey: randomUUID() });
      expect(attr.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "attributes[0].name" });
      const data = await refusal(CORRECT, { certificateId: cert.id, title: "MSc", data: [1, 2], idempotencyKey: randomUUID() });
      expect(data.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "data" });
      expect((await certificate(cert.id)).operations).toEqual([]);
    });

    it("correctCertificateMetadata pins the corrected document and updates it on chain; the certificate points at it", async () => {
      const res = await client.request<{ correctCertificateMetadata: Payload }>(CORRECT, {
        input: { certificateId: cert.id, title: "MSc Chemistry", recipientName: "Rosalind Franklin", reason: "Typo in the title", idempotencyKey: `correct-${cert.id}` },
      });
      expect(res.correctCertificateMetadata.operation).toMatchObject({ kind: "CORRECT_METADATA", status: "QUEUED" });
      operation = await finished(res.correctCertificateMetadata.operation.id);
      expect(operation).toMatchObject({ status: "CONFIRMED", error: null });
      expect(operation.metadataUri).not.toBe(before.metadataUri);
      const tokenId = BigInt(cert.tokenId);
      expect(await registry.tokenURI(tokenId)).toBe(operation.metadataUri);
      expect((await registry.certificate(tokenId)).digest).toBe(operation.digest);
      expect(await onChainStatus(cert.tokenId)).toBe("VALID");
      const now = await certificate(cert.id);
      expect(now).toMatchObject({ status: "VALID", metadataUri: operation.metadataUri, digest: operation.digest });
      expect(now.history.map((h) => h.kind)).toEqual(["ISSUED", "METADATA_CORRECTED"]);
    });

    it("keeps earlier documents findable: metadataHistory lists both, and the old bytes are still served", async () => {
      const now = await certificate(cert.id);
      expect(now.metadataHistory).toEqual([
        { uri: before.metadataUri, digest: before.digest, txHash: expect.stringMatching(/^0x/), current: false },
        { uri: operation.metadataUri, digest: operation.digest, txHash: operation.txHash, current: true },
      ]);
      const old = await fetch(`${baseUrl}/ipfs/${before.metadataUri.replace("ipfs://", "")}`);
      expect(old.status).toBe(200);
      expect(JSON.parse(await old.text()).name).toBe("MSc Chemistyr");
    });

    it("verifies VALID against its new document; the corrected-away document no longer matches the chain", async () => {
      expect((await verify(cert.id)).verdict).toBe("VALID");
      const fetchDoc = async (uri: string) => (await fetch(`${baseUrl}/ipfs/${uri.replace("ipfs://", "")}`)).json();
      const current = await client.request<{ verifyDocument: Verification }>(VERIFY_DOCUMENT, { document: await fetchDoc(operation.metadataUri!) });
      expect(current.verifyDocument.verdict).toBe("VALID");
      expect((await fetchDoc(operation.metadataUri!)).name).toBe("MSc Chemistry");
      const stale = await client.request<{ verifyDocument: Verification }>(VERIFY_DOCUMENT, { document: await fetchDoc(before.metadataUri) });
      expect(stale.verifyDocument.verdict).toBe("INVALID");
      expect(stale.verifyDocument.checks.find((c) => c.name === "integrity")?.result).toBe("invalid");
    });
  });

  it("refuses every operation on a revoked certificate with CERTIFICATE_REVOKED", async () => {
    const cert = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Revoked" });
    await revokeCertificate(stack, cert.id);
    const common = { certificateId: cert.id, reason: "Try", idempotencyKey: randomUUID() };
    const codes = [
      (await refusal(RECOVER, { ...common, newHolder: Wallet.createRandom().address })).extensions.code,
      (await refusal(CORRECT, { ...common, title: "New title", idempotencyKey: randomUUID() })).extensions.code,
      (await refusal(SUSPEND, { ...common, idempotencyKey: randomUUID() })).extensions.code,
      (await refusal(UNSUSPEND, { ...common, idempotencyKey: randomUUID() })).extensions.code,
    ];
    expect(codes).toEqual(["CERTIFICATE_REVOKED", "CERTIFICATE_REVOKED", "CERTIFICATE_REVOKED", "CERTIFICATE_REVOKED"]);
    expect((await certificate(cert.id)).operations).toEqual([]);
  }, 60_000);

  it("answers NOT_FOUND for another institution's certificate and operation, and refuses a second operation while one is under way", async () => {
    const cert = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Busy" });
    const first = await client.request<{ suspendCertificate: Payload }>(SUSPEND, { input: { certificateId: cert.id, reason: "One", idempotencyKey: randomUUID() } });
    // Recorded in the same breath: the suspension cannot have been confirmed yet.
    const busy = await refusal(CORRECT, { certificateId: cert.id, title: "Other", idempotencyKey: randomUUID() });
    expect(busy.extensions.code).toBe("CONFLICT");
    await finished(first.suspendCertificate.operation.id);

    // Another institution with its own key sees neither the certificate nor the operation.
    const db = stack.db.db;
    const [other] = await db.insert(institutions).values({ name: "Elsewhere", slug: `elsewhere-${randomUUID().slice(0, 8)}` }).returning();
    const { key } = await createApiKey(db, { institutionId: other!.id, name: "other", scopes: ["read", "issue"] });
    const stranger = new GraphQLClient(stack.devInfo.graphqlUrl, { headers: { authorization: `Bearer ${key}` } });
    for (const [mutation, extra] of [
      [RECOVER, { newHolder: Wallet.createRandom().address }],
      [CORRECT, {}],
      [UNSUSPEND, {}],
    ] as const) {
      const err = await failureOf(stranger.request(mutation, { input: { certificateId: cert.id, reason: "Mine", idempotencyKey: randomUUID(), ...extra } }));
      expect(err).toMatchObject({ typed: true, typename: "NotFoundError", code: "NOT_FOUND" });
    }
    const read = await stranger.request(OPERATION, { id: first.suspendCertificate.operation.id }).catch((e) => e);
    expect(read.response.errors[0].extensions.code).toBe("NOT_FOUND");
  }, 60_000);
});
