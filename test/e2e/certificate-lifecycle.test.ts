import { createHash } from "node:crypto";
import { Contract, Wallet } from "ethers";
import { GraphQLClient, gql } from "graphql-request";
import { CID } from "multiformats/cid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateRegistryAt, decodeRegistryError, OnChainStatus } from "../../core/chain/certificate-registry.ts";
import { failureOf } from "../support/graphql-http.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

// Hardhat's funded development account #5: the holder, so the test can try to move the token itself.
const HOLDER_KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";

const ISSUE = gql`
  mutation Issue($input: IssueCertificateInput!) {
    issueCertificate(input: $input) {
      ... on IssueCertificatePayload {
        created
        issuance { id status queuePosition estimatedConfirmationAt }
      }
      ... on Error { __typename code message field }
    }
  }
`;
const ISSUANCE = gql`
  query Issuance($id: ID!) {
    issuance(id: $id) {
      id
      status
      error
      metadataCid
      queuePosition
      estimatedConfirmationAt
      certificate { id tokenId owner metadataUri txHash blockNumber status }
    }
  }
`;
const REVOKE = gql`
  mutation Revoke($input: RevokeCertificateInput!) {
    revokeCertificate(input: $input) {
      ... on RevokeCertificatePayload {
        revocation { id status queuePosition estimatedConfirmationAt }
        certificate { id status }
      }
      ... on Error { __typename code message field }
    }
  }
`;
const CERTIFICATE = gql`
  query Certificate($id: ID!) {
    certificate(id: $id) { id status revocationReason revokedTxHash }
  }
`;

type IssuanceView = {
  id: string;
  status: string;
  error: string | null;
  metadataCid: string | null;
  certificate: null | { id: string; tokenId: string; owner: string; metadataUri: string; txHash: string; blockNumber: number; status: string };
};

describe("a certificate from GraphQL to the chain and back", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let client: GraphQLClient;
  let baseUrl: string;
  let holder: Wallet;

  beforeAll(async () => {
    stack = await startTestStack();
    client = new GraphQLClient(stack.devInfo.graphqlUrl, { headers: { authorization: `Bearer ${stack.devInfo.apiKey}` } });
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    holder = new Wallet(HOLDER_KEY, stack.provider);
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  let issuanceId: string;
  let certificate: NonNullable<IssuanceView["certificate"]>;
  let metadataCid: string;

  it("issueCertificate answers at once with the issuance QUEUED", async () => {
    const res = await client.request<{ issueCertificate: { created: boolean; issuance: { id: string; status: string } } }>(ISSUE, {
      input: {
        collectionId: stack.devInfo.collectionId,
        recipient: holder.address.toLowerCase(),
        title: "Master of Science in Computer Science",
        recipientName: "Ada Lovelace",
        attributes: [{ name: "Grade", value: "Distinction" }],
        idempotencyKey: "e2e-lifecycle-1",
      },
    });
    expect(res.issueCertificate.created).toBe(true);
    expect(res.issueCertificate.issuance).toMatchObject({ status: "QUEUED", queuePosition: 0 });
    // Where it stands: first in the queue, confirmed within seconds at the usual pace.
    const eta = Date.parse((res.issueCertificate.issuance as unknown as { estimatedConfirmationAt: string }).estimatedConfirmationAt);
    expect(eta).toBeGreaterThan(Date.now() - 1_000);
    expect(eta).toBeLessThan(Date.now() + 60_000);
    issuanceId = res.issueCertificate.issuance.id;
  });

  it("moves QUEUED → PINNED → SUBMITTED → CONFIRMED and then carries the certificate", async () => {
    const seen: string[] = [];
    const order = ["QUEUED", "PINNED", "SUBMITTED", "CONFIRMED"];
    const final = await waitFor(
      async () => {
        const { issuance } = await client.request<{ issuance: IssuanceView }>(ISSUANCE, { id: issuanceId });
        if (seen.at(-1) !== issuance.status) seen.push(issuance.status);
        return issuance;
      },
      (i) => i.status === "CONFIRMED" || i.status === "FAILED",
    );
    expect(final).toMatchObject({ error: null, status: "CONFIRMED", queuePosition: null, estimatedConfirmationAt: null });
    // Polling may miss a state, but never sees them out of order.
    expect(seen.map((s) => order.indexOf(s))).toEqual([...seen.map((s) => order.indexOf(s))].sort());
    expect(seen).not.toContain("FAILED");
    certificate = final.certificate!;
    metadataCid = final.metadataCid!;
    expect(certificate).toMatchObject({ owner: holder.address, status: "VALID", metadataUri: `ipfs://${metadataCid}` });
    expect(certificate.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(certificate.blockNumber).toBeGreaterThan(0);
  });

  it("is on chain: owned by the recipient, ERC-5192 locked, pointing at the metadata", async () => {
    const registry = certificateRegistryAt(stack.devInfo.contracts.CertificateRegistry, stack.provider);
    const tokenId = BigInt(certificate.tokenId);
    expect(await registry.ownerOf(tokenId)).toBe(holder.address);
    expect(await registry.locked(tokenId)).toBe(true);
    expect(await registry.tokenURI(tokenId)).toBe(certificate.metadataUri);
    expect(OnChainStatus[Number(await registry.status(tokenId))]).toBe("VALID");
    const receipt = await stack.provider.getTransactionReceipt(certificate.txHash);
    expect(receipt?.blockNumber).toBe(certificate.blockNumber);
  });

  it("cannot be transferred by its holder: the transfer reverts with CertificateLocked", async () => {
    const registry = certificateRegistryAt(stack.devInfo.contracts.CertificateRegistry, holder) as Contract;
    const tokenId = BigInt(certificate.tokenId);
    const attempt = registry.transferFrom(holder.address, Wallet.createRandom().address, tokenId);
    const err = await attempt.then(() => undefined, (e: unknown) => e);
    expect(decodeRegistryError(err)).toEqual({ name: "CertificateLocked", args: [tokenId] });
    expect(await registry.ownerOf(tokenId)).toBe(holder.address);
  });

  it("serves the metadata at /ipfs/<cid>, its bytes hashing to that CID", async () => {
    const res = await fetch(`${baseUrl}/ipfs/${metadataCid}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toContain("immutable");
    const bytes = new Uint8Array(await res.arrayBuffer());
    const cid = CID.parse(metadataCid);
    const sha256 = createHash("sha256").update(bytes).digest();
    expect(cid.multihash.code).toBe(0x12);
    expect(Buffer.from(cid.multihash.digest).equals(sha256)).toBe(true);
    const doc = JSON.parse(new TextDecoder().decode(bytes));
    expect(doc.name).toBe("Master of Science in Computer Science");
    // The holder's name is personal data: the public document commits to it with a salted digest only.
    expect(doc.certificate.recipient).toEqual({ address: holder.address, name: { digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) } });
    expect(new TextDecoder().decode(bytes)).not.toContain("Lovelace");
    // The content digest on chain is the hash of these very bytes.
    const registry = certificateRegistryAt(stack.devInfo.contracts.CertificateRegistry, stack.provider);
    const record = await registry.certificate(BigInt(certificate.tokenId));
    expect(record.digest).toBe(`0x${sha256.toString("hex")}`);
  });

  it("the same request with the same idempotency key names the same issuance; a different one is refused", async () => {
    const input = {
      collectionId: stack.devInfo.collectionId,
      recipient: holder.address.toLowerCase(),
      title: "Master of Science in Computer Science",
      recipientName: "Ada Lovelace",
      attributes: [{ name: "Grade", value: "Distinction" }],
      idempotencyKey: "e2e-lifecycle-1",
    };
    const again = await client.request<{ issueCertificate: { created: boolean; issuance: { id: string } } }>(ISSUE, { input });
    expect(again.issueCertificate).toMatchObject({ created: false, issuance: { id: issuanceId } });
    const conflict = await failureOf(client.request(ISSUE, { input: { ...input, title: "Something else" } }));
    expect(conflict).toMatchObject({ typed: true, typename: "IdempotencyConflictError", code: "IDEMPOTENCY_CONFLICT", field: "idempotencyKey" });
  });

  it("revokeCertificate ends with the certificate REVOKED, on chain and in the API", async () => {
    const res = await client.request<{ revokeCertificate: { revocation: { id: string; status: string }; certificate: { status: string } } }>(
      REVOKE,
      { input: { certificateId: certificate.id, reason: "Issued in error", reasonCode: "PRIVILEGE_WITHDRAWN" } },
    );
    expect(res.revokeCertificate.revocation).toMatchObject({ status: "QUEUED", queuePosition: 0, estimatedConfirmationAt: expect.any(String) });
    const revoked = await waitFor(
      async () => (await client.request<{ certificate: { status: string; revocationReason: string; revokedTxHash: string } }>(CERTIFICATE, { id: certificate.id })).certificate,
      (c) => c.status === "REVOKED",
    );
    expect(revoked.revocationReason).toBe("PRIVILEGE_WITHDRAWN");
    const registry = certificateRegistryAt(stack.devInfo.contracts.CertificateRegistry, stack.provider);
    expect(OnChainStatus[Number(await registry.status(BigInt(certificate.tokenId)))]).toBe("REVOKED");
    const { issuance } = await client.request<{ issuance: IssuanceView }>(ISSUANCE, { id: issuanceId });
    expect(issuance.certificate!.status).toBe("REVOKED");
  });
});
