import { randomUUID } from "node:crypto";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificates, collections, issuances } from "../../core/db/schema.ts";
import { issueCertificate } from "../core/verification/certificates.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

/** POSTs a query with the demo institution's key; GraphQL errors fail the test. */
async function query<T>(stack: Stack, text: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(stack.devInfo.graphqlUrl, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.devInfo.apiKey}` },
    body: JSON.stringify({ query: text, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data!;
}

const STATUS = "query($id: ID!) { certificate(id: $id) { status validUntil } }";

describe("EXPIRED in the API: derived from validUntil, as the registry and the verify page derive it", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("a certificate issued through the API reads VALID, then EXPIRED once validUntil is past, as the verify page and the registry say", async () => {
    const validUntil = new Date(Date.now() + 6_000);
    const issued = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Short course", recipientName: "Ada", validUntil: validUntil.toISOString() });
    const before = await query<{ certificate: { status: string; validUntil: string } }>(stack, STATUS, { id: issued.id });
    // Issued and confirmed before its expiry (the pipeline takes a second or two of the six).
    expect(Date.now()).toBeLessThan(validUntil.getTime());
    expect(before.certificate).toEqual({ status: "VALID", validUntil: validUntil.toISOString().replace(/\.\d{3}Z$/, ".000Z") });

    const after = await waitFor(
      async () => (await query<{ certificate: { status: string } }>(stack, STATUS, { id: issued.id })).certificate.status,
      (s) => s === "EXPIRED",
      15_000,
    );
    expect(after).toBe("EXPIRED");

    // The chain agrees from its first block past validUntil (EDR stamps blocks with the wall clock).
    await stack.provider.send("evm_mine", []);
    const page = await fetch(`${stack.devInfo.graphqlUrl.replace(/\/graphql$/, "")}/verify/${issued.id}`, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(10_000),
    });
    const verdict = (await page.json()) as { verdict: string; chain: { status: string } };
    expect(verdict.chain.status).toBe("EXPIRED");
    expect(verdict.verdict).toBe("INVALID");
    const listed = await query<{ certificates: { edges: { node: { id: string; status: string } }[] } }>(
      stack,
      "query($f: CertificateFilter) { certificates(first: 100, filter: $f) { edges { node { id status } } } }",
      { f: { status: "EXPIRED" } },
    );
    expect(listed.certificates.edges.map((e) => e.node)).toContainEqual({ id: issued.id, status: "EXPIRED" });
  }, 60_000);

  it("filters on every status with the registry's precedence: revoked and superseded win over expiry, expiry over suspension", async () => {
    const db = stack.db.db;
    const institutionId = stack.devInfo.institutionId;
    const [collection] = await db
      .insert(collections)
      .values({ institutionId, name: "Expiry", symbol: "EXP", chainId: stack.devInfo.chainId, contractAddress: Wallet.createRandom().address, deployBlock: 0 })
      .returning();
    const past = new Date(Date.now() - 3_600_000);
    const future = new Date(Date.now() + 3_600_000);
    const fixtures = [
      { key: "valid", status: "VALID", validUntil: future, reads: "VALID" },
      { key: "forever", status: "VALID", validUntil: null, reads: "VALID" },
      { key: "expired", status: "VALID", validUntil: past, reads: "EXPIRED" },
      { key: "suspended", status: "SUSPENDED", validUntil: future, reads: "SUSPENDED" },
      { key: "suspended-expired", status: "SUSPENDED", validUntil: past, reads: "EXPIRED" },
      { key: "revoked-expired", status: "REVOKED", validUntil: past, reads: "REVOKED" },
      { key: "superseded-expired", status: "SUPERSEDED", validUntil: past, reads: "SUPERSEDED" },
    ] as const;
    const ids = new Map<string, string>();
    for (const [i, f] of fixtures.entries()) {
      const issuanceId = randomUUID();
      await db.insert(issuances).values({
        id: issuanceId,
        institutionId,
        collectionId: collection!.id,
        idempotencyKey: `expiry-${f.key}`,
        requestHash: "x",
        requestId: `0x${issuanceId.replaceAll("-", "").padEnd(64, "0")}`,
        recipient: Wallet.createRandom().address,
        document: {},
        status: "CONFIRMED",
      });
      const [row] = await db
        .insert(certificates)
        .values({
          issuanceId,
          institutionId,
          collectionId: collection!.id,
          tokenId: String(7_000_000 + i),
          owner: Wallet.createRandom().address,
          metadataUri: "ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
          digest: `0x${"00".repeat(32)}`,
          txHash: `0x${"11".repeat(32)}`,
          blockNumber: 1,
          status: f.status,
          validUntil: f.validUntil,
        })
        .returning();
      ids.set(f.key, row!.id);
    }
    const LIST = "query($f: CertificateFilter) { certificates(first: 100, filter: $f) { totalCount edges { node { id status } } } }";
    const all = await query<{ certificates: { edges: { node: { id: string; status: string } }[] } }>(stack, LIST, { f: { collectionId: collection!.id } });
    expect(Object.fromEntries(all.certificates.edges.map((e) => [e.node.id, e.node.status]))).toEqual(
      Object.fromEntries(fixtures.map((f) => [ids.get(f.key), f.reads])),
    );
    for (const status of ["VALID", "EXPIRED", "SUSPENDED", "REVOKED", "SUPERSEDED"]) {
      const page = await query<{ certificates: { totalCount: number; edges: { node: { id: string; status: string } }[] } }>(stack, LIST, {
        f: { collectionId: collection!.id, status },
      });
      const expected = fixtures.filter((f) => f.reads === status).map((f) => ids.get(f.key));
      expect(page.certificates.edges.map((e) => e.node.id).sort(), status).toEqual(expected.sort());
      expect(page.certificates.totalCount, status).toBe(expected.length);
      for (const e of page.certificates.edges) expect(e.node.status).toBe(status);
    }
  });
});
