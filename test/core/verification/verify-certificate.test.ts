import { Wallet } from "ethers";
import { personalDataOf } from "../../../core/operations/personal-data.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChainProvider } from "../../../core/chain/provider.ts";
import { deployIssuerRegistry } from "../../../core/chain/deploy.ts";
import { ipfsStoreSource, onChainIssuerRegistry, verifyCertificate, type VerifierDeps } from "../../../core/verification/index.ts";
import { DEV_KEYS } from "../../../scripts/dev/chain.ts";
import { resolveReference } from "../../../core/verification/reference.ts";
import { startTestStack } from "../../support/stack.ts";
import { advanceChainTime, fetchDocument, issueCertificate, revokeCertificate, tamperWithStoredBlock, type IssuedCertificate } from "./certificates.ts";

const HOLDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

describe("verifyCertificate", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let deps: VerifierDeps;
  let diploma: IssuedCertificate;

  const byId = async (id: string) => {
    const { reference, fromBlock } = await resolveReference(stack.db.db, id);
    return verifyCertificate({ reference, fromBlock }, deps);
  };
  const checksOf = (r: Awaited<ReturnType<typeof byId>>) => Object.fromEntries(r.checks.map((c) => [c.name, c.result]));

  beforeAll(async () => {
    stack = await startTestStack();
    const chains: VerifierDeps["chains"] = (chainId) => (chainId === stack.config.chain.chainId ? stack.provider : undefined);
    deps = {
      chains,
      documents: ipfsStoreSource(stack.ipfs),
      issuers: onChainIssuerRegistry(chains, { chainId: 31337, address: stack.devInfo.contracts.IssuerRegistry! }),
    };
    diploma = await issueCertificate(stack, {
      recipient: HOLDER,
      title: "Master of Science in Computer Science",
      recipientName: "Ada Lovelace",
      attributes: [{ name: "Grade", value: "Distinction" }],
    });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("finds a freshly issued certificate VALID, every fact read from the chain", async () => {
    const result = await byId(diploma.id);
    expect(result.verdict).toBe("VALID");
    expect(checksOf(result)).toEqual({ integrity: "valid", status: "valid", issuer: "valid" });
    expect(result.checks.find((c) => c.name === "issuer")!.reason).toMatch(/^issued by "Demo University" \(did:key:z6Mk\w+\), registered and active/);
    expect(result.certificate).toMatchObject({ title: "Master of Science in Computer Science", recipientName: undefined, recipientNameStatus: "NOT_DISCLOSED", issuerName: "Demo University" });
    expect(result.certificate.attributes).toEqual([{ name: "Grade", value: "Distinction" }]);
    // With the disclosures the institution holds, the name is shown and checked against the document's commitment.
    const { reference } = await resolveReference(stack.db.db, diploma.id);
    const disclosures = (await personalDataOf(stack.db.db, diploma.id))!.disclosures!;
    const disclosed = await verifyCertificate({ reference, disclosures }, deps);
    expect(disclosed.certificate).toMatchObject({ recipientName: "Ada Lovelace", recipientNameStatus: "MATCHES" });
    expect(result.chain).toMatchObject({ chainId: 31337, tokenId: diploma.tokenId, owner: HOLDER, status: "VALID", metadataUri: `ipfs://${diploma.metadataCid}` });
    expect(result.chain!.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(result.chain!.blockNumber).toBeGreaterThan(0);
  });

  it("is INVALID when the trusted issuer registry never registered the certificate's registry, UNKNOWN with none", async () => {
    // An issuer registry that knows no institution stands for an operator who never vouched for this registry.
    const { address } = await deployIssuerRegistry(new Wallet(DEV_KEYS.deployer, stack.provider), { admin: HOLDER, operator: HOLDER });
    const stranger = { ...deps, issuers: onChainIssuerRegistry(deps.chains, { chainId: 31337, address }) };
    const { reference } = await resolveReference(stack.db.db, diploma.id);
    const unvouched = await verifyCertificate({ reference }, stranger);
    expect(unvouched.verdict).toBe("INVALID");
    expect(unvouched.checks.find((c) => c.name === "issuer")).toMatchObject({ result: "invalid", reason: expect.stringContaining(`was not bound to an active institution in the issuer registry ${address}`) });

    const unconfigured = await verifyCertificate({ reference }, { ...deps, issuers: undefined });
    expect(unconfigured.verdict).toBe("UNKNOWN");
    expect(unconfigured.checks.find((c) => c.name === "issuer")).toMatchObject({ result: "skipped", reason: "no issuer registry configured" });
  });

  it("verifies the same token named by chain id, contract and token id, with no database at all", async () => {
    const { reference } = await resolveReference(undefined, `31337:${stack.devInfo.contracts.CertificateRegistry.toLowerCase()}:${diploma.tokenId}`);
    expect((await verifyCertificate({ reference }, deps)).verdict).toBe("VALID");
  });

  it("accepts the document file itself, even pretty-printed, and refuses it with one field changed", async () => {
    const bytes = await fetchDocument(stack, diploma.metadataCid);
    const pretty = new TextEncoder().encode(JSON.stringify(JSON.parse(new TextDecoder().decode(bytes)), null, 2));
    expect((await verifyCertificate({ document: pretty }, deps)).verdict).toBe("VALID");

    const altered = JSON.parse(new TextDecoder().decode(bytes));
    altered.certificate.recipient.name = "Mallory";
    const result = await verifyCertificate({ document: new TextEncoder().encode(JSON.stringify(altered)) }, deps);
    expect(result.verdict).toBe("INVALID");
    // Token ids are document digests: the altered document names no certificate the registry holds.
    expect(checksOf(result)).toMatchObject({ integrity: "invalid", status: "invalid" });
    expect(result.checks[0]!.reason).toContain("it was altered");
  });

  it("refuses a document that claims a request id the registry never saw", async () => {
    const doc = JSON.parse(new TextDecoder().decode(await fetchDocument(stack, diploma.metadataCid)));
    doc.certificate.requestId = `0x${"ab".repeat(32)}`;
    const result = await verifyCertificate({ document: new TextEncoder().encode(JSON.stringify(doc)) }, deps);
    expect(result.verdict).toBe("INVALID");
    expect(checksOf(result).status).toBe("invalid");
  });

  it("reports a token that was never issued as INVALID", async () => {
    const result = await verifyCertificate({ reference: { chainId: 31337, contract: stack.devInfo.contracts.CertificateRegistry, tokenId: 999_999n } }, deps);
    expect(result.verdict).toBe("INVALID");
    expect(result.checks.find((c) => c.name === "status")!.reason).toContain("never issued");
  });

  it("is UNKNOWN, never VALID, when the chain cannot be reached or was not asked", async () => {
    const dead = createChainProvider("http://127.0.0.1:9", 31337);
    try {
      const unreachable = await byIdWith({ ...deps, chains: () => dead }, diploma.id);
      expect(unreachable.verdict).toBe("UNKNOWN");
      expect(checksOf(unreachable).status).toBe("skipped");
      expect(unreachable.checks.find((c) => c.name === "status")!.reason).toContain("could not be reached");
    } finally {
      dead.destroy();
    }
    const offline = await verifyCertificate({ document: await fetchDocument(stack, diploma.metadataCid) }, { ...deps, offline: true });
    expect(offline.verdict).toBe("UNKNOWN");
    expect(checksOf(offline).status).toBe("skipped");
  });

  it("spots a document altered in storage: the bytes no longer hash to the token's CID", async () => {
    const victim = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Bachelor of Arts", recipientName: "Grace Hopper" });
    const original = await fetchDocument(stack, victim.metadataCid);
    const forged = new TextEncoder().encode(new TextDecoder().decode(original).replace("Bachelor of Arts", "Doctor of Medicine"));
    tamperWithStoredBlock(stack, original, forged);
    const result = await byId(victim.id);
    expect(result.verdict).toBe("INVALID");
    expect(checksOf(result).integrity).toBe("invalid");
    expect(result.checks[0]!.reason).toContain(`does not hash to ${victim.metadataCid}`);
  });

  it("reports a revoked certificate INVALID with the reason recorded on chain", async () => {
    const revoked = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Certificate of Attendance" });
    await revokeCertificate(stack, revoked.id);
    const result = await byId(revoked.id);
    expect(result.verdict).toBe("INVALID");
    expect(checksOf(result)).toMatchObject({ integrity: "valid", status: "invalid" });
    expect(result.checks.find((c) => c.name === "status")!.reason).toBe("revoked by its issuer (reason: PRIVILEGE_WITHDRAWN)");
    expect(result.chain!.status).toBe("REVOKED");
  });

  // Last: it moves the chain's clock forward for the rest of the file.
  it("reports a certificate past its validUntil as INVALID (expired)", async () => {
    const validUntil = new Date(Date.now() + 120_000).toISOString();
    const permit = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Temporary permit", validUntil });
    expect((await byId(permit.id)).verdict).toBe("VALID");
    await advanceChainTime(stack, 600);
    const result = await byId(permit.id);
    expect(result.verdict).toBe("INVALID");
    expect(result.checks.find((c) => c.name === "status")!.reason).toMatch(/^expired on /);
  });

  async function byIdWith(d: VerifierDeps, id: string) {
    const { reference } = await resolveReference(stack.db.db, id);
    return verifyCertificate({ reference }, d);
  }
});
