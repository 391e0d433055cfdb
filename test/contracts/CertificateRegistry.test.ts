import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ContractFactory,
  JsonRpcProvider,
  Wallet,
  ZeroAddress,
  ZeroHash,
  getAddress,
  getBytes,
  hexlify,
  id as keccakText,
  randomBytes,
  type Contract,
  type Log,
  type LogDescription,
  type TransactionReceipt,
} from "ethers";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { ACCOUNT_2_KEY, ACCOUNT_3_KEY, startTestChain, type TestChain } from "../support/test-chain.ts";
import { deployCertificateRegistry } from "../../core/chain/deploy.ts";
import {
  OnChainStatus,
  RevocationReason,
  certificateRegistryAt,
  decodeRegistryError,
  documentUri,
  type IssueRequest,
} from "../../core/chain/certificate-registry.ts";
import { packIssueBatch } from "../../core/chain/calldata.ts";

const HOLDER_KEY = ACCOUNT_2_KEY;
const OUTSIDER_KEY = ACCOUNT_3_KEY;

const ISSUER_ROLE = keccakText("ISSUER_ROLE");
const ONE_YEAR = 365n * 24n * 60n * 60n;

let testChain: TestChain;
let provider: JsonRpcProvider;
let admin: Wallet; // DEFAULT_ADMIN_ROLE only
let issuer: Wallet; // ISSUER_ROLE only
let holder: Wallet;
let outsider: Wallet;

beforeAll(async () => {
  testChain = await startTestChain();
  provider = testChain.provider;
  admin = testChain.wallet(DEV_KEYS.deployer);
  issuer = testChain.wallet(DEV_KEYS.minter);
  holder = testChain.wallet(HOLDER_KEY);
  outsider = testChain.wallet(OUTSIDER_KEY);
});

afterAll(async () => {
  await testChain?.close();
});

// ---------------------------------------------------------------------------------------------------------
// helpers

/** A fresh registry: `admin` holds DEFAULT_ADMIN_ROLE, `issuer` holds ISSUER_ROLE. Returns it bound to `issuer`. */
async function freshRegistry(): Promise<Contract> {
  const { address } = await deployCertificateRegistry(admin, {
    name: "Hallmark Test",
    symbol: "HMT",
    admin: admin.address,
    issuers: [issuer.address],
  });
  return certificateRegistryAt(address, issuer);
}

async function latestTimestamp(): Promise<bigint> {
  const block = await provider.getBlock("latest");
  return BigInt(block!.timestamp);
}

/** A certificate to issue: a fresh document digest (its token id), the test holder, a year of validity. */
async function makeRequest(overrides: Partial<IssueRequest> = {}): Promise<IssueRequest> {
  return {
    digest: hexlify(randomBytes(32)),
    holder: holder.address,
    validUntil: (await latestTimestamp()) + ONE_YEAR,
    ...overrides,
  };
}

/** `issue`'s and `reissue`'s trailing arguments. */
function issueArgs(r: IssueRequest): [string, string, bigint] {
  return [r.digest, r.holder, r.validUntil];
}

/** `issueBatch`'s packed argument. */
function batch(requests: IssueRequest[]): Buffer {
  return packIssueBatch(requests);
}

async function send(txPromise: Promise<{ wait(): Promise<TransactionReceipt | null> }>): Promise<TransactionReceipt> {
  const tx = await txPromise;
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error("transaction failed");
  return receipt;
}

function parseLogs(contract: Contract, logs: readonly Log[]): LogDescription[] {
  const address = (contract.target as string).toLowerCase();
  return logs
    .filter((l) => l.address.toLowerCase() === address)
    .map((l) => contract.interface.parseLog({ topics: [...l.topics], data: l.data }))
    .filter((d): d is LogDescription => d !== null);
}

/** Issues one certificate and returns its token id (from the mint's Transfer event) and the receipt. */
async function issueOne(registry: Contract, request: IssueRequest): Promise<{ tokenId: bigint; receipt: TransactionReceipt }> {
  const receipt = await send(registry.issue(...issueArgs(request)));
  const minted = parseLogs(registry, receipt.logs).find((e) => e.name === "Transfer" && e.args.from === ZeroAddress);
  if (!minted) throw new Error("no Transfer from the zero address");
  return { tokenId: minted.args.tokenId as bigint, receipt };
}

/** Awaits a promise that must reject, and asserts the exact custom error and its arguments. */
async function expectRevert(promise: Promise<unknown>, name: string, args: unknown[] = []): Promise<void> {
  const err = await promise.then(
    () => {
      throw new Error(`expected a revert with ${name}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  const decoded = decodeRegistryError(err);
  expect(decoded, `revert data of ${String((err as Error)?.message ?? err)}`).toEqual({ name, args });
}

async function statusOf(registry: Contract, tokenId: bigint): Promise<OnChainStatus> {
  return OnChainStatus[Number(await registry.status(tokenId))];
}

const reason = (r: RevocationReason) => BigInt(RevocationReason.indexOf(r));

// ---------------------------------------------------------------------------------------------------------

describe("CertificateRegistry issue", () => {
  let registry: Contract;
  beforeAll(async () => {
    registry = await freshRegistry();
  });

  it("issue: mints token id = digest to the holder; emits Transfer and CertificatesIssued, no Locked", async () => {
    const request = await makeRequest();
    const { tokenId, receipt } = await issueOne(registry, request);
    expect(tokenId).toBe(BigInt(request.digest));

    expect(await registry.ownerOf(tokenId)).toBe(holder.address);
    expect(await registry.balanceOf(holder.address)).toBe(1n);
    expect(await registry.tokenURI(tokenId)).toBe(documentUri(request.digest));
    expect(await registry.tokenOfDocument(request.digest)).toBe(tokenId);
    expect(await statusOf(registry, tokenId)).toBe("VALID");
    expect(await registry.locked(tokenId)).toBe(true);

    const record = await registry.certificate(tokenId);
    const block = await provider.getBlock(receipt.blockNumber);
    expect(record.digest).toBe(request.digest);
    expect(record.validUntil).toBe(request.validUntil);
    expect(record.issuedAt).toBe(BigInt(block!.timestamp));
    expect(record.revoked).toBe(false);
    expect(record.revocationReason).toBe(reason("UNSPECIFIED"));

    // ERC-5192's Locked at mint is only recommended; locked() answers for every token.
    expect(parseLogs(registry, receipt.logs).map((e) => [e.name, ...e.args])).toEqual([
      ["Transfer", ZeroAddress, holder.address, tokenId],
      ["CertificatesIssued", issuer.address, 1n, BurnAuth.Neither],
    ]);
  });

  it("issue: the return value of issue() is the minted token id", async () => {
    const request = await makeRequest();
    const predicted: bigint = await registry.issue.staticCall(...issueArgs(request));
    const { tokenId } = await issueOne(registry, request);
    expect(tokenId).toBe(predicted);
  });

  it("issue: validUntil 0 is stored and the certificate stays VALID after time passes", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest({ validUntil: 0n }));
    expect((await registry.certificate(tokenId)).validUntil).toBe(0n);
    await provider.send("evm_increaseTime", [Number(10n * ONE_YEAR)]);
    await provider.send("evm_mine", []);
    expect(await statusOf(registry, tokenId)).toBe("VALID");
  });

  it("issue: reverts RequestAlreadyUsed(digest) on a document issued already (a retried request)", async () => {
    const request = await makeRequest();
    const { tokenId } = await issueOne(registry, request);
    // Same document to another holder: still rejected, and the first token is untouched.
    await expectRevert(registry.issue(...issueArgs({ ...request, holder: outsider.address, validUntil: 0n })), "RequestAlreadyUsed", [request.digest]);
    expect(await registry.ownerOf(tokenId)).toBe(holder.address);
    expect(await registry.balanceOf(outsider.address)).toBe(0n);
  });

  it("issue: reverts RequestAlreadyUsed(digest) across issue and issueBatch", async () => {
    const viaIssue = await makeRequest();
    await issueOne(registry, viaIssue);
    await expectRevert(registry.issueBatch(batch([await makeRequest(), viaIssue])), "RequestAlreadyUsed", [viaIssue.digest]);

    const viaBatch = await makeRequest();
    await send(registry.issueBatch(batch([viaBatch])));
    await expectRevert(registry.issue(...issueArgs(viaBatch)), "RequestAlreadyUsed", [viaBatch.digest]);
  });

  it("issue: reverts RequestAlreadyUsed(digest) on a duplicate inside one batch", async () => {
    const dup = await makeRequest();
    const before: bigint = await registry.balanceOf(holder.address);
    await expectRevert(registry.issueBatch(batch([dup, { ...dup, holder: outsider.address }])), "RequestAlreadyUsed", [dup.digest]);
    expect(await statusOf(registry, BigInt(dup.digest))).toBe("UNKNOWN");
    expect(await registry.balanceOf(holder.address)).toBe(before);
  });

  it("issue: reverts DigestInvalid on a zero digest (token id 0 means none)", async () => {
    await expectRevert(registry.issue(...issueArgs(await makeRequest({ digest: ZeroHash }))), "DigestInvalid", []);
  });

  it("issue: reverts HolderInvalid(address(0)) for the zero holder", async () => {
    await expectRevert(registry.issue(...issueArgs(await makeRequest({ holder: ZeroAddress }))), "HolderInvalid", [ZeroAddress]);
  });

  it("issue: reverts AccessControlUnauthorizedAccount(caller, ISSUER_ROLE) for a non-issuer", async () => {
    expect(await registry.ISSUER_ROLE()).toBe(ISSUER_ROLE);
    const request = await makeRequest();
    const asOutsider = registry.connect(outsider) as Contract;
    await expectRevert(asOutsider.issue(...issueArgs(request)), "AccessControlUnauthorizedAccount", [outsider.address, ISSUER_ROLE]);
    await expectRevert(asOutsider.issueBatch(batch([request])), "AccessControlUnauthorizedAccount", [outsider.address, ISSUER_ROLE]);
    // The admin role does not imply the issuer role.
    const asAdmin = registry.connect(admin) as Contract;
    await expectRevert(asAdmin.issue(...issueArgs(request)), "AccessControlUnauthorizedAccount", [admin.address, ISSUER_ROLE]);
    expect(await statusOf(registry, BigInt(request.digest))).toBe("UNKNOWN");
  });

  it("issue: reverts BatchEmpty on an empty batch and BatchMalformed(length) on a partial entry", async () => {
    await expectRevert(registry.issueBatch(batch([])), "BatchEmpty", []);
    const packed = Buffer.concat([batch([await makeRequest()]), Buffer.from([1])]);
    await expectRevert(registry.issueBatch(packed), "BatchMalformed", [58n]);
  });

  it("issue: a contract holder gets its token with no ERC-721 receiver hook (the token can never move)", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest({ holder: registry.target as string }));
    expect(await registry.ownerOf(tokenId)).toBe(registry.target);
  });
});

describe("CertificateRegistry issueBatch", () => {
  let registry: Contract;
  beforeAll(async () => {
    registry = await freshRegistry();
  });

  it("issueBatch: mints each digest to its holder; a Transfer per token and one CertificatesIssued", async () => {
    const requests = [
      await makeRequest(),
      await makeRequest({ holder: outsider.address }),
      await makeRequest({ validUntil: 0n }),
      await makeRequest({ validUntil: 2n ** 40n - 1n }),
    ];
    const receipt = await send(registry.issueBatch(batch(requests)));
    const issuedAt = BigInt((await provider.getBlock(receipt.blockNumber))!.timestamp);
    expect(parseLogs(registry, receipt.logs).map((e) => [e.name, ...e.args])).toEqual([
      ...requests.map((r) => ["Transfer", ZeroAddress, r.holder, BigInt(r.digest)]),
      ["CertificatesIssued", issuer.address, 4n, BurnAuth.Neither],
    ]);

    for (const r of requests) {
      const tokenId = BigInt(r.digest);
      expect(await registry.ownerOf(tokenId)).toBe(r.holder);
      expect(await registry.tokenURI(tokenId)).toBe(documentUri(r.digest));
      expect(await registry.locked(tokenId)).toBe(true);
      expect(await statusOf(registry, tokenId)).toBe("VALID");
      const record = await registry.certificate(tokenId);
      expect([record.digest, record.validUntil, record.issuedAt]).toEqual([r.digest, r.validUntil, issuedAt]);
    }
  });

  it("issueBatch: one bad item reverts the whole batch and mints nothing", async () => {
    const good1 = await makeRequest();
    const bad = await makeRequest({ holder: ZeroAddress });
    const good2 = await makeRequest();
    const balanceBefore: bigint = await registry.balanceOf(holder.address);

    await expectRevert(registry.issueBatch(batch([good1, bad, good2])), "HolderInvalid", [ZeroAddress]);
    await expectRevert(registry.issueBatch(batch([good1, await makeRequest({ digest: ZeroHash })])), "DigestInvalid", []);

    expect(await statusOf(registry, BigInt(good1.digest))).toBe("UNKNOWN");
    expect(await statusOf(registry, BigInt(good2.digest))).toBe("UNKNOWN");
    expect(await registry.balanceOf(holder.address)).toBe(balanceBefore);
    await expectRevert(registry.ownerOf(BigInt(good1.digest)), "ERC721NonexistentToken", [BigInt(good1.digest)]);
    // Nothing of the batch remains: each of its documents can still be issued.
    await issueOne(registry, good1);
  });

  it("issueBatch: a large batch of fresh holders, every token its own record", async () => {
    const fresh = await freshRegistry();
    const validUntil = (await latestTimestamp()) + ONE_YEAR;
    const requests = Array.from({ length: 150 }, (_, i): IssueRequest => ({ digest: hexlify(randomBytes(32)), holder: getAddress(hexlify(randomBytes(20))), validUntil: validUntil + BigInt(i) }));
    const receipt = await send(fresh.issueBatch(batch(requests)));
    const issuedAt = BigInt((await provider.getBlock(receipt.blockNumber))!.timestamp);
    await Promise.all(
      requests.map(async (r) => {
        const tokenId = BigInt(r.digest);
        const [owner, record, uri, balance] = await Promise.all([fresh.ownerOf(tokenId), fresh.certificate(tokenId), fresh.tokenURI(tokenId), fresh.balanceOf(r.holder)]);
        expect(owner).toBe(r.holder);
        expect([record.digest, record.issuedAt, record.validUntil]).toEqual([r.digest, issuedAt, r.validUntil]);
        expect(uri).toBe(documentUri(r.digest));
        expect(balance).toBe(1n);
      }),
    );
  });
});

describe("CertificateRegistry revoke", () => {
  let registry: Contract;
  beforeAll(async () => {
    registry = await freshRegistry();
  });

  it("revoke: status becomes REVOKED and CertificateRevoked is emitted", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest());
    expect(await statusOf(registry, tokenId)).toBe("VALID");

    const receipt = await send(registry.revoke(tokenId, reason("KEY_COMPROMISE")));
    expect(parseLogs(registry, receipt.logs).map((e) => [e.name, ...e.args])).toEqual([
      ["CertificateRevoked", tokenId, reason("KEY_COMPROMISE"), issuer.address],
      ["MetadataUpdate", tokenId],
    ]);

    expect(await statusOf(registry, tokenId)).toBe("REVOKED");
    const record = await registry.certificate(tokenId);
    expect(record.revoked).toBe(true);
    expect(record.revocationReason).toBe(reason("KEY_COMPROMISE"));
  });

  it("revoke: a revoked token stays owned and locked", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest());
    await send(registry.revoke(tokenId, reason("SUPERSEDED")));
    expect(await registry.ownerOf(tokenId)).toBe(holder.address);
    expect(await registry.locked(tokenId)).toBe(true);
    await expectRevert(
      (registry.connect(holder) as Contract).transferFrom(holder.address, outsider.address, tokenId),
      "CertificateLocked",
      [tokenId],
    );
  });

  it("revoke: REVOKED takes precedence over EXPIRED", async () => {
    const validUntil = (await latestTimestamp()) + 30n;
    const { tokenId } = await issueOne(registry, await makeRequest({ validUntil }));
    await send(registry.revoke(tokenId, reason("UNSPECIFIED")));
    await provider.send("evm_increaseTime", [120]);
    await provider.send("evm_mine", []);
    expect(await statusOf(registry, tokenId)).toBe("REVOKED");
  });

  it("revoke: reverts CertificateNotFound(id) for an unknown id", async () => {
    await expectRevert(registry.revoke(999_999n, reason("UNSPECIFIED")), "CertificateNotFound", [999_999n]);
    await expectRevert(registry.revoke(0n, reason("UNSPECIFIED")), "CertificateNotFound", [0n]);
  });

  it("revoke: reverts CertificateAlreadyRevoked(id) on a second revoke", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest());
    await send(registry.revoke(tokenId, reason("AFFILIATION_CHANGED")));
    await expectRevert(registry.revoke(tokenId, reason("KEY_COMPROMISE")), "CertificateAlreadyRevoked", [tokenId]);
    // The first reason is kept.
    expect((await registry.certificate(tokenId)).revocationReason).toBe(reason("AFFILIATION_CHANGED"));
  });

  it("revoke: reverts AccessControlUnauthorizedAccount(caller, ISSUER_ROLE) for a non-issuer", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest());
    for (const who of [outsider, holder, admin]) {
      await expectRevert(
        (registry.connect(who) as Contract).revoke(tokenId, reason("UNSPECIFIED")),
        "AccessControlUnauthorizedAccount",
        [who.address, ISSUER_ROLE],
      );
    }
    expect(await statusOf(registry, tokenId)).toBe("VALID");
  });
});

describe("CertificateRegistry status and expiry", () => {
  let registry: Contract;
  beforeAll(async () => {
    registry = await freshRegistry();
  });

  it("expiry: a certificate past validUntil reports EXPIRED", async () => {
    const validUntil = (await latestTimestamp()) + 30n;
    const { tokenId } = await issueOne(registry, await makeRequest({ validUntil }));
    expect(await statusOf(registry, tokenId)).toBe("VALID");

    await provider.send("evm_increaseTime", [120]);
    await provider.send("evm_mine", []);
    expect(await latestTimestamp()).toBeGreaterThan(validUntil);
    expect(await statusOf(registry, tokenId)).toBe("EXPIRED");
    // Expiry changes only the verdict: the token is still owned, locked and readable.
    expect(await registry.ownerOf(tokenId)).toBe(holder.address);
    expect(await registry.locked(tokenId)).toBe(true);
    expect((await registry.certificate(tokenId)).revoked).toBe(false);
  });

  it("expiry: validUntil 0 never expires", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest({ validUntil: 0n }));
    await provider.send("evm_increaseTime", [Number(100n * ONE_YEAR)]);
    await provider.send("evm_mine", []);
    expect(await statusOf(registry, tokenId)).toBe("VALID");
  });

  it("status: a never-issued token is UNKNOWN", async () => {
    expect(await statusOf(registry, 0n)).toBe("UNKNOWN");
    expect(await statusOf(registry, 424_242n)).toBe("UNKNOWN");
  });

  it("status: certificate(unknown) reverts CertificateNotFound(id)", async () => {
    await expectRevert(registry.certificate(424_242n), "CertificateNotFound", [424_242n]);
  });

  it("status: locked(unknown) and tokenURI(unknown) revert ERC721NonexistentToken(id)", async () => {
    await expectRevert(registry.locked(424_242n), "ERC721NonexistentToken", [424_242n]);
    await expectRevert(registry.tokenURI(424_242n), "ERC721NonexistentToken", [424_242n]);
  });

  it("status: tokenOfDocument of an unknown document is 0", async () => {
    expect(await registry.tokenOfDocument(hexlify(randomBytes(32)))).toBe(0n);
  });
});

describe("CertificateRegistry transfer lock", () => {
  let registry: Contract;
  let asHolder: Contract;
  let tokenId: bigint;
  beforeAll(async () => {
    registry = await freshRegistry();
    asHolder = registry.connect(holder) as Contract;
    ({ tokenId } = await issueOne(registry, await makeRequest()));
  });

  it("transfer lock: transferFrom by the holder reverts CertificateLocked(tokenId)", async () => {
    await expectRevert(asHolder.transferFrom(holder.address, outsider.address, tokenId), "CertificateLocked", [tokenId]);
    expect(await registry.ownerOf(tokenId)).toBe(holder.address);
  });

  it("transfer lock: safeTransferFrom(address,address,uint256) by the holder reverts CertificateLocked(tokenId)", async () => {
    await expectRevert(
      asHolder["safeTransferFrom(address,address,uint256)"](holder.address, outsider.address, tokenId),
      "CertificateLocked",
      [tokenId],
    );
    expect(await registry.ownerOf(tokenId)).toBe(holder.address);
  });

  it("transfer lock: safeTransferFrom(address,address,uint256,bytes) by the holder reverts CertificateLocked(tokenId)", async () => {
    await expectRevert(
      asHolder["safeTransferFrom(address,address,uint256,bytes)"](holder.address, outsider.address, tokenId, "0x1234"),
      "CertificateLocked",
      [tokenId],
    );
    expect(await registry.ownerOf(tokenId)).toBe(holder.address);
  });

  it("transfer lock: approve reverts CertificateLocked(tokenId)", async () => {
    await expectRevert(asHolder.approve(outsider.address, tokenId), "CertificateLocked", [tokenId]);
    expect(await registry.getApproved(tokenId)).toBe(ZeroAddress);
  });

  it("transfer lock: setApprovalForAll reverts ApprovalsDisabled()", async () => {
    await expectRevert(asHolder.setApprovalForAll(outsider.address, true), "ApprovalsDisabled", []);
    expect(await registry.isApprovedForAll(holder.address, outsider.address)).toBe(false);
  });

  it("transfer lock: the admin and the issuer cannot move a holder's token either", async () => {
    // transferFrom calls _update(to, id, msg.sender). The registry's _update override checks the current
    // owner first and reverts CertificateLocked for any token that already exists, before OpenZeppelin's
    // _checkAuthorized would run, so an unapproved caller gets CertificateLocked, not ERC721InsufficientApproval.
    // Neither role is an ERC-721 operator: roles grant no transfer rights at all.
    for (const who of [admin, issuer]) {
      const asWho = registry.connect(who) as Contract;
      await expectRevert(asWho.transferFrom(holder.address, who.address, tokenId), "CertificateLocked", [tokenId]);
      await expectRevert(
        asWho["safeTransferFrom(address,address,uint256)"](holder.address, who.address, tokenId),
        "CertificateLocked",
        [tokenId],
      );
    }
    expect(await registry.ownerOf(tokenId)).toBe(holder.address);
  });

  it("transfer lock: transferFrom of a non-existent token cannot mint it (ERC721NonexistentToken)", async () => {
    // _update lets from == address(0) through (that is how mints pass); OpenZeppelin's authorization check
    // must then reject the caller, so transferFrom can never be used as a back-door mint.
    const ghost = 777_777n;
    await expectRevert(asHolder.transferFrom(holder.address, holder.address, ghost), "ERC721NonexistentToken", [ghost]);
    await expectRevert(
      (registry.connect(issuer) as Contract).transferFrom(ZeroAddress, holder.address, ghost),
      "ERC721NonexistentToken",
      [ghost],
    );
    expect(await statusOf(registry, ghost)).toBe("UNKNOWN");
  });
});

describe("CertificateRegistry ERC-165", () => {
  let registry: Contract;
  beforeAll(async () => {
    registry = await freshRegistry();
  });

  it.each([
    ["ERC-721", "0x80ac58cd", true],
    ["ERC-721 Metadata", "0x5b5e139f", true],
    ["ERC-5192", "0xb45a3c0e", true],
    ["ERC-4906", "0x49064906", true],
    ["ERC-5484", "0x0489b56f", true],
    ["AccessControlDefaultAdminRules", "0x31498786", true],
    ["ERC-165", "0x01ffc9a7", true],
    ["AccessControl", "0x7965db0b", true],
    ["invalid id", "0xffffffff", false],
  ])("ERC-165: supportsInterface(%s %s) is %s", async (_name, interfaceId, expected) => {
    expect(await registry.supportsInterface(interfaceId)).toBe(expected);
  });

  it("ERC-165: the ERC-5192 id is the selector of locked(uint256)", () => {
    expect(keccakText("locked(uint256)").slice(0, 10)).toBe("0xb45a3c0e");
  });

  it("ERC-165: the ERC-5484 id is the selector of burnAuth(uint256)", () => {
    expect(keccakText("burnAuth(uint256)").slice(0, 10)).toBe("0x0489b56f");
  });
});

// ---------------------------------------------------------------------------------------------------------
// Features beyond the walking skeleton: derived URIs, suspension, reissue, burn authority, metadata
// correction, roles (minter cap, pauser, two-step admin), issuer registry link.

/** `ipfs://<CIDv1 raw sha256 base32>` of a digest, as the pin stage pins documents (computed by multiformats). */
function rawCidUri(digest: string): string {
  return `ipfs://${CID.createV1(0x55, Digest.create(0x12, getBytes(digest))).toString()}`;
}

const MINTER_ROLE = keccakText("MINTER_ROLE");
const PAUSER_ROLE = keccakText("PAUSER_ROLE");
const BurnAuth = { IssuerOnly: 0n, OwnerOnly: 1n, Both: 2n, Neither: 3n } as const;

describe("CertificateRegistry tokenURI", () => {
  let registry: Contract;
  beforeAll(async () => {
    registry = await freshRegistry();
  });

  it("tokenURI: the raw-codec CIDv1 of the token id (the digest), as multiformats computes it; none is stored", async () => {
    for (let i = 0; i < 5; i++) {
      const request = await makeRequest();
      const { tokenId } = await issueOne(registry, request);
      expect(rawCidUri(request.digest)).toMatch(/^ipfs:\/\/bafkrei[a-z2-7]{52}$/);
      expect(await registry.tokenURI(tokenId)).toBe(rawCidUri(request.digest));
    }
    // A digest with leading zero bytes (a small token id) keeps its 32 bytes.
    const small = await makeRequest({ digest: `0x${"00".repeat(31)}01` });
    const { tokenId } = await issueOne(registry, small);
    expect(tokenId).toBe(1n);
    expect(await registry.tokenURI(1n)).toBe(rawCidUri(small.digest));
  });
});

describe("CertificateRegistry suspend and unsuspend", () => {
  let registry: Contract;
  beforeAll(async () => {
    registry = await freshRegistry();
  });

  it("suspend: status becomes SUSPENDED and CertificateSuspended(tokenId, by) is emitted; unsuspend restores VALID", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest());
    const receipt = await send(registry.suspend(tokenId));
    expect(parseLogs(registry, receipt.logs).map((e) => [e.name, ...e.args])).toEqual([
      ["CertificateSuspended", tokenId, issuer.address],
      ["MetadataUpdate", tokenId],
    ]);
    expect(await statusOf(registry, tokenId)).toBe("SUSPENDED");
    expect(await registry.isSuspended(tokenId)).toBe(true);

    const back = await send(registry.unsuspend(tokenId));
    expect(parseLogs(registry, back.logs).map((e) => [e.name, ...e.args])).toEqual([
      ["CertificateUnsuspended", tokenId, issuer.address],
      ["MetadataUpdate", tokenId],
    ]);
    expect(await statusOf(registry, tokenId)).toBe("VALID");
    expect(await registry.isSuspended(tokenId)).toBe(false);
  });

  it("suspend: revocation wins over suspension, and a revoked token cannot be suspended or unsuspended", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest());
    await send(registry.suspend(tokenId));
    await send(registry.revoke(tokenId, reason("KEY_COMPROMISE")));
    expect(await statusOf(registry, tokenId)).toBe("REVOKED");
    await expectRevert(registry.unsuspend(tokenId), "CertificateAlreadyRevoked", [tokenId]);
    const other = (await issueOne(registry, await makeRequest())).tokenId;
    await send(registry.revoke(other, reason("UNSPECIFIED")));
    await expectRevert(registry.suspend(other), "CertificateAlreadyRevoked", [other]);
  });

  it("suspend: reverts CertificateAlreadySuspended / CertificateNotSuspended / CertificateNotFound", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest());
    await expectRevert(registry.unsuspend(tokenId), "CertificateNotSuspended", [tokenId]);
    await send(registry.suspend(tokenId));
    await expectRevert(registry.suspend(tokenId), "CertificateAlreadySuspended", [tokenId]);
    await expectRevert(registry.suspend(999_999n), "CertificateNotFound", [999_999n]);
    await expectRevert(registry.unsuspend(999_999n), "CertificateNotFound", [999_999n]);
  });

  it("suspend: an expired suspended certificate reports EXPIRED", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest({ validUntil: (await latestTimestamp()) + 20n }));
    await send(registry.suspend(tokenId));
    await provider.send("evm_increaseTime", [60]);
    await provider.send("evm_mine", []);
    expect(await statusOf(registry, tokenId)).toBe("EXPIRED");
  });

  it("suspend: reverts AccessControlUnauthorizedAccount(caller, ISSUER_ROLE) for the admin, a minter, the holder", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest());
    await send((registry.connect(admin) as Contract).grantRole(MINTER_ROLE, outsider.address));
    for (const who of [admin, outsider, holder]) {
      const as = registry.connect(who) as Contract;
      await expectRevert(as.suspend(tokenId), "AccessControlUnauthorizedAccount", [who.address, ISSUER_ROLE]);
      await expectRevert(as.unsuspend(tokenId), "AccessControlUnauthorizedAccount", [who.address, ISSUER_ROLE]);
    }
  });
});

describe("CertificateRegistry reissue", () => {
  let registry: Contract;
  beforeAll(async () => {
    registry = await freshRegistry();
  });

  it("reissue: mints to the new address, links both ways, the old token is SUPERSEDED and stays with the old address", async () => {
    const { tokenId: old } = await issueOne(registry, await makeRequest());
    const request = await makeRequest({ holder: outsider.address });
    const predicted: bigint = await registry.reissue.staticCall(old, ...issueArgs(request));
    const receipt = await send(registry.reissue(old, ...issueArgs(request)));
    const events = parseLogs(registry, receipt.logs);
    expect(events.filter((e) => e.name === "CertificateReissued").map((e) => [...e.args])).toEqual([[old, predicted, outsider.address]]);
    // The previous token now reads Superseded: wallets refresh it; the new one is announced by its mint.
    expect(events.filter((e) => e.name === "MetadataUpdate").map((e) => [...e.args])).toEqual([[old]]);
    expect(predicted).toBe(BigInt(request.digest));
    expect(events.filter((e) => e.name === "Transfer").map((e) => [...e.args])).toEqual([[ZeroAddress, outsider.address, predicted]]);
    expect(events.filter((e) => e.name === "CertificatesIssued").map((e) => [...e.args])).toEqual([[issuer.address, 1n, BurnAuth.Neither]]);
    expect((await registry.certificate(predicted)).validUntil).toBe(request.validUntil);
    expect(await registry.ownerOf(predicted)).toBe(outsider.address);
    expect(await registry.ownerOf(old)).toBe(holder.address);
    expect(await statusOf(registry, old)).toBe("SUPERSEDED");
    expect(await statusOf(registry, predicted)).toBe("VALID");
    expect(await registry.supersededBy(old)).toBe(predicted);
    expect(await registry.replaces(predicted)).toBe(old);
    expect(await registry.supersededBy(predicted)).toBe(0n);
  });

  it("reissue: reverts CertificateAlreadySuperseded, CertificateAlreadyRevoked, CertificateNotFound, RequestAlreadyUsed", async () => {
    const { tokenId: old } = await issueOne(registry, await makeRequest());
    await send(registry.reissue(old, ...issueArgs(await makeRequest({ holder: outsider.address }))));
    await expectRevert(registry.reissue(old, ...issueArgs(await makeRequest())), "CertificateAlreadySuperseded", [old]);

    const { tokenId: revoked } = await issueOne(registry, await makeRequest());
    await send(registry.revoke(revoked, reason("KEY_COMPROMISE")));
    await expectRevert(registry.reissue(revoked, ...issueArgs(await makeRequest())), "CertificateAlreadyRevoked", [revoked]);
    await expectRevert(registry.reissue(424_242n, ...issueArgs(await makeRequest())), "CertificateNotFound", [424_242n]);

    const used = await makeRequest();
    const { tokenId: live } = await issueOne(registry, used);
    await expectRevert(registry.reissue(live, ...issueArgs(used)), "RequestAlreadyUsed", [used.digest]);
    await expectRevert(registry.reissue(live, ...issueArgs(await makeRequest({ digest: ZeroHash }))), "DigestInvalid", []);
    await expectRevert(registry.reissue(live, ...issueArgs(await makeRequest({ holder: ZeroAddress }))), "HolderInvalid", [ZeroAddress]);
    expect(await statusOf(registry, live)).toBe("VALID"); // the failed reissue rolled the superseded flag back
  });

  it("reissue: reverts AccessControlUnauthorizedAccount(caller, ISSUER_ROLE) for a minter", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest());
    await send((registry.connect(admin) as Contract).grantRole(MINTER_ROLE, outsider.address));
    await expectRevert(
      (registry.connect(outsider) as Contract).reissue(tokenId, ...issueArgs(await makeRequest())),
      "AccessControlUnauthorizedAccount",
      [outsider.address, ISSUER_ROLE],
    );
  });
});

describe("CertificateRegistry burn (ERC-5484)", () => {
  it("burn: the default burn authorization is Neither: nobody can burn", async () => {
    const registry = await freshRegistry();
    const { tokenId } = await issueOne(registry, await makeRequest());
    expect(await registry.burnAuth(tokenId)).toBe(BurnAuth.Neither);
    await expectRevert((registry.connect(holder) as Contract).burn(tokenId), "BurnNotAllowed", [tokenId, holder.address]);
    await expectRevert(registry.burn(tokenId), "BurnNotAllowed", [tokenId, issuer.address]);
  });

  it("burn: with OwnerOnly fixed at issue, the holder renounces: Transfer to zero, CertificateBurned, status REVOKED, request id stays used", async () => {
    const registry = await freshRegistry();
    const set = await send((registry.connect(admin) as Contract).setDefaultBurnAuth(BurnAuth.OwnerOnly));
    expect(parseLogs(registry, set.logs).map((e) => [e.name, ...e.args])).toEqual([["DefaultBurnAuthSet", BurnAuth.OwnerOnly]]);
    const request = await makeRequest();
    const { tokenId, receipt: issued } = await issueOne(registry, request);
    // One CertificatesIssued per issuing transaction names the burn authorization (ERC-5484's per-token Issued is not emitted).
    expect(parseLogs(registry, issued.logs).filter((e) => e.name === "CertificatesIssued").map((e) => [...e.args])).toEqual([
      [issuer.address, 1n, BurnAuth.OwnerOnly],
    ]);
    // Changing the default later does not change a token's authorization: it is fixed at issue.
    await send((registry.connect(admin) as Contract).setDefaultBurnAuth(BurnAuth.Neither));
    expect(await registry.burnAuth(tokenId)).toBe(BurnAuth.OwnerOnly);

    await expectRevert(registry.burn(tokenId), "BurnNotAllowed", [tokenId, issuer.address]);
    const before: bigint = await registry.balanceOf(holder.address);
    const receipt = await send((registry.connect(holder) as Contract).burn(tokenId));
    expect(parseLogs(registry, receipt.logs).map((e) => [e.name, ...e.args])).toEqual([
      ["CertificateBurned", tokenId, holder.address, holder.address],
      ["MetadataUpdate", tokenId],
      ["Transfer", holder.address, ZeroAddress, tokenId],
    ]);
    expect(await registry.balanceOf(holder.address)).toBe(before - 1n);
    await expectRevert(registry.ownerOf(tokenId), "ERC721NonexistentToken", [tokenId]);
    await expectRevert(registry.locked(tokenId), "ERC721NonexistentToken", [tokenId]);
    expect(await statusOf(registry, tokenId)).toBe("REVOKED");
    expect((await registry.certificate(tokenId)).revoked).toBe(true);
    await expectRevert(registry.issue(...issueArgs(request)), "RequestAlreadyUsed", [request.digest]);
    await expectRevert((registry.connect(holder) as Contract).burn(tokenId), "BurnNotAllowed", [tokenId, holder.address]);
  });

  it("burn: with IssuerOnly the issuer burns and the holder cannot; with Both either can", async () => {
    const registry = await freshRegistry();
    await send((registry.connect(admin) as Contract).setDefaultBurnAuth(BurnAuth.IssuerOnly));
    const { tokenId: a } = await issueOne(registry, await makeRequest());
    await expectRevert((registry.connect(holder) as Contract).burn(a), "BurnNotAllowed", [a, holder.address]);
    await send(registry.burn(a));
    expect(await statusOf(registry, a)).toBe("REVOKED");

    await send((registry.connect(admin) as Contract).setDefaultBurnAuth(BurnAuth.Both));
    const { tokenId: b } = await issueOne(registry, await makeRequest());
    const { tokenId: c } = await issueOne(registry, await makeRequest());
    await send((registry.connect(holder) as Contract).burn(b));
    await send(registry.burn(c));
    await expectRevert((registry.connect(outsider) as Contract).burn(b), "BurnNotAllowed", [b, outsider.address]);
    await expectRevert(registry.burn(424_242n), "CertificateNotFound", [424_242n]);
  });
});

describe("CertificateRegistry updateMetadata (ERC-4906)", () => {
  let registry: Contract;
  beforeAll(async () => {
    registry = await freshRegistry();
  });

  it("updateMetadata: emits CertificateMetadataUpdated and MetadataUpdate; tokenURI and digest follow the new document, the token id stays", async () => {
    const first = await makeRequest();
    const { tokenId } = await issueOne(registry, first);
    const digest = hexlify(randomBytes(32));
    const receipt = await send(registry.updateMetadata(tokenId, digest));
    expect(parseLogs(registry, receipt.logs).map((e) => [e.name, ...e.args])).toEqual([
      ["CertificateMetadataUpdated", tokenId, digest],
      ["MetadataUpdate", tokenId],
    ]);
    expect(await registry.tokenURI(tokenId)).toBe(rawCidUri(digest));
    expect((await registry.certificate(tokenId)).digest).toBe(digest);
    expect(await registry.tokenOfDocument(digest)).toBe(tokenId);
    expect(await registry.tokenOfDocument(first.digest)).toBe(tokenId);

    const digest2 = hexlify(randomBytes(32));
    await send(registry.updateMetadata(tokenId, digest2));
    expect(await registry.tokenURI(tokenId)).toBe(rawCidUri(digest2));
    // Every corrected document still leads to its certificate (whose digest then tells it is not the current one).
    expect(await registry.tokenOfDocument(digest)).toBe(tokenId);
    const updates = await registry.queryFilter(registry.filters.CertificateMetadataUpdated!(tokenId));
    expect(updates.map((u) => (u as unknown as LogDescription).args.digest)).toEqual([digest, digest2]);
  });

  it("updateMetadata: reverts CertificateAlreadyRevoked, CertificateNotFound, DigestInvalid, and for a non-issuer", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest());
    await expectRevert(registry.updateMetadata(tokenId, ZeroHash), "DigestInvalid", []);
    const digest = hexlify(randomBytes(32));
    await expectRevert(
      (registry.connect(outsider) as Contract).updateMetadata(tokenId, digest),
      "AccessControlUnauthorizedAccount",
      [outsider.address, ISSUER_ROLE],
    );
    await send(registry.revoke(tokenId, reason("UNSPECIFIED")));
    await expectRevert(registry.updateMetadata(tokenId, digest), "CertificateAlreadyRevoked", [tokenId]);
    await expectRevert(registry.updateMetadata(424_242n, digest), "CertificateNotFound", [424_242n]);
  });
});

describe("CertificateRegistry roles", () => {
  it("roles: a minter issues and revokes but cannot suspend, reissue or correct metadata", async () => {
    const registry = await freshRegistry();
    await send((registry.connect(admin) as Contract).grantRole(MINTER_ROLE, outsider.address));
    const asMinter = registry.connect(outsider) as Contract;
    const { tokenId } = await issueOne(asMinter, await makeRequest());
    await send(asMinter.issueBatch(batch([await makeRequest(), await makeRequest()])));
    const receipt = await send(asMinter.revoke(tokenId, reason("PRIVILEGE_WITHDRAWN")));
    expect(parseLogs(registry, receipt.logs).map((e) => [e.name, ...e.args])).toEqual([
      ["CertificateRevoked", tokenId, reason("PRIVILEGE_WITHDRAWN"), outsider.address],
      ["MetadataUpdate", tokenId],
    ]);
  });

  it("roles: the mint cap limits minters per period (MintCapExceeded(requested, remaining)) and not issuers", async () => {
    const registry = await freshRegistry();
    const asAdmin = registry.connect(admin) as Contract;
    await send(asAdmin.grantRole(MINTER_ROLE, outsider.address));
    await expectRevert(asAdmin.setMintCap(3n, 0), "MintCapInvalid", [3n, 0n]);
    const set = await send(asAdmin.setMintCap(3n, 3600));
    expect(parseLogs(registry, set.logs).map((e) => [e.name, ...e.args])).toEqual([["MintCapSet", 3n, 3600n]]);
    const asMinter = registry.connect(outsider) as Contract;
    // Align to the start of a period so the window cannot roll over mid-test.
    const now = await latestTimestamp();
    await provider.send("evm_setNextBlockTimestamp", [Number(now - (now % 3600n) + 3600n)]);
    await send(asMinter.issueBatch(batch([await makeRequest(), await makeRequest()])));
    expect((await registry.mintCap())[2]).toBe(1n);
    await expectRevert(asMinter.issueBatch(batch([await makeRequest(), await makeRequest()])), "MintCapExceeded", [2n, 1n]);
    await send(asMinter.issue(...issueArgs(await makeRequest())));
    await expectRevert(asMinter.issue(...issueArgs(await makeRequest())), "MintCapExceeded", [1n, 0n]);
    await send(registry.issueBatch(batch([await makeRequest(), await makeRequest()]))); // the issuer is not capped
    await provider.send("evm_increaseTime", [3600]);
    await provider.send("evm_mine", []);
    expect((await registry.mintCap())[2]).toBe(3n);
    await send(asMinter.issue(...issueArgs(await makeRequest())));
    await send(asAdmin.setMintCap(0n, 0));
    expect((await registry.mintCap())[0]).toBe(0n);
  });

  it("roles: pause stops issue, issueBatch, reissue and updateMetadata (EnforcedPause); revoke and suspend still work", async () => {
    const registry = await freshRegistry();
    const asAdmin = registry.connect(admin) as Contract;
    expect(await registry.hasRole(PAUSER_ROLE, admin.address)).toBe(true);
    const { tokenId } = await issueOne(registry, await makeRequest());
    await expectRevert(registry.pause(), "AccessControlUnauthorizedAccount", [issuer.address, PAUSER_ROLE]);
    await send(asAdmin.pause());
    await expectRevert(registry.issue(...issueArgs(await makeRequest())), "EnforcedPause", []);
    await expectRevert(registry.issueBatch(batch([await makeRequest()])), "EnforcedPause", []);
    await expectRevert(registry.reissue(tokenId, ...issueArgs(await makeRequest())), "EnforcedPause", []);
    await expectRevert(registry.updateMetadata(tokenId, hexlify(randomBytes(32))), "EnforcedPause", []);
    await send(registry.suspend(tokenId));
    await send(registry.revoke(tokenId, reason("KEY_COMPROMISE")));
    await send(asAdmin.unpause());
    await expectRevert(asAdmin.unpause(), "ExpectedPause", []);
    await issueOne(registry, await makeRequest());
  });

  it("roles: the default admin is transferred in two steps after the delay, never by grantRole", async () => {
    const registry = await freshRegistry();
    const asAdmin = registry.connect(admin) as Contract;
    expect(await registry.defaultAdmin()).toBe(admin.address);
    expect(await registry.defaultAdminDelay()).toBe(2n * 24n * 3600n);
    await expectRevert(asAdmin.grantRole(ZeroHash, outsider.address), "AccessControlEnforcedDefaultAdminRules", []);
    await send(asAdmin.beginDefaultAdminTransfer(outsider.address));
    const [pending, schedule] = await registry.pendingDefaultAdmin();
    expect(pending).toBe(outsider.address);
    await expectRevert((registry.connect(outsider) as Contract).acceptDefaultAdminTransfer(), "AccessControlEnforcedDefaultAdminDelay", [schedule]);
    await provider.send("evm_setNextBlockTimestamp", [Number(schedule) + 1]);
    await send((registry.connect(outsider) as Contract).acceptDefaultAdminTransfer());
    expect(await registry.defaultAdmin()).toBe(outsider.address);
    expect(await registry.hasRole(ZeroHash, admin.address)).toBe(false);
  });

  it("roles: admin-only configuration reverts for others", async () => {
    const registry = await freshRegistry();
    for (const call of [
      () => registry.setMintCap(1n, 1),
      () => registry.setDefaultBurnAuth(BurnAuth.Both),
      () => registry.setIssuerRegistry(outsider.address),
    ]) {
      await expectRevert(call(), "AccessControlUnauthorizedAccount", [issuer.address, ZeroHash]);
    }
  });

  it("roles: validUntil is a 40-bit argument: the largest is stored whole, a larger one is not a valid call", async () => {
    const registry = await freshRegistry();
    const { tokenId } = await issueOne(registry, await makeRequest({ validUntil: (1n << 40n) - 1n }));
    expect((await registry.certificate(tokenId)).validUntil).toBe((1n << 40n) - 1n);
    await expect(registry.issue(...issueArgs(await makeRequest({ validUntil: 1n << 40n })))).rejects.toThrow(/value out-of-bounds|overflow/);
  });
});

describe("CertificateRegistry ERC-4906: every change of what a token shows", () => {
  /** The ERC-4906 events of a receipt, as [name, ...args]. */
  const updates = (registry: Contract, receipt: TransactionReceipt) =>
    parseLogs(registry, receipt.logs)
      .filter((e) => e.name === "MetadataUpdate" || e.name === "BatchMetadataUpdate")
      .map((e) => [e.name, ...e.args]);

  it("ERC-4906: revoke, suspend, unsuspend, reissue, correction and burn each emit MetadataUpdate(tokenId) once; issuing emits none", async () => {
    const registry = await freshRegistry();
    await send((registry.connect(admin) as Contract).setDefaultBurnAuth(BurnAuth.Both));
    const issued = await issueOne(registry, await makeRequest());
    expect(updates(registry, issued.receipt)).toEqual([]);
    const batched = await send(registry.issueBatch(batch([await makeRequest(), await makeRequest()])));
    expect(updates(registry, batched)).toEqual([]);
    const { tokenId } = issued;

    expect(updates(registry, await send(registry.suspend(tokenId)))).toEqual([["MetadataUpdate", tokenId]]);
    expect(updates(registry, await send(registry.unsuspend(tokenId)))).toEqual([["MetadataUpdate", tokenId]]);
    const digest = hexlify(randomBytes(32));
    expect(updates(registry, await send(registry.updateMetadata(tokenId, digest)))).toEqual([["MetadataUpdate", tokenId]]);
    const next = await makeRequest();
    const successor = BigInt(next.digest);
    expect(updates(registry, await send(registry.reissue(tokenId, ...issueArgs(next))))).toEqual([["MetadataUpdate", tokenId]]);
    expect(updates(registry, await send(registry.revoke(successor, reason("SUPERSEDED"))))).toEqual([["MetadataUpdate", successor]]);
    const { tokenId: burned } = await issueOne(registry, await makeRequest());
    expect(updates(registry, await send(registry.burn(burned)))).toEqual([["MetadataUpdate", burned]]);
  });

  it("ERC-4906: a refused change emits nothing (the revert undoes it)", async () => {
    const registry = await freshRegistry();
    const { tokenId } = await issueOne(registry, await makeRequest());
    await expectRevert(registry.unsuspend(tokenId), "CertificateNotSuspended", [tokenId]);
    expect(await registry.queryFilter(registry.filters.MetadataUpdate!())).toEqual([]);
  });

  it("ERC-4906: linking the issuer registry emits BatchMetadataUpdate(1, 2^256 - 1) over every token id (ids are digests; the operator's freezes now count)", async () => {
    const registry = await freshRegistry();
    await issueOne(registry, await makeRequest());
    const linked = await send((registry.connect(admin) as Contract).setIssuerRegistry(outsider.address));
    expect(updates(registry, linked)).toEqual([["BatchMetadataUpdate", 1n, 2n ** 256n - 1n]]);
  });
});

describe("CertificateRegistry ERC-7572 contractURI", () => {
  const base = "https://hallmark.example/contracts/31337/";

  it("ERC-7572: a base given at creation names this contract's own document; none gives an empty URI", async () => {
    const { address } = await deployCertificateRegistry(admin, { name: "Meta", symbol: "MTA", admin: admin.address, issuers: [issuer.address], contractURIBase: base });
    const registry = certificateRegistryAt(address, issuer);
    expect(await registry.contractURI()).toBe(`${base}${address.toLowerCase()}/contract.json`);
    expect(await (await freshRegistry()).contractURI()).toBe("");
  });

  it("ERC-7572: the admin sets a full URI, a base or none, each emitting ContractURIUpdated()", async () => {
    const registry = await freshRegistry();
    const asAdmin = registry.connect(admin) as Contract;
    const set = await send(asAdmin.setContractURI("ipfs://bafkreigh2akiscaildc/contract.json"));
    expect(parseLogs(registry, set.logs).map((e) => [e.name, ...e.args])).toEqual([["ContractURIUpdated"]]);
    expect(await registry.contractURI()).toBe("ipfs://bafkreigh2akiscaildc/contract.json");
    await send(asAdmin.setContractURI(base));
    expect(await registry.contractURI()).toBe(`${base}${(registry.target as string).toLowerCase()}/contract.json`);
    const cleared = await send(asAdmin.setContractURI(""));
    expect(parseLogs(registry, cleared.logs).map((e) => e.name)).toEqual(["ContractURIUpdated"]);
    expect(await registry.contractURI()).toBe("");
  });

  it("ERC-7572: setContractURI reverts AccessControlUnauthorizedAccount(caller, DEFAULT_ADMIN_ROLE) for an issuer, a holder, an outsider", async () => {
    const registry = await freshRegistry();
    for (const caller of [issuer, holder, outsider]) {
      await expectRevert((registry.connect(caller) as Contract).setContractURI("https://evil.example/"), "AccessControlUnauthorizedAccount", [caller.address, ZeroHash]);
    }
    expect(await registry.contractURI()).toBe("");
  });
});
