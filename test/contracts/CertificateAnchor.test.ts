import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Contract, JsonRpcProvider, Wallet, ZeroHash, concat, hexlify, id as keccakText, keccak256, randomBytes, type TransactionReceipt } from "ethers";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { ACCOUNT_3_KEY, startTestChain, type TestChain } from "../support/test-chain.ts";
import { deployCertificateAnchor } from "../../core/chain/deploy.ts";
import { loadArtifact } from "../../core/chain/artifacts.ts";

const OUTSIDER_KEY = ACCOUNT_3_KEY;

let testChain: TestChain;
let provider: JsonRpcProvider;
let admin: Wallet;
let issuer: Wallet;
let outsider: Wallet;

beforeAll(async () => {
  testChain = await startTestChain();
  provider = testChain.provider;
  admin = testChain.wallet(DEV_KEYS.deployer);
  issuer = testChain.wallet(DEV_KEYS.minter);
  outsider = testChain.wallet(OUTSIDER_KEY);
});

afterAll(async () => {
  await testChain?.close();
});

// OpenAttestation / OpenZeppelin commutative Merkle tree: leaves as they are, parent = keccak256(sorted pair).
const hashPair = (a: string, b: string) => keccak256(BigInt(a) < BigInt(b) ? concat([a, b]) : concat([b, a]));

function buildTree(leaves: string[]): string[][] {
  const levels = [leaves];
  while (levels.at(-1)!.length > 1) {
    const level = levels.at(-1)!;
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? hashPair(level[i]!, level[i + 1]!) : level[i]!);
    levels.push(next);
  }
  return levels;
}

function proofOf(levels: string[][], index: number): string[] {
  const proof: string[] = [];
  for (const level of levels.slice(0, -1)) {
    const sibling = index ^ 1;
    if (sibling < level.length) proof.push(level[sibling]!);
    index >>= 1;
  }
  return proof;
}

/** Off-chain verification, as a verifier without a node would do it. */
function verifyOffChain(root: string, leaf: string, proof: string[]): boolean {
  return proof.reduce((acc, p) => hashPair(acc, p), leaf) === root;
}

async function send(txPromise: Promise<{ wait(): Promise<TransactionReceipt | null> }>): Promise<TransactionReceipt> {
  const receipt = await (await txPromise).wait();
  if (!receipt || receipt.status !== 1) throw new Error("transaction failed");
  return receipt;
}

async function expectRevert(contract: Contract, promise: Promise<unknown>, name: string, args: unknown[] = []): Promise<void> {
  const err = (await promise.then(
    () => {
      throw new Error(`expected a revert with ${name}`);
    },
    (e: unknown) => e,
  )) as { data?: string };
  const parsed = err.data ? contract.interface.parseError(err.data) : null;
  expect(parsed ? { name: parsed.name, args: [...parsed.args] } : err).toEqual({ name, args });
}

async function freshAnchor(): Promise<Contract> {
  const { address } = await deployCertificateAnchor(admin, { name: "Diplomas 2026", admin: admin.address, issuer: issuer.address });
  return new Contract(address, loadArtifact("CertificateAnchor").abi, issuer);
}

describe("CertificateAnchor", () => {
  it("issue: anchors the root of 1,000 digests in one transaction; every sampled leaf verifies on chain and off chain", async () => {
    const anchor = await freshAnchor();
    const leaves = Array.from({ length: 1000 }, () => hexlify(randomBytes(32)));
    const levels = buildTree(leaves);
    const root = levels.at(-1)![0]!;
    const receipt = await send(anchor.issue(root));
    expect(receipt.logs.map((l) => anchor.interface.parseLog(l)).map((e) => [e!.name, ...e!.args])).toEqual([["DocumentIssued", root]]);
    expect(await anchor.isIssued(root)).toBe(true);
    expect(await anchor.getIssuedBlock(root)).toBe(BigInt(receipt.blockNumber));
    expect(await anchor.isIssuedBefore(root, receipt.blockNumber)).toBe(true);
    expect(await anchor.isIssuedBefore(root, receipt.blockNumber - 1)).toBe(false);
    for (const i of [0, 1, 499, 998, 999]) {
      const proof = proofOf(levels, i);
      expect(verifyOffChain(root, leaves[i]!, proof)).toBe(true);
      expect(await anchor.verifyProof(root, leaves[i]!, proof)).toBe(true);
      expect(await anchor.isValid(root, leaves[i]!, proof)).toBe(true);
    }
    const stranger = hexlify(randomBytes(32));
    expect(await anchor.isValid(root, stranger, proofOf(levels, 0))).toBe(false);
    expect(verifyOffChain(root, stranger, proofOf(levels, 0))).toBe(false);
    expect(await anchor.isValid(root, leaves[1]!, proofOf(levels, 0))).toBe(false);
  });

  it("revoke: a revoked leaf is invalid while its siblings stay valid; a revoked root invalidates the batch", async () => {
    const anchor = await freshAnchor();
    const leaves = Array.from({ length: 8 }, () => hexlify(randomBytes(32)));
    const levels = buildTree(leaves);
    const root = levels.at(-1)![0]!;
    await send(anchor.issue(root));
    const r = await send(anchor.revoke(leaves[3]!));
    expect(r.logs.map((l) => anchor.interface.parseLog(l)).map((e) => [e!.name, ...e!.args])).toEqual([["DocumentRevoked", leaves[3]]]);
    expect(await anchor.isRevoked(leaves[3]!)).toBe(true);
    expect(await anchor.isRevokedBefore(leaves[3]!, r.blockNumber)).toBe(true);
    expect(await anchor.isValid(root, leaves[3]!, proofOf(levels, 3))).toBe(false);
    expect(await anchor.isValid(root, leaves[2]!, proofOf(levels, 2))).toBe(true);
    await send(anchor.bulkRevoke([root]));
    expect(await anchor.isValid(root, leaves[2]!, proofOf(levels, 2))).toBe(false);
  });

  it("revokeWithApprovals: revokes as revoke does and names the approvals' hash; refuses a zero hash, a zero or revoked target, and non-issuers", async () => {
    const anchor = await freshAnchor();
    const leaves = Array.from({ length: 4 }, () => hexlify(randomBytes(32)));
    const levels = buildTree(leaves);
    const root = levels.at(-1)![0]!;
    await send(anchor.issue(root));
    const approvals = hexlify(randomBytes(32));
    const plain = await send(anchor.revoke(leaves[0]!));
    const approved = await send(anchor.revokeWithApprovals(leaves[1]!, approvals));
    expect(approved.logs.map((l) => anchor.interface.parseLog(l)).map((e) => [e!.name, ...e!.args])).toEqual([
      ["DocumentRevoked", leaves[1]],
      ["RevocationApproved", leaves[1], approvals],
    ]);
    expect(await anchor.isRevoked(leaves[1]!)).toBe(true);
    expect(await anchor.isValid(root, leaves[1]!, proofOf(levels, 1))).toBe(false);
    expect(await anchor.isValid(root, leaves[2]!, proofOf(levels, 2))).toBe(true);
    // The approved revocation's cost over a plain one: the event naming the hash (reported with the change).
    console.log(`gas: revoke ${plain.gasUsed}, revokeWithApprovals ${approved.gasUsed} (+${approved.gasUsed - plain.gasUsed})`);
    expect(approved.gasUsed - plain.gasUsed).toBeLessThan(3_000n);

    await expectRevert(anchor, anchor.revokeWithApprovals(leaves[2]!, ZeroHash), "ApprovalsHashEmpty");
    await expectRevert(anchor, anchor.revokeWithApprovals(ZeroHash, approvals), "DocumentInvalid");
    await expectRevert(anchor, anchor.revokeWithApprovals(leaves[1]!, approvals), "DocumentAlreadyRevoked", [leaves[1]]);
    await expectRevert(anchor, anchor.revokeWithApprovals(leaves[0]!, approvals), "DocumentAlreadyRevoked", [leaves[0]]);
    await expectRevert(anchor, (anchor.connect(outsider) as Contract).revokeWithApprovals(leaves[2]!, approvals), "AccessControlUnauthorizedAccount", [
      outsider.address,
      keccakText("ISSUER_ROLE"),
    ]);
    expect(await anchor.isRevoked(leaves[2]!)).toBe(false);
    // The whole batch, approved: its root.
    await send(anchor.revokeWithApprovals(root, approvals));
    expect(await anchor.isValid(root, leaves[2]!, proofOf(levels, 2))).toBe(false);
  });

  it("issue: a single digest is its own root (empty proof), as in DocumentStore", async () => {
    const anchor = await freshAnchor();
    const digest = hexlify(randomBytes(32));
    await send(anchor.bulkIssue([digest, hexlify(randomBytes(32))]));
    expect(await anchor.isValid(digest, digest, [])).toBe(true);
    expect(await anchor.name()).toBe("Diplomas 2026");
    expect(await anchor.version()).toBe("2.3.0");
  });

  it("errors: DocumentAlreadyIssued, DocumentAlreadyRevoked, DocumentNotIssued, DocumentInvalid, and roles", async () => {
    const anchor = await freshAnchor();
    const root = hexlify(randomBytes(32));
    await send(anchor.issue(root));
    await expectRevert(anchor, anchor.issue(root), "DocumentAlreadyIssued", [root]);
    await expectRevert(anchor, anchor.bulkIssue([hexlify(randomBytes(32)), root]), "DocumentAlreadyIssued", [root]);
    await expectRevert(anchor, anchor.issue(ZeroHash), "DocumentInvalid");
    await expectRevert(anchor, anchor.revoke(ZeroHash), "DocumentInvalid");
    await send(anchor.revoke(root));
    await expectRevert(anchor, anchor.revoke(root), "DocumentAlreadyRevoked", [root]);
    const never = hexlify(randomBytes(32));
    await expectRevert(anchor, anchor.getIssuedBlock(never), "DocumentNotIssued", [never]);
    const role = keccakText("ISSUER_ROLE");
    const as = anchor.connect(outsider) as Contract;
    for (const call of [() => as.issue(never), () => as.bulkIssue([never]), () => as.revoke(never), () => as.bulkRevoke([never])]) {
      await expectRevert(anchor, call(), "AccessControlUnauthorizedAccount", [outsider.address, role]);
    }
    await expectRevert(anchor, as.setIssuerRegistry(outsider.address), "AccessControlUnauthorizedAccount", [outsider.address, ZeroHash]);
  });
});
