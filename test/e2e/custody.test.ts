import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { Wallet } from "ethers";
import { GraphQLClient, gql } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateRegistryAt, OnChainStatus } from "../../core/chain/certificate-registry.ts";
import { holderClaims, institutions } from "../../core/db/schema.ts";
import { createApiKey } from "../../server/auth/api-keys.ts";
import { failureOf } from "../support/graphql-http.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

const ISSUE = gql`mutation($input: IssueCertificateInput!) { issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id recipient status } created } ... on Error { __typename code message field } } }`;
const ISSUANCE = gql`query($id: ID!) { issuance(id: $id) { status error recipient metadataCid certificate { id tokenId owner } } }`;
const ACCOUNT = gql`query($ref: String!) { holderAccount(holderReference: $ref) { custodialAddress claimedAddress claimedAt certificates { id owner status } } }`;
const CREATE_CLAIM = gql`mutation($input: CreateHolderClaimInput!) { createHolderClaim(input: $input) { ... on HolderClaim { claimCode expiresAt created holderAccount { custodialAddress claimedAddress } } ... on Error { __typename code message field } } }`;
const CLAIM = gql`mutation($code: String!, $key: String) { claimCustody(code: $code, idempotencyKey: $key) { ... on ClaimCustodyPayload { created address custodialAddress operations { id certificateId status } } ... on Error { __typename code message field } } }`;
const CHALLENGE = gql`mutation($address: String!) { requestHolderSignIn(address: $address) { ... on HolderSignInChallenge { message nonce } ... on Error { __typename code message field } } }`;
const SIGN_IN = gql`mutation($nonce: String!, $signature: String!) { holderSignIn(nonce: $nonce, signature: $signature) { ... on HolderSession { token } ... on Error { __typename code message field } } }`;
const HOLDER = gql`query { holder { address certificates { id status } } }`;
const OPERATION = gql`query($id: ID!) { certificateOperation(id: $id) { id kind status error newHolder newCertificate { id tokenId owner } } }`;
const CERTIFICATE = gql`
  query($id: ID!) {
    certificate(id: $id) { id tokenId owner status replaces { id tokenId } supersededBy { id tokenId } history { kind txHash } }
  }
`;
const VERIFY = gql`query($id: ID!) { verify(id: $id) { verdict } }`;


describe("holders without a wallet: custodial accounts and claims", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let a: GraphQLClient;
  let b: GraphQLClient;
  let anonymous: GraphQLClient;
  let registry: ReturnType<typeof certificateRegistryAt>;
  let baseUrl: string;
  const reference = "Ada.Lovelace@Example.ORG";
  const holderWallet = Wallet.createRandom();
  let custodial: string;
  const issued: { id: string; tokenId: string; owner: string; metadataCid: string }[] = [];
  let collectionOfA: string;

  beforeAll(async () => {
    stack = await startTestStack();
    const url = stack.devInfo.graphqlUrl;
    baseUrl = url.replace(/\/graphql$/, "");
    a = new GraphQLClient(url, { headers: { authorization: `Bearer ${stack.devInfo.apiKey}` } });
    anonymous = new GraphQLClient(url);
    registry = certificateRegistryAt(stack.devInfo.contracts.CertificateRegistry, stack.provider);
    // Institution B, with a key of its own (its collection is never issued into here).
    const [other] = await stack.db.db.insert(institutions).values({ name: "Other College", slug: `other-${randomUUID().slice(0, 8)}` }).returning();
    b = new GraphQLClient(url, { headers: { authorization: `Bearer ${(await createApiKey(stack.db.db, { institutionId: other!.id, name: "custody-test", scopes: ["read", "issue"] })).key}` } });
    collectionOfA = stack.devInfo.collectionId;
  }, 120_000);
  afterAll(async () => {
    await stack?.cleanup();
  });

  const issue = async (input: Record<string, unknown>, client = a) => {
    const res = await client.request<{ issueCertificate: { issuance: { id: string; recipient: string } } }>(ISSUE, {
      input: { collectionId: stack.devInfo.collectionId, idempotencyKey: randomUUID(), title: "BSc Poetical Science", ...input },
    });
    type View = { status: string; error: string | null; recipient: string; metadataCid: string; certificate: { id: string; tokenId: string; owner: string } | null };
    const done = await waitFor(
      async () => (await client.request<{ issuance: View }>(ISSUANCE, { id: res.issueCertificate.issuance.id })).issuance,
      (i) => i.status === "CONFIRMED" || i.status === "FAILED",
    );
    expect(done.error).toBeNull();
    return { ...done.certificate!, metadataCid: done.metadataCid, recipient: done.recipient };
  };
  const refused = (client: GraphQLClient, query: string, variables: Record<string, unknown>) => failureOf(client.request(query, variables));
  const signIn = async (wallet: { address: string; signMessage(m: string): Promise<string> }) => {
    const { requestHolderSignIn } = await anonymous.request<any>(CHALLENGE, { address: wallet.address });
    const signature = await wallet.signMessage(requestHolderSignIn.message);
    const { holderSignIn } = await anonymous.request<any>(SIGN_IN, { nonce: requestHolderSignIn.nonce, signature });
    return new GraphQLClient(stack.devInfo.graphqlUrl, { headers: { authorization: `Bearer ${holderSignIn.token}` } });
  };
  const newClaim = async (client = a, extra: Record<string, unknown> = {}) =>
    (await client.request<{ createHolderClaim: { claimCode: string; expiresAt: string; created: boolean } }>(CREATE_CLAIM, {
      input: { holderReference: reference, idempotencyKey: randomUUID(), ...extra },
    })).createHolderClaim;

  it("issues to a holder reference: a custodial account, the same for both certificates, nothing of the reference on chain or IPFS", async () => {
    const first = await issue({ holderReference: reference, recipientName: "Ada Lovelace" });
    // Another spelling of the same reference (case, width, white space) is the same holder.
    const second = await issue({ holderReference: "  ada.lovelace@example.org ", title: "MSc Analytical Engines" });
    issued.push(first, second);
    custodial = first.owner;
    expect(first.recipient).toBe(custodial);
    expect(second.owner).toBe(custodial);
    expect(custodial).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(await registry.ownerOf(BigInt(first.tokenId))).toBe(custodial);
    expect(await registry.ownerOf(BigInt(second.tokenId))).toBe(custodial);

    const doc = await (await fetch(`${baseUrl}/ipfs/${first.metadataCid}`)).text();
    expect(JSON.parse(doc).certificate.recipient).toEqual({ address: custodial, name: { digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) } });
    expect(doc).not.toContain("Lovelace");
    expect(doc.toLowerCase()).not.toContain("lovelace@");

    const { holderAccount } = await a.request<any>(ACCOUNT, { ref: reference });
    expect(holderAccount).toMatchObject({ custodialAddress: custodial, claimedAddress: null, claimedAt: null });
    expect(holderAccount.certificates.map((c: { id: string }) => c.id).sort()).toEqual([first.id, second.id].sort());
  });

  it("derives another account for another institution, and keeps each institution's holders to itself", async () => {
    const { createHolderClaim } = await b.request<any>(CREATE_CLAIM, { input: { holderReference: reference, idempotencyKey: "b-claim" } });
    expect(createHolderClaim.holderAccount.custodialAddress).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(createHolderClaim.holderAccount.custodialAddress).not.toBe(custodial);
    const { holderAccount } = await b.request<any>(ACCOUNT, { ref: reference });
    expect(holderAccount).toMatchObject({ custodialAddress: createHolderClaim.holderAccount.custodialAddress, certificates: [] });
    // B's code names B's holder: it claims nothing of A's.
    const stranger = await signIn(Wallet.createRandom());
    const res = await stranger.request<any>(CLAIM, { code: createHolderClaim.claimCode });
    expect(res.claimCustody).toMatchObject({ custodialAddress: createHolderClaim.holderAccount.custodialAddress, operations: [] });
    expect((await a.request<any>(ACCOUNT, { ref: reference })).holderAccount.claimedAddress).toBeNull();
    // B may not issue into A's collection, by reference or otherwise.
    expect((await refused(b, ISSUE, { input: { collectionId: collectionOfA, holderReference: reference, idempotencyKey: randomUUID() } })).extensions.code).toBe("NOT_FOUND");
    // A reference nothing was issued to: no account.
    expect((await a.request<any>(ACCOUNT, { ref: "nobody@example.org" })).holderAccount).toBeNull();
  });

  it("refuses issuance input with neither or both of recipient and holderReference, or a bad reference", async () => {
    for (const [input, field] of [
      [{}, "recipient"],
      [{ recipient: holderWallet.address, holderReference: reference }, "holderReference"],
      [{ holderReference: "   " }, "holderReference"],
      [{ holderReference: "x".repeat(321) }, "holderReference"],
      [{ holderReference: "ada\u0000@example.org" }, "holderReference"],
      [{ holderReference: "ada\u200b@example.org" }, "holderReference"],
    ] as const) {
      const err = await refused(a, ISSUE, { input: { collectionId: stack.devInfo.collectionId, idempotencyKey: randomUUID(), ...input } });
      expect(err.extensions, JSON.stringify(input)).toMatchObject({ code: "BAD_USER_INPUT", field });
    }
    // Unicode is kept: a reference in another script is its own holder.
    const { issueCertificate } = await a.request<any>(ISSUE, { input: { collectionId: stack.devInfo.collectionId, idempotencyKey: randomUUID(), holderReference: "学生-2024-0042" } });
    expect(issueCertificate.issuance.recipient).toMatch(/^0x/);
    expect(issueCertificate.issuance.recipient).not.toBe(custodial);
  });

  it("refuses claim codes that are unknown, expired or used, and claims without a holder session", async () => {
    const holder = await signIn(Wallet.createRandom());
    expect((await refused(holder, CLAIM, { code: "hm-holder-made-up" })).extensions.code).toBe("CLAIM_CODE_INVALID");
    expect((await refused(holder, CLAIM, { code: "" })).extensions.code).toBe("CLAIM_CODE_INVALID");

    const open = await newClaim();
    const soon = await newClaim(a, { idempotencyKey: "soon", expiresAt: new Date(Date.now() + 60_000).toISOString() });
    // Its expiry moved into the past in the database: waiting for it is no test.
    await stack.db.db.update(holderClaims).set({ expiresAt: new Date(Date.now() - 1_000) }).where(eq(holderClaims.idempotencyKey, "soon"));
    expect((await refused(holder, CLAIM, { code: soon.claimCode })).extensions.code).toBe("CLAIM_CODE_EXPIRED");
    expect(open.claimCode).toMatch(/^hm-holder-/);

    // Not a holder session: an API key or nobody.
    expect(["FORBIDDEN", "UNAUTHENTICATED"]).toContain((await refused(a, CLAIM, { code: open.claimCode })).extensions.code);
    expect(["FORBIDDEN", "UNAUTHENTICATED"]).toContain((await refused(anonymous, CLAIM, { code: open.claimCode })).extensions.code);

    // Bad claim requests from the institution.
    for (const expiresAt of [new Date(Date.now() - 60_000).toISOString(), new Date(Date.now() + 400 * 86_400_000).toISOString()]) {
      expect((await refused(a, CREATE_CLAIM, { input: { holderReference: reference, idempotencyKey: randomUUID(), expiresAt } })).extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "expiresAt" });
    }
    expect((await refused(a, CREATE_CLAIM, { input: { holderReference: "", idempotencyKey: randomUUID() } })).extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "holderReference" });
    // The same key: the same claim, its code not shown again; the same key for another holder: refused.
    const again = await refused(a, CREATE_CLAIM, { input: { holderReference: reference, idempotencyKey: "soon", expiresAt: new Date(Date.now() + 90_000).toISOString() } });
    expect(again).toMatchObject({ typed: true, typename: "IdempotencyConflictError", code: "IDEMPOTENCY_CONFLICT" });
    const repeat = await a.request<any>(CREATE_CLAIM, { input: { holderReference: reference, idempotencyKey: "soon" } });
    expect(repeat.createHolderClaim).toMatchObject({ created: false, claimCode: null });
    expect((await refused(a, CREATE_CLAIM, { input: { holderReference: "someone.else@example.org", idempotencyKey: "soon" } })).extensions.code).toBe("IDEMPOTENCY_CONFLICT");
  });

  it("claims after Sign-In with Ethereum: both certificates reissued to the wallet, the custodial ones SUPERSEDED, links and history kept", async () => {
    const { claimCode: code } = await newClaim();
    const spare = await newClaim();
    const holder = await signIn(holderWallet);
    const { claimCustody } = await holder.request<any>(CLAIM, { code, key: "claim-once" });
    expect(claimCustody).toMatchObject({ created: true, address: holderWallet.address, custodialAddress: custodial });
    // The holder's app lost the answer and asks again with its key: the same claim, not CLAIM_CODE_USED.
    const retry = (await holder.request<any>(CLAIM, { code, key: "claim-once" })).claimCustody;
    expect(retry).toMatchObject({ created: false, address: holderWallet.address, custodialAddress: custodial });
    expect(retry.operations.map((o: { id: string }) => o.id)).toEqual(claimCustody.operations.map((o: { id: string }) => o.id));
    expect((await refused(holder, CLAIM, { code: spare.claimCode, key: "claim-once" })).extensions.code).toBe("IDEMPOTENCY_CONFLICT");
    expect(claimCustody.operations).toHaveLength(2);
    expect(claimCustody.operations.map((o: { certificateId: string }) => o.certificateId).sort()).toEqual(issued.map((c) => c.id).sort());
    expect(claimCustody.operations.every((o: { status: string }) => o.status === "QUEUED")).toBe(true);

    for (const op of claimCustody.operations as { id: string; certificateId: string }[]) {
      const done = await waitFor(
        async () => (await a.request<any>(OPERATION, { id: op.id })).certificateOperation,
        (o) => o.status === "CONFIRMED" || o.status === "FAILED",
      );
      expect(done).toMatchObject({ kind: "RECOVER", status: "CONFIRMED", error: null, newHolder: holderWallet.address, newCertificate: { owner: holderWallet.address } });
      const old = issued.find((c) => c.id === op.certificateId)!;
      const [was, now] = await Promise.all([
        a.request<any>(CERTIFICATE, { id: old.id }).then((r) => r.certificate),
        a.request<any>(CERTIFICATE, { id: done.newCertificate.id }).then((r) => r.certificate),
      ]);
      expect(was).toMatchObject({ status: "SUPERSEDED", owner: custodial, supersededBy: { id: now.id, tokenId: now.tokenId } });
      expect(was.history.map((h: { kind: string }) => h.kind)).toEqual(["ISSUED", "RECOVERED"]);
      expect(now).toMatchObject({ status: "VALID", owner: holderWallet.address, replaces: { id: old.id, tokenId: old.tokenId } });
      expect(await registry.ownerOf(BigInt(now.tokenId))).toBe(holderWallet.address);
      expect(OnChainStatus[Number(await registry.status(BigInt(old.tokenId)))]).toBe("SUPERSEDED");
      expect(await registry.replaces(BigInt(now.tokenId))).toBe(BigInt(old.tokenId));
      expect((await anonymous.request<any>(VERIFY, { id: now.id })).verify.verdict).toBe("VALID");
    }
    const { holder: me } = await holder.request<any>(HOLDER);
    expect(me.certificates).toHaveLength(2);
    const { holderAccount } = await a.request<any>(ACCOUNT, { ref: reference });
    expect(holderAccount).toMatchObject({ custodialAddress: custodial, claimedAddress: holderWallet.address, claimedAt: expect.any(String) });

    // Spent, and the holder is claimed: the code again, another code, a new code.
    expect((await refused(holder, CLAIM, { code })).extensions.code).toBe("CLAIM_CODE_USED");
    expect((await refused(holder, CLAIM, { code: spare.claimCode })).extensions.code).toBe("ALREADY_CLAIMED");
    expect((await refused(a, CREATE_CLAIM, { input: { holderReference: reference, idempotencyKey: randomUUID() } })).extensions.code).toBe("ALREADY_CLAIMED");
  });

  it("issues later certificates to the same reference straight to the claimed wallet", async () => {
    const later = await issue({ holderReference: reference, title: "PhD Notes on the Engine" });
    expect(later.owner).toBe(holderWallet.address);
    expect(await registry.ownerOf(BigInt(later.tokenId))).toBe(holderWallet.address);
    const { holderAccount } = await a.request<any>(ACCOUNT, { ref: reference });
    expect(holderAccount.certificates.map((c: { id: string }) => c.id)).toContain(later.id);
  });
});
