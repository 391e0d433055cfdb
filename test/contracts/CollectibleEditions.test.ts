import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Contract,
  Interface,
  TypedDataEncoder,
  Wallet,
  ZeroAddress,
  ZeroHash,
  getAddress,
  hexlify,
  id as keccakText,
  randomBytes,
  recoverAddress,
  type JsonRpcProvider,
  type Log,
  type LogDescription,
  type TransactionReceipt,
  type TypedDataDomain,
} from "ethers";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { ACCOUNT_2_KEY, ACCOUNT_3_KEY, startTestChain, type TestChain } from "../support/test-chain.ts";
import { deployCollectibleEditions } from "../../core/chain/deploy.ts";
import { loadArtifact } from "../../core/chain/artifacts.ts";
import { findRevertData } from "../../core/chain/contract-errors.ts";

const NAME = "Museum Editions";
const CHAIN_ID = 31337n;
const ISSUER_ROLE = keccakText("ISSUER_ROLE");
const VOUCHER_SIGNER_ROLE = keccakText("VOUCHER_SIGNER_ROLE");
const DAY = 24 * 60 * 60;

/** Mirrors `ICollectibleEditions.TransferPolicy`. */
const Policy = { Locked: 0n, GiftAfterLockup: 1n, IssuerMediated: 2n } as const;

/** The EIP-712 type the contract hashes: `Voucher(uint256 editionId,bytes32 code,uint64 deadline)`. */
const VOUCHER_TYPES = {
  Voucher: [
    { name: "editionId", type: "uint256" },
    { name: "code", type: "bytes32" },
    { name: "deadline", type: "uint64" },
  ],
};

interface Voucher {
  editionId: bigint;
  code: string;
  deadline: bigint;
}

let testChain: TestChain;
let provider: JsonRpcProvider;
let admin: Wallet; // DEFAULT_ADMIN_ROLE
let issuer: Wallet; // ISSUER_ROLE: creates editions, airdrops, redeems codes for holders
let voucherSigner: Wallet; // VOUCHER_SIGNER_ROLE: signs vouchers, nothing else
let holder: Wallet;
let outsider: Wallet;
let iface: Interface;

beforeAll(async () => {
  testChain = await startTestChain();
  provider = testChain.provider;
  admin = testChain.wallet(DEV_KEYS.deployer);
  issuer = testChain.wallet(DEV_KEYS.minter);
  holder = testChain.wallet(ACCOUNT_2_KEY);
  outsider = testChain.wallet(ACCOUNT_3_KEY);
  iface = new Interface(loadArtifact("CollectibleEditions").abi);
  // Funded, so its refused calls fail on the role check rather than on gas.
  voucherSigner = new Wallet(hexlify(randomBytes(32)), provider);
  await send(admin.sendTransaction({ to: voucherSigner.address, value: 10n ** 18n }));
});

afterAll(async () => {
  await testChain?.close();
});

// ---------------------------------------------------------------------------------------------------------
// helpers

/** A fresh contract: `admin` holds DEFAULT_ADMIN_ROLE, `issuer` ISSUER_ROLE, `voucherSigner` VOUCHER_SIGNER_ROLE. Returned bound to `issuer`. */
async function freshEditions(): Promise<Contract> {
  const { address } = await deployCollectibleEditions(admin, { name: NAME, symbol: "MUSE", admin: admin.address, issuer: issuer.address });
  await send((new Contract(address, iface, admin) as Contract).grantRole(VOUCHER_SIGNER_ROLE, voucherSigner.address));
  return new Contract(address, iface, issuer);
}

async function send(txPromise: Promise<{ wait(): Promise<TransactionReceipt | null> }>): Promise<TransactionReceipt> {
  const receipt = await (await txPromise).wait();
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

/** Every event of a receipt as `[name, ...args]`, in log order. */
function eventsOf(contract: Contract, receipt: TransactionReceipt): unknown[][] {
  return parseLogs(contract, receipt.logs).map((e) => [e.name, ...e.args]);
}

/** Awaits a promise that must reject, and asserts the exact custom error and its arguments. */
async function expectRevert(promise: Promise<unknown>, name: string, args: unknown[] = []): Promise<void> {
  const err = await promise.then(
    () => {
      throw new Error(`expected a revert with ${name}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  const data = findRevertData(err);
  expect(data, `revert data of ${String((err as Error)?.message ?? err)}`).toBeDefined();
  const parsed = iface.parseError(data!);
  expect(parsed ? { name: parsed.name, args: [...parsed.args] } : undefined).toEqual({ name, args });
}

async function latestTimestamp(): Promise<bigint> {
  return BigInt((await provider.getBlock("latest"))!.timestamp);
}

async function increaseTime(seconds: number): Promise<void> {
  await provider.send("evm_increaseTime", [seconds]);
  await provider.send("evm_mine", []);
}

function domainOf(contract: Contract, chainId = CHAIN_ID): TypedDataDomain {
  return { name: NAME, version: "1", chainId, verifyingContract: contract.target as string };
}

async function voucher(editionId: bigint, deadlineIn = 3600n): Promise<Voucher> {
  return { editionId, code: hexlify(randomBytes(32)), deadline: (await latestTimestamp()) + deadlineIn };
}

/** Signs a voucher with ethers `signTypedData`, as the issuer's signing service does. */
function sign(signer: Wallet, domain: TypedDataDomain, v: Voucher): Promise<string> {
  return signer.signTypedData(domain, VOUCHER_TYPES, v);
}

/** Creates an edition and returns its id (from EditionCreated). */
async function createEdition(editions: Contract, maxSupply: bigint, policy: bigint, lockup = 0n, maxGifts = 0n): Promise<bigint> {
  const receipt = await send(editions.createEdition(`Edition ${hexlify(randomBytes(2))}`, "ipfs://edition", maxSupply, policy, lockup, maxGifts));
  const created = parseLogs(editions, receipt.logs).find((e) => e.name === "EditionCreated");
  return created!.args.editionId as bigint;
}

/** Airdrops one item and returns its token id and the receipt. */
async function airdropOne(editions: Contract, editionId: bigint, to: string): Promise<{ tokenId: bigint; receipt: TransactionReceipt }> {
  const receipt = await send(editions.airdrop(editionId, [to]));
  const minted = parseLogs(editions, receipt.logs).find((e) => e.name === "ItemMinted");
  return { tokenId: minted!.args.tokenId as bigint, receipt };
}

const randomAddress = () => getAddress(hexlify(randomBytes(20)));

// ---------------------------------------------------------------------------------------------------------

describe("CollectibleEditions createEdition", () => {
  let editions: Contract;
  beforeAll(async () => {
    editions = await freshEditions();
  });

  it("createEdition: returns the new id (from 1), emits EditionCreated(id, name, uri, maxSupply, policy) and stores the edition", async () => {
    const id = await editions.createEdition.staticCall("Night Watch", "ipfs://edition-1", 1000n, Policy.Locked, 0n, 0n);
    expect(id).toBe(1n);
    const receipt = await send(editions.createEdition("Night Watch", "ipfs://edition-1", 1000n, Policy.Locked, 0n, 0n));
    expect(eventsOf(editions, receipt)).toEqual([["EditionCreated", 1n, "Night Watch", "ipfs://edition-1", 1000n, Policy.Locked]]);
    const second = await send(editions.createEdition("Sunflowers", "ipfs://edition-2", 3n, Policy.GiftAfterLockup, BigInt(DAY), 2n));
    expect(eventsOf(editions, second)).toEqual([["EditionCreated", 2n, "Sunflowers", "ipfs://edition-2", 3n, Policy.GiftAfterLockup]]);
    const e = await editions.edition(2n);
    expect([e.name, e.uri, e.maxSupply, e.minted, e.policy, e.lockup, e.maxGifts]).toEqual([
      "Sunflowers",
      "ipfs://edition-2",
      3n,
      0n,
      Policy.GiftAfterLockup,
      BigInt(DAY),
      2n,
    ]);
  });

  it("createEdition: reverts EditionInvalid() for an empty name, an empty URI or a zero max supply", async () => {
    await expectRevert(editions.createEdition("", "ipfs://x", 1n, Policy.Locked, 0n, 0n), "EditionInvalid");
    await expectRevert(editions.createEdition("Name", "", 1n, Policy.Locked, 0n, 0n), "EditionInvalid");
    await expectRevert(editions.createEdition("Name", "ipfs://x", 0n, Policy.Locked, 0n, 0n), "EditionInvalid");
  });

  it("createEdition: reverts AccessControlUnauthorizedAccount(caller, ISSUER_ROLE) for the admin and an outsider", async () => {
    for (const caller of [admin, outsider]) {
      await expectRevert(
        (editions.connect(caller) as Contract).createEdition("Name", "ipfs://x", 1n, Policy.Locked, 0n, 0n),
        "AccessControlUnauthorizedAccount",
        [caller.address, ISSUER_ROLE],
      );
    }
  });

  it("edition: reverts EditionNotFound(id) for id 0 and an id never created", async () => {
    await expectRevert(editions.edition(0n), "EditionNotFound", [0n]);
    await expectRevert(editions.edition(99n), "EditionNotFound", [99n]);
  });
});

describe("CollectibleEditions airdrop", () => {
  let editions: Contract;
  beforeAll(async () => {
    editions = await freshEditions();
  });

  it("airdrop: serials in order; per item ItemMinted(edition, token, holder, serial), Locked(token), Transfer(0, holder, token)", async () => {
    const editionId = await createEdition(editions, 10n, Policy.Locked);
    const holders = [holder.address, outsider.address, randomAddress()];
    const first = await editions.airdrop.staticCall(editionId, holders);
    const receipt = await send(editions.airdrop(editionId, holders));
    expect(eventsOf(editions, receipt)).toEqual(
      holders.flatMap((h, i) => [
        ["ItemMinted", editionId, first + BigInt(i), h, BigInt(i + 1)],
        ["Locked", first + BigInt(i)],
        ["Transfer", ZeroAddress, h, first + BigInt(i)],
      ]),
    );
    for (const [i, h] of holders.entries()) {
      expect(await editions.ownerOf(first + BigInt(i))).toBe(h);
      expect([...(await editions.itemOf(first + BigInt(i)))]).toEqual([editionId, BigInt(i + 1)]);
      expect(await editions.locked(first + BigInt(i))).toBe(true);
      expect(await editions.tokenURI(first + BigInt(i))).toBe("ipfs://edition");
    }
    expect((await editions.edition(editionId)).minted).toBe(3n);
  });

  it("airdrop: items of a GiftAfterLockup edition emit no Locked event (they may become transferable)", async () => {
    const editionId = await createEdition(editions, 10n, Policy.GiftAfterLockup, BigInt(DAY), 1n);
    const { tokenId, receipt } = await airdropOne(editions, editionId, holder.address);
    expect(eventsOf(editions, receipt)).toEqual([
      ["ItemMinted", editionId, tokenId, holder.address, 1n],
      ["Transfer", ZeroAddress, holder.address, tokenId],
    ]);
  });

  it("airdrop: an IssuerMediated edition's items emit Locked", async () => {
    const editionId = await createEdition(editions, 10n, Policy.IssuerMediated);
    const { tokenId, receipt } = await airdropOne(editions, editionId, holder.address);
    expect(eventsOf(editions, receipt).map((e) => e[0])).toEqual(["ItemMinted", "Locked", "Transfer"]);
    expect(await editions.locked(tokenId)).toBe(true);
  });

  it("airdrop: reverts EditionSoldOut(editionId) past the max supply, and mints nothing of the batch", async () => {
    const editionId = await createEdition(editions, 2n, Policy.Locked);
    await expectRevert(editions.airdrop(editionId, [holder.address, outsider.address, randomAddress()]), "EditionSoldOut", [editionId]);
    expect((await editions.edition(editionId)).minted).toBe(0n);
    await send(editions.airdrop(editionId, [holder.address, outsider.address]));
    await expectRevert(editions.airdrop(editionId, [holder.address]), "EditionSoldOut", [editionId]);
  });

  it("airdrop: reverts EditionNotFound(id) for id 0 and an id never created", async () => {
    await expectRevert(editions.airdrop(0n, [holder.address]), "EditionNotFound", [0n]);
    await expectRevert(editions.airdrop(99n, [holder.address]), "EditionNotFound", [99n]);
  });

  it("airdrop: reverts AccessControlUnauthorizedAccount(caller, ISSUER_ROLE) for an outsider", async () => {
    const editionId = await createEdition(editions, 10n, Policy.Locked);
    await expectRevert((editions.connect(outsider) as Contract).airdrop(editionId, [outsider.address]), "AccessControlUnauthorizedAccount", [
      outsider.address,
      ISSUER_ROLE,
    ]);
  });

  it("airdrop: reverts ERC721InvalidReceiver for a contract that does not accept ERC-721 tokens", async () => {
    const editionId = await createEdition(editions, 10n, Policy.Locked);
    const target = editions.target as string;
    await expectRevert(editions.airdrop(editionId, [target]), "ERC721InvalidReceiver", [target]);
  });

  it("views: itemOf, tokenURI and locked of a token never minted revert ERC721NonexistentToken(id)", async () => {
    await expectRevert(editions.itemOf(999n), "ERC721NonexistentToken", [999n]);
    await expectRevert(editions.tokenURI(999n), "ERC721NonexistentToken", [999n]);
    await expectRevert(editions.locked(999n), "ERC721NonexistentToken", [999n]);
  });
});

describe("CollectibleEditions claim (EIP-712 vouchers)", () => {
  let editions: Contract;
  let editionId: bigint;
  beforeAll(async () => {
    editions = await freshEditions();
    editionId = await createEdition(editions, 100n, Policy.Locked);
  });

  it("voucherDigest equals the EIP-712 hash ethers computes for the domain (name, version 1, chain id, contract)", async () => {
    const v = await voucher(editionId);
    expect(await editions.voucherDigest(v)).toBe(TypedDataEncoder.hash(domainOf(editions), VOUCHER_TYPES, v));
    expect(await editions.VOUCHER_TYPEHASH()).toBe(keccakText("Voucher(uint256 editionId,bytes32 code,uint64 deadline)"));
  });

  it("claim: a voucher signed with signTypedData by the voucher signer mints to the caller: ItemMinted, Locked, Transfer, VoucherRedeemed", async () => {
    const v = await voucher(editionId);
    const signature = await sign(voucherSigner, domainOf(editions), v);
    const asHolder = editions.connect(holder) as Contract;
    expect(await editions.voucherUsed(v.code)).toBe(false);
    const tokenId = await asHolder.claim.staticCall(v, signature);
    const receipt = await send(asHolder.claim(v, signature));
    expect(eventsOf(editions, receipt)).toEqual([
      ["ItemMinted", editionId, tokenId, holder.address, 1n],
      ["Locked", tokenId],
      ["Transfer", ZeroAddress, holder.address, tokenId],
      ["VoucherRedeemed", v.code, tokenId, holder.address],
    ]);
    expect(await editions.ownerOf(tokenId)).toBe(holder.address);
    expect(await editions.voucherUsed(v.code)).toBe(true);
  });

  it("claim: a replayed voucher reverts VoucherAlreadyUsed(code), for the same caller and for another", async () => {
    const v = await voucher(editionId);
    const signature = await sign(voucherSigner, domainOf(editions), v);
    await send((editions.connect(holder) as Contract).claim(v, signature));
    await expectRevert((editions.connect(holder) as Contract).claim(v, signature), "VoucherAlreadyUsed", [v.code]);
    await expectRevert((editions.connect(outsider) as Contract).claim(v, signature), "VoucherAlreadyUsed", [v.code]);
  });

  it("claim: an expired voucher reverts VoucherExpired(code, deadline); it is valid up to its deadline", async () => {
    const v = await voucher(editionId, 60n);
    const signature = await sign(voucherSigner, domainOf(editions), v);
    await increaseTime(120);
    await expectRevert((editions.connect(holder) as Contract).claim(v, signature), "VoucherExpired", [v.code, v.deadline]);
    expect(await editions.voucherUsed(v.code)).toBe(false);
    const past = { ...v, code: hexlify(randomBytes(32)), deadline: (await latestTimestamp()) - 1n };
    await expectRevert(
      (editions.connect(holder) as Contract).claim(past, await sign(voucherSigner, domainOf(editions), past)),
      "VoucherExpired",
      [past.code, past.deadline],
    );
  });

  it("claim: a voucher signed for another chain id reverts VoucherSignerInvalid(recovered address), which is not the issuer", async () => {
    const v = await voucher(editionId);
    const signature = await sign(voucherSigner, domainOf(editions, 1n), v);
    const recovered = recoverAddress(TypedDataEncoder.hash(domainOf(editions), VOUCHER_TYPES, v), signature);
    expect(recovered).not.toBe(issuer.address);
    await expectRevert((editions.connect(holder) as Contract).claim(v, signature), "VoucherSignerInvalid", [recovered]);
    expect(await editions.voucherUsed(v.code)).toBe(false);
  });

  it("claim: a voucher signed for another contract reverts VoucherSignerInvalid there, and stays redeemable where it was signed for", async () => {
    const other = await freshEditions();
    const otherEdition = await createEdition(other, 100n, Policy.Locked);
    expect(otherEdition).toBe(editionId); // same edition id on both: only the domain tells them apart
    const v = await voucher(editionId);
    const signature = await sign(voucherSigner, domainOf(editions), v);
    const recovered = recoverAddress(TypedDataEncoder.hash(domainOf(other), VOUCHER_TYPES, v), signature);
    expect(recovered).not.toBe(issuer.address);
    await expectRevert((other.connect(holder) as Contract).claim(v, signature), "VoucherSignerInvalid", [recovered]);
    expect(await other.voucherUsed(v.code)).toBe(false);
    await send((editions.connect(holder) as Contract).claim(v, signature));
    expect(await editions.voucherUsed(v.code)).toBe(true);
  });

  it("claim: a voucher signed by a key without VOUCHER_SIGNER_ROLE (the admin, an issuer, an outsider) reverts VoucherSignerInvalid(signer)", async () => {
    for (const signer of [admin, issuer, outsider]) {
      const v = await voucher(editionId);
      await expectRevert(
        (editions.connect(holder) as Contract).claim(v, await sign(signer, domainOf(editions), v)),
        "VoucherSignerInvalid",
        [signer.address],
      );
    }
  });

  it("claim: a changed field (another edition id, deadline or code) breaks the signature: VoucherSignerInvalid", async () => {
    const v = await voucher(editionId);
    const signature = await sign(voucherSigner, domainOf(editions), v);
    for (const tampered of [
      { ...v, deadline: v.deadline + 1n },
      { ...v, code: hexlify(randomBytes(32)) },
      { ...v, editionId: editionId + 1n },
    ]) {
      const recovered = recoverAddress(TypedDataEncoder.hash(domainOf(editions), VOUCHER_TYPES, tampered), signature);
      await expectRevert((editions.connect(holder) as Contract).claim(tampered, signature), "VoucherSignerInvalid", [recovered]);
    }
  });

  it("claim: a valid voucher for an unknown edition reverts EditionNotFound(id); for a sold-out one EditionSoldOut(id)", async () => {
    const unknown = { ...(await voucher(editionId)), editionId: 99n };
    await expectRevert(
      (editions.connect(holder) as Contract).claim(unknown, await sign(voucherSigner, domainOf(editions), unknown)),
      "EditionNotFound",
      [99n],
    );
    const single = await createEdition(editions, 1n, Policy.Locked);
    await send(editions.airdrop(single, [outsider.address]));
    const v = await voucher(single);
    await expectRevert((editions.connect(holder) as Contract).claim(v, await sign(voucherSigner, domainOf(editions), v)), "EditionSoldOut", [single]);
    expect(await editions.voucherUsed(v.code)).toBe(false);
  });

  it("the voucher signer cannot mint, move or grant: airdrop, redeemFor, createEdition and issuerTransfer revert AccessControlUnauthorizedAccount(signer, ISSUER_ROLE)", async () => {
    const asSigner = editions.connect(voucherSigner) as Contract;
    const unauthorized = [voucherSigner.address, ISSUER_ROLE];
    expect(await editions.hasRole(VOUCHER_SIGNER_ROLE, voucherSigner.address)).toBe(true);
    expect(await editions.hasRole(ISSUER_ROLE, voucherSigner.address)).toBe(false);
    await expectRevert(asSigner.airdrop(editionId, [voucherSigner.address]), "AccessControlUnauthorizedAccount", unauthorized);
    await expectRevert(asSigner.redeemFor(editionId, hexlify(randomBytes(32)), voucherSigner.address), "AccessControlUnauthorizedAccount", unauthorized);
    await expectRevert(asSigner.createEdition("X", "ipfs://x", 1n, Policy.Locked, 0n, 0n), "AccessControlUnauthorizedAccount", unauthorized);
    await expectRevert(asSigner.issuerTransfer(holder.address, outsider.address, 1n), "AccessControlUnauthorizedAccount", unauthorized);
    await expectRevert(asSigner.grantRole(ISSUER_ROLE, voucherSigner.address), "AccessControlUnauthorizedAccount", [voucherSigner.address, ZeroHash]);
  });

  it("claim: once the admin revokes VOUCHER_SIGNER_ROLE (RoleRevoked), the key's vouchers revert VoucherSignerInvalid", async () => {
    const own = await freshEditions();
    const id = await createEdition(own, 10n, Policy.Locked);
    const v = await voucher(id);
    const signature = await sign(voucherSigner, domainOf(own), v);
    const receipt = await send((own.connect(admin) as Contract).revokeRole(VOUCHER_SIGNER_ROLE, voucherSigner.address));
    expect(eventsOf(own, receipt)).toEqual([["RoleRevoked", VOUCHER_SIGNER_ROLE, voucherSigner.address, admin.address]]);
    await expectRevert((own.connect(holder) as Contract).claim(v, signature), "VoucherSignerInvalid", [voucherSigner.address]);
  });

  it("redeemFor: the issuer redeems a code for a holder: VoucherRedeemed names the holder, and the code's voucher is spent on chain", async () => {
    const v = await voucher(editionId);
    const tokenId = await editions.redeemFor.staticCall(editionId, v.code, holder.address);
    const receipt = await send(editions.redeemFor(editionId, v.code, holder.address));
    expect(eventsOf(editions, receipt)).toEqual([
      ["ItemMinted", editionId, tokenId, holder.address, (await editions.itemOf(tokenId))[1]],
      ["Locked", tokenId],
      ["Transfer", ZeroAddress, holder.address, tokenId],
      ["VoucherRedeemed", v.code, tokenId, holder.address],
    ]);
    expect(await editions.voucherUsed(v.code)).toBe(true);
    // The holder (or anyone) cannot also claim the item with the code's signed voucher.
    await expectRevert((editions.connect(holder) as Contract).claim(v, await sign(voucherSigner, domainOf(editions), v)), "VoucherAlreadyUsed", [v.code]);
  });

  it("redeemFor: reverts VoucherAlreadyUsed(code) after an on-chain claim of the code, and a second redeemFor", async () => {
    const v = await voucher(editionId);
    await send((editions.connect(holder) as Contract).claim(v, await sign(voucherSigner, domainOf(editions), v)));
    await expectRevert(editions.redeemFor(editionId, v.code, outsider.address), "VoucherAlreadyUsed", [v.code]);
    const w = await voucher(editionId);
    await send(editions.redeemFor(editionId, w.code, holder.address));
    await expectRevert(editions.redeemFor(editionId, w.code, outsider.address), "VoucherAlreadyUsed", [w.code]);
  });

  it("redeemFor: reverts AccessControlUnauthorizedAccount for a caller without ISSUER_ROLE; EditionNotFound, EditionSoldOut and ERC721InvalidReceiver leave the code unused", async () => {
    const v = await voucher(editionId);
    await expectRevert((editions.connect(outsider) as Contract).redeemFor(editionId, v.code, outsider.address), "AccessControlUnauthorizedAccount", [
      outsider.address,
      await editions.ISSUER_ROLE(),
    ]);
    await expectRevert(editions.redeemFor(99n, v.code, holder.address), "EditionNotFound", [99n]);
    const single = await createEdition(editions, 1n, Policy.Locked);
    await send(editions.airdrop(single, [outsider.address]));
    await expectRevert(editions.redeemFor(single, v.code, holder.address), "EditionSoldOut", [single]);
    const target = editions.target as string;
    await expectRevert(editions.redeemFor(editionId, v.code, target), "ERC721InvalidReceiver", [target]);
    expect(await editions.voucherUsed(v.code)).toBe(false);
  });
});

describe("CollectibleEditions transfer policies", () => {
  let editions: Contract;
  beforeAll(async () => {
    editions = await freshEditions();
  });

  it("Locked: transferFrom and both safeTransferFrom revert ItemLocked(tokenId); approve and setApprovalForAll revert ApprovalsDisabled()", async () => {
    const editionId = await createEdition(editions, 10n, Policy.Locked);
    const { tokenId } = await airdropOne(editions, editionId, holder.address);
    const asHolder = editions.connect(holder) as Contract;
    const to = randomAddress();
    await expectRevert(asHolder.transferFrom(holder.address, to, tokenId), "ItemLocked", [tokenId]);
    await expectRevert(asHolder["safeTransferFrom(address,address,uint256)"](holder.address, to, tokenId), "ItemLocked", [tokenId]);
    await expectRevert(asHolder["safeTransferFrom(address,address,uint256,bytes)"](holder.address, to, tokenId, "0x"), "ItemLocked", [tokenId]);
    await expectRevert(asHolder.approve(to, tokenId), "ApprovalsDisabled");
    await expectRevert(asHolder.setApprovalForAll(to, true), "ApprovalsDisabled");
    // Not even the issuer or the admin can move it.
    await expectRevert(editions.issuerTransfer(holder.address, to, tokenId), "ItemLocked", [tokenId]);
    await expectRevert((editions.connect(admin) as Contract).transferFrom(holder.address, to, tokenId), "ItemLocked", [tokenId]);
    expect(await editions.ownerOf(tokenId)).toBe(holder.address);
    expect(await editions.getApproved(tokenId)).toBe(ZeroAddress);
  });

  it("GiftAfterLockup: ItemInLockup(tokenId, unlocksAt) during the lockup, one gift after it (Transfer), then GiftLimitReached(tokenId)", async () => {
    const editionId = await createEdition(editions, 10n, Policy.GiftAfterLockup, BigInt(DAY), 1n);
    const { tokenId, receipt } = await airdropOne(editions, editionId, holder.address);
    const receivedAt = BigInt((await provider.getBlock(receipt.blockNumber))!.timestamp);
    const asHolder = editions.connect(holder) as Contract;
    expect(await editions.locked(tokenId)).toBe(true);
    await expectRevert(asHolder.transferFrom(holder.address, outsider.address, tokenId), "ItemInLockup", [tokenId, receivedAt + BigInt(DAY)]);

    await increaseTime(DAY);
    expect(await editions.locked(tokenId)).toBe(false);
    const gift = await send(asHolder.transferFrom(holder.address, outsider.address, tokenId));
    expect(eventsOf(editions, gift)).toEqual([["Transfer", holder.address, outsider.address, tokenId]]);
    expect(await editions.ownerOf(tokenId)).toBe(outsider.address);
    expect(await editions.locked(tokenId)).toBe(true); // out of gifts

    // The receiver's own lockup restarts; after it, the edition's one gift is spent.
    const asOutsider = editions.connect(outsider) as Contract;
    const giftedAt = BigInt((await provider.getBlock(gift.blockNumber))!.timestamp);
    await expectRevert(asOutsider.transferFrom(outsider.address, holder.address, tokenId), "ItemInLockup", [tokenId, giftedAt + BigInt(DAY)]);
    await increaseTime(2 * DAY);
    await expectRevert(asOutsider.transferFrom(outsider.address, holder.address, tokenId), "GiftLimitReached", [tokenId]);
    expect(await editions.ownerOf(tokenId)).toBe(outsider.address);
  });

  it("IssuerMediated: the holder cannot move it (ItemLocked); the issuer's issuerTransfer emits Transfer(from, to, tokenId)", async () => {
    const editionId = await createEdition(editions, 10n, Policy.IssuerMediated);
    const { tokenId } = await airdropOne(editions, editionId, holder.address);
    await expectRevert((editions.connect(holder) as Contract).transferFrom(holder.address, outsider.address, tokenId), "ItemLocked", [tokenId]);
    const before = await editions.balanceOf(holder.address);
    const moved = await send(editions.issuerTransfer(holder.address, outsider.address, tokenId));
    expect(eventsOf(editions, moved)).toEqual([["Transfer", holder.address, outsider.address, tokenId]]);
    expect(await editions.ownerOf(tokenId)).toBe(outsider.address);
    expect(await editions.balanceOf(holder.address)).toBe(before - 1n);
  });

  it("issuerTransfer: reverts ERC721IncorrectOwner(from, tokenId, owner) for a wrong from, and moves nothing", async () => {
    const editionId = await createEdition(editions, 10n, Policy.IssuerMediated);
    const { tokenId } = await airdropOne(editions, editionId, holder.address);
    await expectRevert(editions.issuerTransfer(outsider.address, admin.address, tokenId), "ERC721IncorrectOwner", [
      outsider.address,
      tokenId,
      holder.address,
    ]);
    expect(await editions.ownerOf(tokenId)).toBe(holder.address);
  });

  it("issuerTransfer: reverts AccessControlUnauthorizedAccount(caller, ISSUER_ROLE) for the holder and the admin", async () => {
    const editionId = await createEdition(editions, 10n, Policy.IssuerMediated);
    const { tokenId } = await airdropOne(editions, editionId, holder.address);
    for (const caller of [holder, admin]) {
      await expectRevert(
        (editions.connect(caller) as Contract).issuerTransfer(holder.address, caller.address, tokenId),
        "AccessControlUnauthorizedAccount",
        [caller.address, ISSUER_ROLE],
      );
    }
  });

  it("issuerTransfer: reverts ERC721NonexistentToken(id) for a token never minted", async () => {
    await expectRevert(editions.issuerTransfer(holder.address, outsider.address, 999n), "ERC721NonexistentToken", [999n]);
  });

  it("roles: only the default admin grants ISSUER_ROLE (AccessControlUnauthorizedAccount(caller, DEFAULT_ADMIN_ROLE))", async () => {
    await expectRevert((editions.connect(outsider) as Contract).grantRole(ISSUER_ROLE, outsider.address), "AccessControlUnauthorizedAccount", [
      outsider.address,
      ZeroHash,
    ]);
    await expectRevert(editions.grantRole(ISSUER_ROLE, outsider.address), "AccessControlUnauthorizedAccount", [issuer.address, ZeroHash]);
  });
});

describe("CollectibleEditions ERC-165", () => {
  let editions: Contract;
  beforeAll(async () => {
    editions = await freshEditions();
  });

  it.each([
    ["ERC-165", "0x01ffc9a7", true],
    ["ERC-721", "0x80ac58cd", true],
    ["ERC-721 Metadata", "0x5b5e139f", true],
    ["ERC-5192", "0xb45a3c0e", true],
    // Not implemented: items share their edition's URI and no MetadataUpdate event is ever emitted.
    ["ERC-4906", "0x49064906", false],
    ["AccessControl", "0x7965db0b", true],
    ["AccessControlDefaultAdminRules", "0x31498786", true],
    ["invalid id", "0xffffffff", false],
  ])("ERC-165: supportsInterface(%s %s) is %s", async (_name, interfaceId, expected) => {
    expect(await editions.supportsInterface(interfaceId)).toBe(expected);
  });
});

describe("CollectibleEditions ERC-7572 contractURI", () => {
  const base = "https://hallmark.example/contracts/31337/";

  it("ERC-7572: a base given at creation names this contract's own document; none gives an empty URI", async () => {
    const { address } = await deployCollectibleEditions(admin, { name: NAME, symbol: "MUSE", admin: admin.address, issuer: issuer.address, contractURIBase: base });
    expect(await new Contract(address, iface, provider).getFunction("contractURI")()).toBe(`${base}${address.toLowerCase()}/contract.json`);
    expect(await (await freshEditions()).contractURI()).toBe("");
  });

  it("ERC-7572: the admin sets a full URI, a base or none, each emitting ContractURIUpdated()", async () => {
    const editions = await freshEditions();
    const asAdmin = editions.connect(admin) as Contract;
    expect(eventsOf(editions, await send(asAdmin.setContractURI("https://museum.example/collection.json")))).toEqual([["ContractURIUpdated"]]);
    expect(await editions.contractURI()).toBe("https://museum.example/collection.json");
    await send(asAdmin.setContractURI(base));
    expect(await editions.contractURI()).toBe(`${base}${(editions.target as string).toLowerCase()}/contract.json`);
    expect(eventsOf(editions, await send(asAdmin.setContractURI("")))).toEqual([["ContractURIUpdated"]]);
    expect(await editions.contractURI()).toBe("");
  });

  it("ERC-7572: setContractURI reverts AccessControlUnauthorizedAccount(caller, DEFAULT_ADMIN_ROLE) for an issuer, the voucher signer, an outsider", async () => {
    const editions = await freshEditions();
    for (const caller of [issuer, voucherSigner, outsider]) {
      await expectRevert((editions.connect(caller) as Contract).setContractURI("https://evil.example/"), "AccessControlUnauthorizedAccount", [caller.address, ZeroHash]);
    }
    expect(await editions.contractURI()).toBe("");
  });
});

describe("CollectibleEditions custody (holders without a wallet)", () => {
  let editions: Contract;
  // `holder` plays the custodial account the platform keeps (it can sign, as the platform can); `wallet` the holder's own.
  const wallet = randomAddress();
  beforeAll(async () => {
    editions = await freshEditions();
  });

  async function toCustody(editionId: bigint, custodian = holder.address): Promise<{ tokenId: bigint; receipt: TransactionReceipt }> {
    const receipt = await send(editions.airdropToCustody(editionId, [custodian]));
    const minted = parseLogs(editions, receipt.logs).find((e) => e.name === "ItemMinted");
    return { tokenId: minted!.args.tokenId as bigint, receipt };
  }

  it("airdropToCustody: the same events as airdrop (ItemMinted, Locked, Transfer), the item marked inCustody; airdrop's are not", async () => {
    const editionId = await createEdition(editions, 10n, Policy.Locked);
    const { tokenId, receipt } = await toCustody(editionId);
    expect(eventsOf(editions, receipt)).toEqual([
      ["ItemMinted", editionId, tokenId, holder.address, 1n],
      ["Locked", tokenId],
      ["Transfer", ZeroAddress, holder.address, tokenId],
    ]);
    expect(await editions.inCustody(tokenId)).toBe(true);
    const ordinary = await airdropOne(editions, editionId, holder.address);
    expect(await editions.inCustody(ordinary.tokenId)).toBe(false);
    await expectRevert(editions.inCustody(999n), "ERC721NonexistentToken", [999n]);
  });

  it("releaseFromCustody: a Locked and a GiftAfterLockup item go to the wallet (Transfer, CustodyReleased), once, without counting a gift or restarting the lockup", async () => {
    const locked = await toCustody(await createEdition(editions, 10n, Policy.Locked));
    const giftEdition = await createEdition(editions, 10n, Policy.GiftAfterLockup, BigInt(DAY), 1n);
    const gift = await toCustody(giftEdition);
    const mintedAt = BigInt((await provider.getBlock(gift.receipt.blockNumber))!.timestamp);
    const released = await send(editions.releaseFromCustody(holder.address, wallet, [locked.tokenId, gift.tokenId]));
    expect(eventsOf(editions, released)).toEqual([
      ["Transfer", holder.address, wallet, locked.tokenId],
      ["CustodyReleased", locked.tokenId, holder.address, wallet],
      ["Transfer", holder.address, wallet, gift.tokenId],
      ["CustodyReleased", gift.tokenId, holder.address, wallet],
    ]);
    expect([await editions.ownerOf(locked.tokenId), await editions.ownerOf(gift.tokenId)]).toEqual([wallet, wallet]);
    expect([await editions.inCustody(locked.tokenId), await editions.inCustody(gift.tokenId)]).toEqual([false, false]);
    // Still locked, and never movable by the old account nor by a second release.
    expect(await editions.locked(locked.tokenId)).toBe(true);
    await expectRevert(editions.releaseFromCustody(wallet, outsider.address, [locked.tokenId]), "ItemNotInCustody", [locked.tokenId]);
    // The gift item: its lockup runs from the mint, not the release, and its one gift is still there.
    await expectRevert(editions.releaseFromCustody(holder.address, wallet, [gift.tokenId]), "ItemNotInCustody", [gift.tokenId]);
    const e = await editions.edition(giftEdition);
    expect(e.minted).toBe(1n);
    expect(await editions.locked(gift.tokenId)).toBe((await latestTimestamp()) < mintedAt + BigInt(DAY));
    await increaseTime(DAY);
    expect(await editions.locked(gift.tokenId)).toBe(false);
  });

  it("releaseFromCustody: reverts ItemNotInCustody for an airdropped (not custodial) item, and one moved out of custody otherwise", async () => {
    const editionId = await createEdition(editions, 10n, Policy.IssuerMediated);
    const ordinary = await airdropOne(editions, editionId, holder.address);
    await expectRevert(editions.releaseFromCustody(holder.address, wallet, [ordinary.tokenId]), "ItemNotInCustody", [ordinary.tokenId]);
    const moved = await toCustody(editionId);
    await send(editions.issuerTransfer(holder.address, outsider.address, moved.tokenId));
    await expectRevert(editions.releaseFromCustody(outsider.address, wallet, [moved.tokenId]), "ItemNotInCustody", [moved.tokenId]);
    // A gift by the custodial account itself also ends custody (and counts as the gift it is).
    const giftEdition = await createEdition(editions, 10n, Policy.GiftAfterLockup, 0n, 1n);
    const gifted = await toCustody(giftEdition);
    await send((editions.connect(holder) as Contract).transferFrom(holder.address, outsider.address, gifted.tokenId));
    await expectRevert(editions.releaseFromCustody(outsider.address, wallet, [gifted.tokenId]), "ItemNotInCustody", [gifted.tokenId]);
  });

  it("releaseFromCustody: reverts ERC721InvalidReceiver(0) for the zero address, ERC721IncorrectOwner for another from, ERC721NonexistentToken; all or nothing", async () => {
    const editionId = await createEdition(editions, 10n, Policy.Locked);
    const a = await toCustody(editionId);
    const b = await toCustody(editionId);
    await expectRevert(editions.releaseFromCustody(holder.address, ZeroAddress, [a.tokenId]), "ERC721InvalidReceiver", [ZeroAddress]);
    await expectRevert(editions.releaseFromCustody(outsider.address, wallet, [a.tokenId]), "ERC721IncorrectOwner", [outsider.address, a.tokenId, holder.address]);
    await expectRevert(editions.releaseFromCustody(holder.address, wallet, [a.tokenId, 999n]), "ERC721NonexistentToken", [999n]);
    const ordinary = await airdropOne(editions, editionId, holder.address);
    await expectRevert(editions.releaseFromCustody(holder.address, wallet, [a.tokenId, b.tokenId, ordinary.tokenId]), "ItemNotInCustody", [ordinary.tokenId]);
    expect([await editions.inCustody(a.tokenId), await editions.inCustody(b.tokenId), await editions.ownerOf(a.tokenId)]).toEqual([true, true, holder.address]);
  });

  it("custody: airdropToCustody, redeemForCustody and releaseFromCustody revert AccessControlUnauthorizedAccount(caller, ISSUER_ROLE) for the custodial account, the voucher signer and the admin", async () => {
    const editionId = await createEdition(editions, 10n, Policy.Locked);
    const { tokenId } = await toCustody(editionId);
    for (const caller of [holder, voucherSigner, admin]) {
      const as = editions.connect(caller) as Contract;
      await expectRevert(as.releaseFromCustody(holder.address, caller.address, [tokenId]), "AccessControlUnauthorizedAccount", [caller.address, ISSUER_ROLE]);
      await expectRevert(as.airdropToCustody(editionId, [caller.address]), "AccessControlUnauthorizedAccount", [caller.address, ISSUER_ROLE]);
      await expectRevert(as.redeemForCustody(editionId, hexlify(randomBytes(32)), caller.address), "AccessControlUnauthorizedAccount", [caller.address, ISSUER_ROLE]);
    }
    expect(await editions.inCustody(tokenId)).toBe(true);
  });

  it("redeemForCustody: spends the code (VoucherRedeemed), marks the item; a second redeem reverts VoucherAlreadyUsed", async () => {
    const editionId = await createEdition(editions, 10n, Policy.Locked);
    const code = hexlify(randomBytes(32));
    const receipt = await send(editions.redeemForCustody(editionId, code, holder.address));
    const tokenId = parseLogs(editions, receipt.logs).find((e) => e.name === "ItemMinted")!.args.tokenId as bigint;
    expect(eventsOf(editions, receipt).at(-1)).toEqual(["VoucherRedeemed", code, tokenId, holder.address]);
    expect([await editions.inCustody(tokenId), await editions.voucherUsed(code)]).toEqual([true, true]);
    await expectRevert(editions.redeemForCustody(editionId, code, holder.address), "VoucherAlreadyUsed", [code]);
  });
});
