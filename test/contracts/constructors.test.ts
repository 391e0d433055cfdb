import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Contract, Interface, Wallet, ZeroAddress, ZeroHash, type TransactionReceipt } from "ethers";
import { loadArtifact } from "../../core/chain/artifacts.ts";
import { creationCode, type CreatableContract } from "../../core/chain/contract-creation.ts";
import { deployCertificateAnchor, deployCertificateRegistry, deployCollectibleEditions, deployIssuerRegistry } from "../../core/chain/deploy.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { startTestChain, type TestChain } from "../support/test-chain.ts";

/**
 * Each contract is fully set up by its one creation transaction (issuer keys, issuer registry, voucher signer), so a
 * deployment through the nonce-managed sender is exactly one stored transaction; a bad argument is refused by the
 * constructor with a custom error.
 */
let chain: TestChain;
let admin: Wallet;
let issuerRegistry: string;
const issuers = [Wallet.createRandom().address, Wallet.createRandom().address];
const ISSUER_ROLE = "0x114e74f6ea3bd819998f78687bfcb11b140da08e9b7d222fa9c1f1ba1f2aa122";

beforeAll(async () => {
  chain = await startTestChain();
  admin = chain.wallet(DEV_KEYS.deployer);
  issuerRegistry = (await deployIssuerRegistry(admin, { admin: admin.address, operator: admin.address })).address;
});
afterAll(async () => {
  await chain?.close();
});

function at(contract: CreatableContract, address: string): Contract {
  return new Contract(address, loadArtifact(contract).abi, admin);
}

/** The creation receipt's events of the created contract, as [name, ...args]. */
async function creationEvents(contract: Contract, txHash: string): Promise<unknown[][]> {
  const receipt = (await chain.provider.getTransactionReceipt(txHash)) as TransactionReceipt;
  return receipt.logs
    .filter((l) => l.address === contract.target)
    .map((l) => contract.interface.parseLog(l))
    .filter((e) => e !== null)
    .map((e) => [e.name, ...e.args]);
}

/** The constructor's custom error for `args`, from an estimate (which runs the constructor without a transaction). */
async function refusal(contract: CreatableContract, args: unknown[]): Promise<{ name: string; args: unknown[] }> {
  const err = (await chain.provider.estimateGas({ from: admin.address, data: creationCode(contract, args) }).then(
    () => {
      throw new Error(`${contract} was created with ${JSON.stringify(args)}`);
    },
    (e: unknown) => e,
  )) as { data?: string };
  const parsed = new Interface(loadArtifact(contract).abi).parseError(err.data!);
  return { name: parsed!.name, args: [...parsed!.args] };
}

describe("CertificateRegistry constructor", () => {
  it("grants every issuer, the pauser role to the admin, and links the issuer registry, in the creation transaction", async () => {
    const { address, txHash } = await deployCertificateRegistry(admin, { name: "One Tx", symbol: "ONE", admin: admin.address, issuers, issuerRegistry });
    const registry = at("CertificateRegistry", address);
    for (const issuer of issuers) expect(await registry.getFunction("hasRole")(ISSUER_ROLE, issuer)).toBe(true);
    expect(await registry.getFunction("hasRole")(await registry.getFunction("PAUSER_ROLE")(), admin.address)).toBe(true);
    expect(await registry.getFunction("issuerRegistry")()).toBe(issuerRegistry);
    const events = await creationEvents(registry, txHash);
    expect(events.filter((e) => e[0] === "RoleGranted" && e[1] === ISSUER_ROLE).map((e) => e[2])).toEqual(issuers);
    expect(events.filter((e) => e[0] === "IssuerRegistrySet")).toEqual([["IssuerRegistrySet", issuerRegistry]]);
    // Linked once only, at creation as later.
    const err = await registry.getFunction("setIssuerRegistry")(issuerRegistry).then(() => undefined, (e: { data: string }) => e);
    expect(registry.interface.parseError(err!.data)?.name).toBe("IssuerRegistryAlreadySet");
  });

  it("without an issuer registry links none (setIssuerRegistry links it later)", async () => {
    const { address, txHash } = await deployCertificateRegistry(admin, { name: "Later", symbol: "LTR", admin: admin.address, issuers: [issuers[0]!] });
    const registry = at("CertificateRegistry", address);
    expect(await registry.getFunction("issuerRegistry")()).toBe(ZeroAddress);
    expect((await creationEvents(registry, txHash)).filter((e) => e[0] === "IssuerRegistrySet")).toEqual([]);
    await (await registry.getFunction("setIssuerRegistry")(issuerRegistry)).wait();
    expect(await registry.getFunction("issuerRegistry")()).toBe(issuerRegistry);
  });

  it("refuses no issuer (IssuersEmpty) and the zero address as an issuer (IssuerInvalid)", async () => {
    expect(await refusal("CertificateRegistry", ["R", "R", admin.address, [], ZeroAddress, ""])).toEqual({ name: "IssuersEmpty", args: [] });
    expect(await refusal("CertificateRegistry", ["R", "R", admin.address, [issuers[0], ZeroAddress], ZeroAddress, ""])).toEqual({ name: "IssuerInvalid", args: [ZeroAddress] });
  });
});

describe("CertificateAnchor constructor", () => {
  it("grants every issuer and links the issuer registry (IssuerRegistrySet) in the creation transaction", async () => {
    const { address, txHash } = await deployCertificateAnchor(admin, { name: "Anchored", admin: admin.address, issuers, issuerRegistry });
    const anchor = at("CertificateAnchor", address);
    for (const issuer of issuers) expect(await anchor.getFunction("hasRole")(ISSUER_ROLE, issuer)).toBe(true);
    expect(await anchor.getFunction("issuerRegistry")()).toBe(issuerRegistry);
    const events = await creationEvents(anchor, txHash);
    expect(events.filter((e) => e[0] === "RoleGranted" && e[1] === ISSUER_ROLE).map((e) => e[2])).toEqual(issuers);
    expect(events.filter((e) => e[0] === "IssuerRegistrySet")).toEqual([["IssuerRegistrySet", issuerRegistry]]);
  });

  it("setIssuerRegistry on a store created without one emits IssuerRegistrySet", async () => {
    const { address } = await deployCertificateAnchor(admin, { name: "Later", admin: admin.address, issuer: issuers[0]! });
    const anchor = at("CertificateAnchor", address);
    const receipt = (await (await anchor.getFunction("setIssuerRegistry")(issuerRegistry)).wait()) as TransactionReceipt;
    expect(receipt.logs.map((l) => anchor.interface.parseLog(l)).map((e) => [e!.name, ...e!.args])).toEqual([["IssuerRegistrySet", issuerRegistry]]);
  });

  it("refuses no issuer (IssuersEmpty) and the zero address as an issuer (IssuerInvalid)", async () => {
    expect(await refusal("CertificateAnchor", ["A", admin.address, [], ZeroAddress])).toEqual({ name: "IssuersEmpty", args: [] });
    expect(await refusal("CertificateAnchor", ["A", admin.address, [ZeroAddress], ZeroAddress])).toEqual({ name: "IssuerInvalid", args: [ZeroAddress] });
  });
});

describe("CollectibleEditions constructor", () => {
  it("grants every issuer and the voucher signer its role only, in the creation transaction", async () => {
    const voucherSigner = Wallet.createRandom().address;
    const { address, txHash } = await deployCollectibleEditions(admin, { name: "Museum", symbol: "MUS", admin: admin.address, issuers, voucherSigner });
    const editions = at("CollectibleEditions", address);
    const voucherRole = await editions.getFunction("VOUCHER_SIGNER_ROLE")();
    for (const issuer of issuers) {
      expect(await editions.getFunction("hasRole")(ISSUER_ROLE, issuer)).toBe(true);
      expect(await editions.getFunction("hasRole")(voucherRole, issuer)).toBe(false);
    }
    expect(await editions.getFunction("hasRole")(voucherRole, voucherSigner)).toBe(true);
    expect(await editions.getFunction("hasRole")(ISSUER_ROLE, voucherSigner)).toBe(false);
    const granted = (await creationEvents(editions, txHash)).filter((e) => e[0] === "RoleGranted" && e[1] !== ZeroHash);
    expect(granted.map((e) => [e[1], e[2]])).toEqual([...issuers.map((i) => [ISSUER_ROLE, i]), [voucherRole, voucherSigner]]);
  });

  it("without a voucher signer grants none", async () => {
    const { address } = await deployCollectibleEditions(admin, { name: "Museum", symbol: "MUS", admin: admin.address, issuer: issuers[0]! });
    const editions = at("CollectibleEditions", address);
    expect(await editions.getFunction("hasRole")(await editions.getFunction("VOUCHER_SIGNER_ROLE")(), ZeroAddress)).toBe(false);
  });

  it("refuses no issuer (IssuersEmpty), the zero address as an issuer (IssuerInvalid), and an issuer as voucher signer (VoucherSignerInvalid)", async () => {
    expect(await refusal("CollectibleEditions", ["E", "E", admin.address, [], ZeroAddress, ""])).toEqual({ name: "IssuersEmpty", args: [] });
    expect(await refusal("CollectibleEditions", ["E", "E", admin.address, [ZeroAddress], ZeroAddress, ""])).toEqual({ name: "IssuerInvalid", args: [ZeroAddress] });
    expect(await refusal("CollectibleEditions", ["E", "E", admin.address, issuers, issuers[1], ""])).toEqual({ name: "VoucherSignerInvalid", args: [issuers[1]] });
  });
});
