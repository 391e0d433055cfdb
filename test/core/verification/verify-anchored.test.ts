import { randomUUID } from "node:crypto";
import { Contract, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wrapForAnchoring, type AnchoredCertificate } from "../../../core/anchoring/envelope.ts";
import { loadArtifact } from "../../../core/chain/artifacts.ts";
import { deployCertificateAnchor, deployIssuerRegistry } from "../../../core/chain/deploy.ts";
import { buildCertificateDocument } from "../../../core/metadata/certificate.ts";
import { requestIdFor } from "../../../core/operations/request-id.ts";
import { DocumentFormatError, onChainIssuerRegistry, verifyAnchoredProof, verifyCertificate, type VerifierDeps } from "../../../core/verification/index.ts";
import { DEV_KEYS } from "../../../scripts/dev/chain.ts";
import { startTestChain, type TestChain } from "../../support/test-chain.ts";

const BATCH = 1000;

describe("anchored certificates: one root on chain for a batch, each verified by its Merkle proof", () => {
  let chain: TestChain;
  let deps: VerifierDeps;
  let anchor: Contract;
  let certificates: AnchoredCertificate[];
  let root: string;
  const file = (c: unknown) => new TextEncoder().encode(JSON.stringify(c));
  const verify = (c: unknown, extra: Partial<VerifierDeps> = {}) => verifyCertificate({ document: file(c) }, { ...deps, ...extra });
  const checksOf = (r: Awaited<ReturnType<typeof verify>>) => Object.fromEntries(r.checks.map((c) => [c.name, c.result]));

  beforeAll(async () => {
    chain = await startTestChain();
    const operator = chain.wallet(DEV_KEYS.deployer);
    const issuer = chain.wallet(DEV_KEYS.minter);
    const store = await deployCertificateAnchor(operator, { name: "Demo University Class of 2026", admin: operator.address, issuer: issuer.address });
    const registry = await deployIssuerRegistry(operator, { admin: operator.address, operator: operator.address });
    const issuers = new Contract(registry.address, loadArtifact("IssuerRegistry").abi, operator);
    await (await issuers.registerInstitution("Demo University", "did:web:demo.example", [store.address])).wait();
    anchor = new Contract(store.address, loadArtifact("CertificateAnchor").abi, issuer);

    const institution = { id: randomUUID(), name: "Demo University" };
    const collection = { id: randomUUID(), name: "Class of 2026", chainId: 31337, contractAddress: store.address };
    const documents = Array.from({ length: BATCH }, (_, i) => {
      const issuanceId = randomUUID();
      return buildCertificateDocument(
        { title: "Bachelor of Science", recipientName: `Graduate ${i}`, validUntil: i === 7 ? "2020-01-01T00:00:00.000Z" : undefined },
        { issuanceId, requestId: requestIdFor(issuanceId), issuedAt: new Date(), recipient: Wallet.createRandom().address, institution, collection },
      ).document;
    });
    ({ root, certificates } = wrapForAnchoring(documents, { chainId: 31337, contract: store.address }));
    await (await anchor.issue(root)).wait();

    const chains: VerifierDeps["chains"] = (id) => (id === 31337 ? chain.provider : undefined);
    deps = { chains, issuers: onChainIssuerRegistry(chains, { chainId: 31337, address: registry.address }) };
  });
  afterAll(async () => {
    await chain?.close();
  });

  it("proves any of 1,000 certificates VALID from one anchored root, and the contract agrees on chain", async () => {
    for (const i of [0, 1, 499, BATCH - 1]) {
      const result = await verify(certificates[i]);
      expect(result.verdict, JSON.stringify(result.checks)).toBe("VALID");
      expect(checksOf(result)).toEqual({ integrity: "valid", status: "valid", issuer: "valid" });
      expect(result.certificate.recipientName).toBe(`Graduate ${i}`);
      expect(result.chain).toMatchObject({ chainId: 31337, digest: certificates[i]!.anchor.digest, status: "VALID" });
      const { digest, proof } = certificates[i]!.anchor;
      expect(await anchor.isValid(root, digest, proof)).toBe(true);
    }
    // log2(1000) rounded up: a holder keeps ten hashes, not the batch.
    expect(certificates[499]!.anchor.proof).toHaveLength(10);
  });

  it("checks from hashes alone (what the verify page's upload sends): VALID with no field of the document, INVALID for a digest not in the tree", async () => {
    const { chainId, contract, digest, root: r, proof } = certificates[12]!.anchor;
    const result = await verifyAnchoredProof({ chainId, contract, digest, root: r, proof }, deps);
    expect(result.verdict, JSON.stringify(result.checks)).toBe("VALID");
    expect(result.certificate).toEqual({ attributes: [] });
    expect(result.checks.find((c) => c.name === "status")!.reason).toContain("the document's own expiry is checked where the document is");
    const other = await verifyAnchoredProof({ chainId, contract, digest: certificates[13]!.anchor.digest, root: r, proof }, deps);
    expect(other.verdict).toBe("INVALID");
    await expect(verifyAnchoredProof({ chainId, contract, digest: "0x12", root: r, proof }, deps)).rejects.toBeInstanceOf(DocumentFormatError);
  });

  it("says INVALID when the document is altered, the proof is swapped or the root was never anchored", async () => {
    const altered = structuredClone(certificates[3]!);
    (altered.document as any).certificate.recipient.name = "Someone Else";
    const r1 = await verify(altered);
    expect(r1.verdict).toBe("INVALID");
    expect(r1.checks.find((c) => c.name === "integrity")!.reason).toMatch(/not to the anchored root .*: the document or its proof was altered/);

    const swapped = { ...certificates[3]!, anchor: { ...certificates[3]!.anchor, proof: certificates[4]!.anchor.proof } };
    expect((await verify(swapped)).verdict).toBe("INVALID");

    const { root: strayRoot, certificates: stray } = wrapForAnchoring([certificates[5]!.document, certificates[6]!.document], certificates[5]!.anchor);
    const r3 = await verify(stray[0]);
    expect(r3.verdict).toBe("INVALID");
    expect(r3.checks.find((c) => c.name === "integrity")!.reason).toBe(`the root ${strayRoot} was never anchored in ${certificates[5]!.anchor.contract} on chain 31337`);
  });

  it("says INVALID for an expired certificate, for one revoked by its digest, and for all once the root is revoked", async () => {
    const expired = await verify(certificates[7]);
    expect(expired.verdict).toBe("INVALID");
    expect(expired.checks.find((c) => c.name === "status")!.reason).toBe("expired on 2020-01-01T00:00:00.000Z");

    await (await anchor.revoke(certificates[9]!.anchor.digest)).wait();
    const revoked = await verify(certificates[9]);
    expect(revoked.verdict).toBe("INVALID");
    expect(revoked.checks.find((c) => c.name === "status")!.reason).toBe("revoked by its issuer");
    expect((await verify(certificates[10])).verdict).toBe("VALID");

    await (await anchor.revoke(root)).wait();
    const batch = await verify(certificates[10]);
    expect(batch.verdict).toBe("INVALID");
    expect(batch.checks.find((c) => c.name === "status")!.reason).toBe(`the whole batch (root ${root}) was revoked by its issuer`);
  });

  it("offline, checks the proof but never says VALID; with no chain reachable, says UNKNOWN", async () => {
    const offline = await verify(certificates[11], { offline: true });
    expect(offline.verdict).toBe("UNKNOWN");
    expect(checksOf(offline)).toEqual({ integrity: "skipped", status: "skipped", issuer: "skipped" });
    const altered = structuredClone(certificates[11]!);
    (altered.document as any).certificate.title = "Doctor of Medicine";
    expect((await verify(altered, { offline: true })).verdict).toBe("INVALID");
    expect((await verify(certificates[11], { chains: () => undefined })).verdict).toBe("UNKNOWN");
  });
});
