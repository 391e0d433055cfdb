import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ContractFactory,
  JsonRpcProvider,
  Wallet,
  ZeroAddress,
  ZeroHash,
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
  type IssueRequest,
} from "../../core/chain/certificate-registry.ts";
import { loadArtifact } from "../../core/chain/artifacts.ts";

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

function requestId(): string {
  return hexlify(randomBytes(32));
}

async function latestTimestamp(): Promise<bigint> {
  const block = await provider.getBlock("latest");
  return BigInt(block!.timestamp);
}

async function makeRequest(overrides: Partial<IssueRequest> = {}): Promise<IssueRequest> {
  return {
    requestId: requestId(),
    holder: holder.address,
    uri: `ipfs://bafy${hexlify(randomBytes(8)).slice(2)}`,
    digest: hexlify(randomBytes(32)),
    validUntil: (await latestTimestamp()) + ONE_YEAR,
    ...overrides,
  };
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

/** Issues one certificate and returns its token id (from the CertificateIssued event) and the receipt. */
async function issueOne(registry: Contract, request: IssueRequest): Promise<{ tokenId: bigint; receipt: TransactionReceipt }> {
  const receipt = await send(registry.issue(request));
  const issued = parseLogs(registry, receipt.logs).find((e) => e.name === "CertificateIssued");
  if (!issued) throw new Error("no CertificateIssued event");
  return { tokenId: issued.args.tokenId as bigint, receipt };
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

  it("issue: mints to the holder and emits CertificateIssued and Locked", async () => {
    const request = await makeRequest();
    const { tokenId, receipt } = await issueOne(registry, request);
    expect(tokenId).toBe(1n); // token ids start at 1 (0 means "no token" in tokenOfRequest)

    expect(await registry.ownerOf(tokenId)).toBe(holder.address);
    expect(await registry.balanceOf(holder.address)).toBe(1n);
    expect(await registry.tokenURI(tokenId)).toBe(request.uri);
    expect(await registry.tokenOfRequest(request.requestId)).toBe(tokenId);
    expect(await statusOf(registry, tokenId)).toBe("VALID");
    expect(await registry.locked(tokenId)).toBe(true);

    const record = await registry.certificate(tokenId);
    const block = await provider.getBlock(receipt.blockNumber);
    expect(record.requestId).toBe(request.requestId);
    expect(record.digest).toBe(request.digest);
    expect(record.validUntil).toBe(request.validUntil);
    expect(record.issuedAt).toBeGreaterThan(0n);
    expect(record.issuedAt).toBe(BigInt(block!.timestamp));
    expect(record.revoked).toBe(false);
    expect(record.revocationReason).toBe(reason("UNSPECIFIED"));

    const events = parseLogs(registry, receipt.logs);
    const issued = events.filter((e) => e.name === "CertificateIssued");
    expect(issued).toHaveLength(1);
    expect([...issued[0].args]).toEqual([
      request.requestId,
      tokenId,
      holder.address,
      request.uri,
      request.digest,
      request.validUntil,
    ]);
    const lockedEvents = events.filter((e) => e.name === "Locked");
    expect(lockedEvents.map((e) => [...e.args])).toEqual([[tokenId]]);
    const transfers = events.filter((e) => e.name === "Transfer");
    expect(transfers.map((e) => [...e.args])).toEqual([[ZeroAddress, holder.address, tokenId]]);
  });

  it("issue: the return value of issue() is the minted token id", async () => {
    const request = await makeRequest();
    const predicted: bigint = await registry.issue.staticCall(request);
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

  it("issue: reverts RequestAlreadyUsed(requestId) on a reused request id", async () => {
    const request = await makeRequest();
    const { tokenId } = await issueOne(registry, request);
    // Same id, different holder and content: still rejected, and the original mapping is untouched.
    await expectRevert(
      registry.issue({ ...request, holder: outsider.address, uri: "ipfs://other", digest: ZeroHash }),
      "RequestAlreadyUsed",
      [request.requestId],
    );
    expect(await registry.tokenOfRequest(request.requestId)).toBe(tokenId);
    expect(await registry.balanceOf(outsider.address)).toBe(0n);
  });

  it("issue: reverts RequestAlreadyUsed(requestId) across issue and issueBatch", async () => {
    const viaIssue = await makeRequest();
    await issueOne(registry, viaIssue);
    await expectRevert(registry.issueBatch([await makeRequest(), viaIssue]), "RequestAlreadyUsed", [viaIssue.requestId]);

    const viaBatch = await makeRequest();
    await send(registry.issueBatch([viaBatch]));
    await expectRevert(registry.issue(viaBatch), "RequestAlreadyUsed", [viaBatch.requestId]);
  });

  it("issue: reverts RequestAlreadyUsed(requestId) on a duplicate inside one batch", async () => {
    const dup = await makeRequest();
    const before: bigint = await registry.balanceOf(holder.address);
    await expectRevert(registry.issueBatch([dup, { ...dup, uri: "ipfs://second" }]), "RequestAlreadyUsed", [dup.requestId]);
    expect(await registry.tokenOfRequest(dup.requestId)).toBe(0n);
    expect(await registry.balanceOf(holder.address)).toBe(before);
  });

  it("issue: reverts RequestIdInvalid on a zero request id", async () => {
    await expectRevert(registry.issue(await makeRequest({ requestId: ZeroHash })), "RequestIdInvalid", []);
  });

  it("issue: reverts HolderInvalid(address(0)) for the zero holder", async () => {
    await expectRevert(registry.issue(await makeRequest({ holder: ZeroAddress })), "HolderInvalid", [ZeroAddress]);
  });

  it("issue: reverts AccessControlUnauthorizedAccount(caller, ISSUER_ROLE) for a non-issuer", async () => {
    expect(await registry.ISSUER_ROLE()).toBe(ISSUER_ROLE);
    const request = await makeRequest();
    const asOutsider = registry.connect(outsider) as Contract;
    await expectRevert(asOutsider.issue(request), "AccessControlUnauthorizedAccount", [outsider.address, ISSUER_ROLE]);
    await expectRevert(asOutsider.issueBatch([request]), "AccessControlUnauthorizedAccount", [outsider.address, ISSUER_ROLE]);
    // The admin role does not imply the issuer role.
    const asAdmin = registry.connect(admin) as Contract;
    await expectRevert(asAdmin.issue(request), "AccessControlUnauthorizedAccount", [admin.address, ISSUER_ROLE]);
    expect(await registry.tokenOfRequest(request.requestId)).toBe(0n);
  });

  it("issue: reverts BatchEmpty on an empty batch", async () => {
    await expectRevert(registry.issueBatch([]), "BatchEmpty", []);
  });
});

describe("CertificateRegistry issueBatch", () => {
  let registry: Contract;
  beforeAll(async () => {
    registry = await freshRegistry();
  });

  it("issueBatch: mints consecutive token ids, each owned by its holder", async () => {
    await issueOne(registry, await makeRequest()); // token 1, so the batch does not start at the first id
    const requests = [
      await makeRequest(),
      await makeRequest({ holder: outsider.address }),
      await makeRequest({ validUntil: 0n }),
    ];
    const first: bigint = await registry.issueBatch.staticCall(requests);
    expect(first).toBe(2n);
    const receipt = await send(registry.issueBatch(requests));
    const events = parseLogs(registry, receipt.logs);

    const issued = events.filter((e) => e.name === "CertificateIssued");
    expect(issued.map((e) => e.args.tokenId)).toEqual([2n, 3n, 4n]);
    expect(events.filter((e) => e.name === "Locked").map((e) => e.args.tokenId)).toEqual([2n, 3n, 4n]);
    expect(events.filter((e) => e.name === "Transfer").map((e) => [...e.args])).toEqual(
      requests.map((r, i) => [ZeroAddress, r.holder, first + BigInt(i)]),
    );

    for (const [i, r] of requests.entries()) {
      const tokenId = first + BigInt(i);
      expect(await registry.ownerOf(tokenId)).toBe(r.holder);
      expect(await registry.tokenURI(tokenId)).toBe(r.uri);
      expect(await registry.tokenOfRequest(r.requestId)).toBe(tokenId);
      expect(await registry.locked(tokenId)).toBe(true);
      expect(await statusOf(registry, tokenId)).toBe("VALID");
      const record = await registry.certificate(tokenId);
      expect(record.digest).toBe(r.digest);
      expect(record.validUntil).toBe(r.validUntil);
    }
  });

  it("issueBatch: one bad item reverts the whole batch and mints nothing", async () => {
    const good1 = await makeRequest();
    const bad = await makeRequest({ holder: ZeroAddress });
    const good2 = await makeRequest();
    const nextId: bigint = await registry.issue.staticCall(await makeRequest());
    const balanceBefore: bigint = await registry.balanceOf(holder.address);

    await expectRevert(registry.issueBatch([good1, bad, good2]), "HolderInvalid", [ZeroAddress]);

    expect(await registry.tokenOfRequest(good1.requestId)).toBe(0n);
    expect(await registry.tokenOfRequest(good2.requestId)).toBe(0n);
    expect(await registry.balanceOf(holder.address)).toBe(balanceBefore);
    expect(await statusOf(registry, nextId)).toBe("UNKNOWN");
    await expectRevert(registry.ownerOf(nextId), "ERC721NonexistentToken", [nextId]);
    // The id counter was rolled back too: the next issue gets the id the batch would have started at.
    const { tokenId } = await issueOne(registry, good1);
    expect(tokenId).toBe(nextId);
  });

  it("issueBatch: a zero request id anywhere reverts RequestIdInvalid", async () => {
    const good = await makeRequest();
    await expectRevert(registry.issueBatch([good, await makeRequest({ requestId: ZeroHash })]), "RequestIdInvalid", []);
    expect(await registry.tokenOfRequest(good.requestId)).toBe(0n);
  });

  it("issueBatch: every token resolves to its own record across batches and 256-id boundaries (batch-start bitmap)", async () => {
    // The registry finds a token's batch by the highest batch-start bit at or below its id, one bitmap word per
    // 256 ids, then reads the request id and digest from the batch's data contract. These sizes put a batch
    // end at id 255, a batch start at 256 (bit 0 of a word), and a batch across 512 whose later tokens find
    // their start in the previous word.
    const fresh = await freshRegistry();
    const validUntil = (await latestTimestamp()) + ONE_YEAR;
    const issued: { request: IssueRequest; issuedAt: bigint }[] = [];
    for (const size of [1, 150, 104, 100, 150, 10, 1]) {
      const requests = Array.from({ length: size }, (_, i): IssueRequest => {
        const digest = hexlify(randomBytes(32));
        // Most requests have a derived URI (not stored), one in four a stored one.
        const uri = i % 4 !== 3 ? rawCidUri(digest) : `ipfs://bafy${hexlify(randomBytes(8)).slice(2)}`;
        return { requestId: requestId(), holder: hexlify(randomBytes(20)), uri, digest, validUntil: validUntil + BigInt(issued.length + i) };
      });
      const receipt = await send(fresh.issueBatch(requests));
      const issuedAt = BigInt((await provider.getBlock(receipt.blockNumber))!.timestamp);
      for (const request of requests) issued.push({ request, issuedAt });
    }
    expect(issued).toHaveLength(516);
    await Promise.all(
      issued.map(async ({ request, issuedAt }, i) => {
        const tokenId = BigInt(i + 1);
        const [owner, record, uri, byRequest, status] = await Promise.all([
          fresh.ownerOf(tokenId),
          fresh.certificate(tokenId),
          fresh.tokenURI(tokenId),
          fresh.tokenOfRequest(request.requestId),
          statusOf(fresh, tokenId),
        ]);
        expect(owner.toLowerCase()).toBe(request.holder);
        expect([record.requestId, record.digest, record.issuedAt, record.validUntil]).toEqual([
          request.requestId,
          request.digest,
          issuedAt,
          request.validUntil,
        ]);
        expect(uri).toBe(request.uri);
        expect(byRequest).toBe(tokenId);
        expect(status).toBe("VALID");
      }),
    );
    expect(await statusOf(fresh, 517n)).toBe("UNKNOWN");
    await expectRevert(fresh.certificate(517n), "CertificateNotFound", [517n]);
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

  it("status: tokenOfRequest of an unused request id is 0", async () => {
    expect(await registry.tokenOfRequest(requestId())).toBe(0n);
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

describe("CertificateRegistry re-entrancy", () => {
  let registry: Contract;
  let factory: ContractFactory;
  beforeAll(async () => {
    registry = await freshRegistry();
    const { abi, bytecode } = loadArtifact("ReentrantHolder", "test/ReentrantHolder.sol");
    factory = new ContractFactory(abi, bytecode, admin);
  });

  /** Deploys a ReentrantHolder and grants it ISSUER_ROLE, so only the request-id guard can stop its re-entry. */
  async function deployHolder(swallow: boolean): Promise<Contract> {
    const reentrant = (await factory.deploy(registry.target, swallow)) as Contract;
    await reentrant.waitForDeployment();
    const address = await reentrant.getAddress();
    await send((registry.connect(admin) as Contract).grantRole(ISSUER_ROLE, address));
    expect(await registry.hasRole(ISSUER_ROLE, address)).toBe(true);
    return reentrant;
  }

  it("re-entrancy: a holder re-entering issue() with the same request id makes the whole issue revert (zero tokens)", async () => {
    // The holder's onERC721Received calls issue() again with the request id being minted. The registry
    // records the request id before _safeMint, so the inner call reverts RequestAlreadyUsed; the holder lets
    // it propagate, OpenZeppelin's checkOnERC721Received bubbles the reason, and the outer issue reverts:
    // nothing is minted for the request id.
    const reentrant = await deployHolder(false);
    const holderAddress = await reentrant.getAddress();
    const request = await makeRequest({ holder: holderAddress });

    await expectRevert(registry.issue(request), "RequestAlreadyUsed", [request.requestId]);
    expect(await registry.tokenOfRequest(request.requestId)).toBe(0n);
    expect(await registry.balanceOf(holderAddress)).toBe(0n);
  });

  it("re-entrancy: when the holder swallows the inner revert, exactly one token is minted for the request id", async () => {
    // Same re-entry, but the holder catches the inner failure: the outer mint completes, the inner issue
    // reverted RequestAlreadyUsed(requestId), and the request id maps to the single outer token.
    const reentrant = await deployHolder(true);
    const holderAddress = await reentrant.getAddress();
    const request = await makeRequest({ holder: holderAddress });

    const { tokenId, receipt } = await issueOne(registry, request);
    expect(await reentrant.reentered()).toBe(true);
    expect(await reentrant.innerTokenId()).toBe(0n);
    expect(decodeRegistryError({ data: await reentrant.innerRevertData() })).toEqual({
      name: "RequestAlreadyUsed",
      args: [request.requestId],
    });

    expect(await registry.tokenOfRequest(request.requestId)).toBe(tokenId);
    expect(await registry.ownerOf(tokenId)).toBe(holderAddress);
    expect(await registry.balanceOf(holderAddress)).toBe(1n);
    const events = parseLogs(registry, receipt.logs);
    expect(events.filter((e) => e.name === "CertificateIssued")).toHaveLength(1);
    expect(events.filter((e) => e.name === "Transfer")).toHaveLength(1);
    // The id the inner call would have taken was rolled back with it.
    await expectRevert(registry.ownerOf(tokenId + 1n), "ERC721NonexistentToken", [tokenId + 1n]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Features beyond the walking skeleton: derived URIs, suspension, reissue, burn authority, metadata
// correction, roles (minter cap, pauser, two-step admin), issuer registry link.

/** `ipfs://<CIDv1 raw sha256 base32>` of a digest, as the worker builds it. */
function rawCidUri(digest: string): string {
  return `ipfs://${CID.createV1(0x55, Digest.create(0x12, getBytes(digest))).toString()}`;
}

async function cidRequest(overrides: Partial<IssueRequest> = {}): Promise<IssueRequest> {
  const digest = hexlify(randomBytes(32));
  return makeRequest({ digest, uri: rawCidUri(digest), ...overrides });
}

const MINTER_ROLE = keccakText("MINTER_ROLE");
const PAUSER_ROLE = keccakText("PAUSER_ROLE");
const BurnAuth = { IssuerOnly: 0n, OwnerOnly: 1n, Both: 2n, Neither: 3n } as const;

describe("CertificateRegistry tokenURI", () => {
  let registry: Contract;
  beforeAll(async () => {
    registry = await freshRegistry();
  });

  it("tokenURI: a raw-codec CIDv1 URI of the digest is rebuilt from the digest, equal to the URI given", async () => {
    for (let i = 0; i < 5; i++) {
      const request = await cidRequest();
      expect(request.uri).toMatch(/^ipfs:\/\/bafkrei[a-z2-7]{52}$/);
      const { tokenId } = await issueOne(registry, request);
      expect(await registry.tokenURI(tokenId)).toBe(request.uri);
    }
  });

  it("tokenURI: a URI of another form (CIDv0, other digest, gateway URL) is stored and returned as given", async () => {
    const digest = hexlify(randomBytes(32));
    for (const uri of [
      "ipfs://QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
      rawCidUri(hexlify(randomBytes(32))), // a CID of some other content than `digest`
      rawCidUri(digest).toUpperCase(),
      "https://example.org/certificates/1.json",
      "",
    ]) {
      const { tokenId } = await issueOne(registry, await makeRequest({ digest, uri }));
      expect(await registry.tokenURI(tokenId)).toBe(uri);
    }
  });

  it("tokenURI: a derived URI costs less gas than a stored one", async () => {
    const derived = await cidRequest();
    const stored = await makeRequest({ uri: rawCidUri(hexlify(randomBytes(32))) });
    const g1 = (await issueOne(registry, derived)).receipt.gasUsed;
    const g2 = (await issueOne(registry, stored)).receipt.gasUsed;
    expect(g2 - g1).toBeGreaterThan(60_000n); // three string words and the length word are not written
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
    const request = await cidRequest({ holder: outsider.address });
    const predicted: bigint = await registry.reissue.staticCall(old, request);
    const receipt = await send(registry.reissue(old, request));
    const events = parseLogs(registry, receipt.logs);
    expect(events.filter((e) => e.name === "CertificateReissued").map((e) => [...e.args])).toEqual([[old, predicted, outsider.address]]);
    // The previous token now reads Superseded: wallets refresh it; the new one is announced by its mint.
    expect(events.filter((e) => e.name === "MetadataUpdate").map((e) => [...e.args])).toEqual([[old]]);
    expect(events.filter((e) => e.name === "CertificateIssued").map((e) => [...e.args])).toEqual([
      [request.requestId, predicted, outsider.address, request.uri, request.digest, request.validUntil],
    ]);
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
    await send(registry.reissue(old, await makeRequest({ holder: outsider.address })));
    await expectRevert(registry.reissue(old, await makeRequest()), "CertificateAlreadySuperseded", [old]);

    const { tokenId: revoked } = await issueOne(registry, await makeRequest());
    await send(registry.revoke(revoked, reason("KEY_COMPROMISE")));
    await expectRevert(registry.reissue(revoked, await makeRequest()), "CertificateAlreadyRevoked", [revoked]);
    await expectRevert(registry.reissue(424_242n, await makeRequest()), "CertificateNotFound", [424_242n]);

    const used = await makeRequest();
    const { tokenId: live } = await issueOne(registry, used);
    await expectRevert(registry.reissue(live, used), "RequestAlreadyUsed", [used.requestId]);
    expect(await statusOf(registry, live)).toBe("VALID"); // the failed reissue rolled the superseded flag back
  });

  it("reissue: reverts AccessControlUnauthorizedAccount(caller, ISSUER_ROLE) for a minter", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest());
    await send((registry.connect(admin) as Contract).grantRole(MINTER_ROLE, outsider.address));
    await expectRevert(
      (registry.connect(outsider) as Contract).reissue(tokenId, await makeRequest()),
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
    expect(parseLogs(registry, issued.logs).filter((e) => e.name === "Issued").map((e) => [...e.args])).toEqual([
      [issuer.address, holder.address, tokenId, BurnAuth.OwnerOnly],
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
    await expectRevert(registry.issue(request), "RequestAlreadyUsed", [request.requestId]);
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

  it("updateMetadata: emits CertificateMetadataUpdated and MetadataUpdate; tokenURI and digest follow; old URI stays in events", async () => {
    const first = await cidRequest();
    const { tokenId } = await issueOne(registry, first);
    const digest = hexlify(randomBytes(32));
    const receipt = await send(registry.updateMetadata(tokenId, "https://example.org/fixed.json", digest));
    expect(parseLogs(registry, receipt.logs).map((e) => [e.name, ...e.args])).toEqual([
      ["CertificateMetadataUpdated", tokenId, "https://example.org/fixed.json", digest],
      ["MetadataUpdate", tokenId],
    ]);
    expect(await registry.tokenURI(tokenId)).toBe("https://example.org/fixed.json");
    expect((await registry.certificate(tokenId)).digest).toBe(digest);

    // Back to a derived URI: the stored string is dropped and the URI is rebuilt from the new digest.
    const digest2 = hexlify(randomBytes(32));
    await send(registry.updateMetadata(tokenId, rawCidUri(digest2), digest2));
    expect(await registry.tokenURI(tokenId)).toBe(rawCidUri(digest2));

    const issued = await registry.queryFilter(registry.filters.CertificateIssued!(null, tokenId));
    expect((issued[0] as unknown as LogDescription).args.uri).toBe(first.uri);
    const updates = await registry.queryFilter(registry.filters.CertificateMetadataUpdated!(tokenId));
    expect(updates.map((u) => (u as unknown as LogDescription).args.uri)).toEqual(["https://example.org/fixed.json", rawCidUri(digest2)]);
  });

  it("updateMetadata: reverts CertificateAlreadyRevoked, CertificateNotFound, and for a non-issuer", async () => {
    const { tokenId } = await issueOne(registry, await makeRequest());
    await send(registry.revoke(tokenId, reason("UNSPECIFIED")));
    await expectRevert(registry.updateMetadata(tokenId, "ipfs://x", ZeroHash), "CertificateAlreadyRevoked", [tokenId]);
    await expectRevert(registry.updateMetadata(424_242n, "ipfs://x", ZeroHash), "CertificateNotFound", [424_242n]);
    await expectRevert(
      (registry.connect(outsider) as Contract).updateMetadata(tokenId, "ipfs://x", ZeroHash),
      "AccessControlUnauthorizedAccount",
      [outsider.address, ISSUER_ROLE],
    );
  });
});

describe("CertificateRegistry roles", () => {
  it("roles: a minter issues and revokes but cannot suspend, reissue or correct metadata", async () => {
    const registry = await freshRegistry();
    await send((registry.connect(admin) as Contract).grantRole(MINTER_ROLE, outsider.address));
    const asMinter = registry.connect(outsider) as Contract;
    const { tokenId } = await issueOne(asMinter, await makeRequest());
    await send(asMinter.issueBatch([await makeRequest(), await makeRequest()]));
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
    await send(asMinter.issueBatch([await makeRequest(), await makeRequest()]));
    expect((await registry.mintCap())[2]).toBe(1n);
    await expectRevert(asMinter.issueBatch([await makeRequest(), await makeRequest()]), "MintCapExceeded", [2n, 1n]);
    await send(asMinter.issue(await makeRequest()));
    await expectRevert(asMinter.issue(await makeRequest()), "MintCapExceeded", [1n, 0n]);
    await send(registry.issueBatch([await makeRequest(), await makeRequest()])); // the issuer is not capped
    await provider.send("evm_increaseTime", [3600]);
    await provider.send("evm_mine", []);
    expect((await registry.mintCap())[2]).toBe(3n);
    await send(asMinter.issue(await makeRequest()));
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
    await expectRevert(registry.issue(await makeRequest()), "EnforcedPause", []);
    await expectRevert(registry.issueBatch([await makeRequest()]), "EnforcedPause", []);
    await expectRevert(registry.reissue(tokenId, await makeRequest()), "EnforcedPause", []);
    await expectRevert(registry.updateMetadata(tokenId, "ipfs://x", ZeroHash), "EnforcedPause", []);
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

  it("roles: validUntil beyond 40 bits reverts ValidUntilInvalid(validUntil)", async () => {
    const registry = await freshRegistry();
    const validUntil = 1n << 40n;
    await expectRevert(registry.issue(await makeRequest({ validUntil })), "ValidUntilInvalid", [validUntil]);
    await issueOne(registry, await makeRequest({ validUntil: validUntil - 1n }));
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
    const batch = await send(registry.issueBatch([await makeRequest(), await makeRequest()]));
    expect(updates(registry, batch)).toEqual([]);
    const { tokenId } = issued;

    expect(updates(registry, await send(registry.suspend(tokenId)))).toEqual([["MetadataUpdate", tokenId]]);
    expect(updates(registry, await send(registry.unsuspend(tokenId)))).toEqual([["MetadataUpdate", tokenId]]);
    const digest = hexlify(randomBytes(32));
    expect(updates(registry, await send(registry.updateMetadata(tokenId, rawCidUri(digest), digest)))).toEqual([["MetadataUpdate", tokenId]]);
    const successor: bigint = await registry.reissue.staticCall(tokenId, await makeRequest());
    expect(updates(registry, await send(registry.reissue(tokenId, await makeRequest())))).toEqual([["MetadataUpdate", tokenId]]);
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

  it("ERC-4906: linking the issuer registry emits BatchMetadataUpdate(1, last) over every token issued (the operator's freezes now count), none on an empty registry", async () => {
    const registry = await freshRegistry();
    await issueOne(registry, await makeRequest());
    await send(registry.issueBatch([await makeRequest(), await makeRequest()]));
    const linked = await send((registry.connect(admin) as Contract).setIssuerRegistry(outsider.address));
    expect(updates(registry, linked)).toEqual([["BatchMetadataUpdate", 1n, 3n]]);

    const empty = await freshRegistry();
    expect(updates(empty, await send((empty.connect(admin) as Contract).setIssuerRegistry(outsider.address)))).toEqual([]);
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
