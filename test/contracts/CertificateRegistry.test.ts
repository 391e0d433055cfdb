import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ContractFactory,
  JsonRpcProvider,
  Wallet,
  ZeroAddress,
  ZeroHash,
  hexlify,
  id as keccakText,
  randomBytes,
  type Contract,
  type Log,
  type LogDescription,
  type TransactionReceipt,
} from "ethers";
import { DEV_KEYS, startEmbeddedChain, type EmbeddedChain } from "../../scripts/dev/chain.ts";
import { deployCertificateRegistry } from "../../core/chain/deploy.ts";
import {
  OnChainStatus,
  RevocationReason,
  certificateRegistryAt,
  decodeRegistryError,
  type IssueRequest,
} from "../../core/chain/registry.ts";
import { loadArtifact } from "../../core/chain/artifacts.ts";

// Hardhat's well-known mnemonic accounts #2 and #3 (dev-only keys).
const HOLDER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const OUTSIDER_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";

const ISSUER_ROLE = keccakText("ISSUER_ROLE");
const ONE_YEAR = 365n * 24n * 60n * 60n;

let chain: EmbeddedChain;
let provider: JsonRpcProvider;
let admin: Wallet; // DEFAULT_ADMIN_ROLE only
let issuer: Wallet; // ISSUER_ROLE only
let holder: Wallet;
let outsider: Wallet;

beforeAll(async () => {
  chain = await startEmbeddedChain({ port: 0, chainId: 31337 });
  // cacheTimeout -1: ethers otherwise shares identical requests made within 250 ms, so back-to-back sends from
  // one wallet would reuse a stale "pending" nonce (EDR automines, so the nonce moves on every send).
  provider = new JsonRpcProvider(chain.rpcUrl, 31337, { staticNetwork: true, pollingInterval: 50, cacheTimeout: -1 });
  admin = new Wallet(DEV_KEYS.deployer, provider);
  issuer = new Wallet(DEV_KEYS.minter, provider);
  holder = new Wallet(HOLDER_KEY, provider);
  outsider = new Wallet(OUTSIDER_KEY, provider);
});

afterAll(async () => {
  provider?.destroy();
  await chain?.close();
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
    const revoked = parseLogs(registry, receipt.logs).filter((e) => e.name === "CertificateRevoked");
    expect(revoked.map((e) => [...e.args])).toEqual([[tokenId, reason("KEY_COMPROMISE"), issuer.address]]);

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
    ["ERC-165", "0x01ffc9a7", true],
    ["AccessControl", "0x7965db0b", true],
    ["invalid id", "0xffffffff", false],
  ])("ERC-165: supportsInterface(%s %s) is %s", async (_name, interfaceId, expected) => {
    expect(await registry.supportsInterface(interfaceId)).toBe(expected);
  });

  it("ERC-165: the ERC-5192 id is the selector of locked(uint256)", () => {
    expect(keccakText("locked(uint256)").slice(0, 10)).toBe("0xb45a3c0e");
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
