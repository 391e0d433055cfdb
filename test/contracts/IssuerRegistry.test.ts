import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Contract, JsonRpcProvider, Wallet, ZeroAddress, hexlify, id as keccakText, randomBytes, toBeHex, type TransactionReceipt } from "ethers";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { ACCOUNT_2_KEY, ACCOUNT_3_KEY, startTestChain, type TestChain } from "../support/test-chain.ts";
import { deployCertificateRegistry, deployIssuerRegistry } from "../../core/chain/deploy.ts";
import { certificateRegistryAt, decodeRegistryError, OnChainStatus } from "../../core/chain/certificate-registry.ts";
import { packIssueBatch } from "../../core/chain/calldata.ts";
import { loadArtifact } from "../../core/chain/artifacts.ts";

const OPERATOR_KEY = ACCOUNT_2_KEY;
const OUTSIDER_KEY = ACCOUNT_3_KEY;
const OPERATOR_ROLE = keccakText("OPERATOR_ROLE");

let testChain: TestChain;
let provider: JsonRpcProvider;
let admin: Wallet;
let issuer: Wallet;
let operator: Wallet;
let outsider: Wallet;

beforeAll(async () => {
  testChain = await startTestChain();
  provider = testChain.provider;
  admin = testChain.wallet(DEV_KEYS.deployer);
  issuer = testChain.wallet(DEV_KEYS.minter);
  operator = testChain.wallet(OPERATOR_KEY);
  outsider = testChain.wallet(OUTSIDER_KEY);
});

afterAll(async () => {
  await testChain?.close();
});

async function freshIssuerRegistry(): Promise<Contract> {
  const { address } = await deployIssuerRegistry(admin, { admin: admin.address, operator: operator.address });
  return new Contract(address, loadArtifact("IssuerRegistry").abi, operator);
}

async function send(txPromise: Promise<{ wait(): Promise<TransactionReceipt | null> }>): Promise<TransactionReceipt> {
  const receipt = await (await txPromise).wait();
  if (!receipt || receipt.status !== 1) throw new Error("transaction failed");
  return receipt;
}

function events(contract: Contract, receipt: TransactionReceipt): unknown[][] {
  return receipt.logs
    .filter((l) => l.address.toLowerCase() === (contract.target as string).toLowerCase())
    .map((l) => contract.interface.parseLog(l))
    .filter((e) => e !== null)
    .map((e) => [e.name, ...e.args]);
}

async function expectRevert(contract: Contract, promise: Promise<unknown>, name: string, args: unknown[] = []): Promise<void> {
  const err = (await promise.then(
    () => {
      throw new Error(`expected a revert with ${name}, but the call succeeded`);
    },
    (e: unknown) => e,
  )) as { data?: string; info?: { error?: { data?: string } } };
  const data = err.data ?? err.info?.error?.data;
  const parsed = data ? contract.interface.parseError(data) : null;
  expect(parsed ? { name: parsed.name, args: [...parsed.args] } : err).toEqual({ name, args });
}

async function timestamp(receipt: TransactionReceipt): Promise<bigint> {
  return BigInt((await provider.getBlock(receipt.blockNumber))!.timestamp);
}

const randomAddress = () => Wallet.createRandom().address;

describe("IssuerRegistry", () => {
  it("registerInstitution: stores name, identity, Active, registeredAt; binds accounts; emits InstitutionRegistered and AccountBound", async () => {
    const registry = await freshIssuerRegistry();
    const key = randomAddress();
    const certs = randomAddress();
    const receipt = await send(registry.registerInstitution("University of Somewhere", "did:web:somewhere.edu", [key, certs]));
    expect(events(registry, receipt)).toEqual([
      ["InstitutionRegistered", 1n, "University of Somewhere", "did:web:somewhere.edu"],
      ["AccountBound", 1n, key],
      ["AccountBound", 1n, certs],
    ]);
    const inst = await registry.institution(1n);
    expect([inst.name, inst.identity, inst.status, inst.registeredAt]).toEqual([
      "University of Somewhere",
      "did:web:somewhere.edu",
      1n,
      await timestamp(receipt),
    ]);
    expect(await registry.institutionCount()).toBe(1n);
    expect(await registry.institutionOf(certs)).toBe(1n);
    expect(await registry.canIssue(certs)).toBe(true);
    expect(await registry.canIssue(randomAddress())).toBe(false);
  });

  it("registerInstitution: reverts InstitutionDescriptionInvalid, AccountInvalid, AccountAlreadyBound(account, id)", async () => {
    const registry = await freshIssuerRegistry();
    await expectRevert(registry, registry.registerInstitution("", "example.edu", []), "InstitutionDescriptionInvalid");
    await expectRevert(registry, registry.registerInstitution("X", "", []), "InstitutionDescriptionInvalid");
    await expectRevert(registry, registry.registerInstitution("X".repeat(257), "example.edu", []), "InstitutionDescriptionInvalid");
    await expectRevert(registry, registry.registerInstitution("X", "example.edu", [ZeroAddress]), "AccountInvalid", [ZeroAddress]);
    const shared = randomAddress();
    await send(registry.registerInstitution("A", "a.edu", [shared]));
    await expectRevert(registry, registry.registerInstitution("B", "b.edu", [shared]), "AccountAlreadyBound", [shared, 1n]);
  });

  it("suspendInstitution / reactivateInstitution: canIssue follows, events carry the reason, errors name the id", async () => {
    const registry = await freshIssuerRegistry();
    const account = randomAddress();
    await send(registry.registerInstitution("A", "a.edu", [account]));
    const suspended = await send(registry.suspendInstitution(1n, "accreditation lapsed"));
    expect(events(registry, suspended)).toEqual([["InstitutionSuspended", 1n, "accreditation lapsed"]]);
    expect(await registry.canIssue(account)).toBe(false);
    expect((await registry.institution(1n)).status).toBe(2n);
    await expectRevert(registry, registry.suspendInstitution(1n, "again"), "InstitutionAlreadySuspended", [1n]);
    const back = await send(registry.reactivateInstitution(1n));
    expect(events(registry, back)).toEqual([["InstitutionReactivated", 1n]]);
    expect(await registry.canIssue(account)).toBe(true);
    await expectRevert(registry, registry.reactivateInstitution(1n), "InstitutionNotSuspended", [1n]);
    await expectRevert(registry, registry.suspendInstitution(7n, "x"), "InstitutionNotFound", [7n]);
    await expectRevert(registry, registry.institution(0n), "InstitutionNotFound", [0n]);
  });

  it("wasActive: answers for past moments from the checkpointed history of bindings and status", async () => {
    const registry = await freshIssuerRegistry();
    const account = randomAddress();
    const t0 = await timestamp(await send(registry.registerInstitution("A", "a.edu", [])));
    await provider.send("evm_increaseTime", [100]);
    const t1 = await timestamp(await send(registry.bindAccount(1n, account)));
    await provider.send("evm_increaseTime", [100]);
    const t2 = await timestamp(await send(registry.suspendInstitution(1n, "audit")));
    await provider.send("evm_increaseTime", [100]);
    const t3 = await timestamp(await send(registry.reactivateInstitution(1n)));
    await provider.send("evm_increaseTime", [100]);
    const t4 = await timestamp(await send(registry.unbindAccount(account)));
    const at = (t: bigint) => registry.wasActive(account, t);
    expect(await at(t0)).toBe(false); // not yet bound
    expect(await at(t1)).toBe(true);
    expect(await at(t2 - 1n)).toBe(true);
    expect(await at(t2)).toBe(false);
    expect(await at(t3 - 1n)).toBe(false);
    expect(await at(t3)).toBe(true);
    expect(await at(t4 - 1n)).toBe(true);
    expect(await at(t4)).toBe(false);
    expect(await registry.institutionOf(account)).toBe(0n);
    await expectRevert(registry, registry.unbindAccount(account), "AccountNotBound", [account]);
  });

  it("updateInstitution: emits InstitutionUpdated and changes name and identity", async () => {
    const registry = await freshIssuerRegistry();
    await send(registry.registerInstitution("A", "a.edu", []));
    const receipt = await send(registry.updateInstitution(1n, "A University", "did:web:a.edu"));
    expect(events(registry, receipt)).toEqual([["InstitutionUpdated", 1n, "A University", "did:web:a.edu"]]);
    expect((await registry.institution(1n)).identity).toBe("did:web:a.edu");
    await expectRevert(registry, registry.updateInstitution(2n, "B", "b.edu"), "InstitutionNotFound", [2n]);
  });

  it("every operator function reverts AccessControlUnauthorizedAccount(caller, OPERATOR_ROLE) for others, the admin included", async () => {
    const registry = await freshIssuerRegistry();
    await send(registry.registerInstitution("A", "a.edu", []));
    for (const who of [outsider, admin]) {
      const as = registry.connect(who) as Contract;
      for (const call of [
        () => as.registerInstitution("B", "b.edu", []),
        () => as.updateInstitution(1n, "B", "b.edu"),
        () => as.bindAccount(1n, randomAddress()),
        () => as.unbindAccount(randomAddress()),
        () => as.suspendInstitution(1n, "x"),
        () => as.reactivateInstitution(1n),
        () => as.freezeToken(randomAddress(), 1n),
        () => as.unfreezeToken(randomAddress(), 1n),
      ]) {
        await expectRevert(registry, call(), "AccessControlUnauthorizedAccount", [who.address, OPERATOR_ROLE]);
      }
    }
  });
});

describe("IssuerRegistry linked to a CertificateRegistry", () => {
  async function linked() {
    const issuers = await freshIssuerRegistry();
    const { address } = await deployCertificateRegistry(admin, { name: "Linked", symbol: "LNK", admin: admin.address, issuers: [issuer.address] });
    const certs = certificateRegistryAt(address, issuer);
    const receipt = await send((certs.connect(admin) as Contract).setIssuerRegistry(issuers.target));
    // Token ids are digests: the refresh covers every id, whether or not any was issued yet.
    expect(events(certs, receipt)).toEqual([["IssuerRegistrySet", issuers.target], ["BatchMetadataUpdate", 1n, 2n ** 256n - 1n]]);
    return { issuers, certs, address };
  }
  /** A certificate to issue: a document digest (the token id), a holder, no expiry. */
  const request = (digest = hexlify(randomBytes(32))) => ({ digest, holder: randomAddress(), validUntil: 0n });
  const args = (r: ReturnType<typeof request>) => [r.digest, r.holder, r.validUntil] as const;
  /** Token id 1: the digest 0x00…01. */
  const tokenOne = () => request(toBeHex(1n, 32));
  const expectRegistryRevert = async (promise: Promise<unknown>, name: string, args: unknown[]) =>
    expect(decodeRegistryError(await promise.then(() => undefined, (e: unknown) => e))).toEqual({ name, args });

  it("link: an unbound registry cannot issue (IssuerInactive(registry)); bound to an active institution it can", async () => {
    const { issuers, certs, address } = await linked();
    await expectRegistryRevert(certs.issue(...args(request())), "IssuerInactive", [address]);
    await send(issuers.registerInstitution("A", "a.edu", [address]));
    await send(certs.issue(...args(request())));
    expect(await certs.issuerRegistry()).toBe(issuers.target);
  });

  it("link: suspending the institution stops issue and issueBatch; revoke still works; reactivation resumes", async () => {
    const { issuers, certs, address } = await linked();
    await send(issuers.registerInstitution("A", "a.edu", [address]));
    await send(certs.issue(...args(tokenOne())));
    await send(issuers.suspendInstitution(1n, "audit"));
    await expectRegistryRevert(certs.issue(...args(request())), "IssuerInactive", [address]);
    await expectRegistryRevert(certs.issueBatch(packIssueBatch([request()])), "IssuerInactive", [address]);
    await send(certs.revoke(1n, 0));
    await send(issuers.reactivateInstitution(1n));
    await send(certs.issueBatch(packIssueBatch([request(), request()])));
  });

  it("link: the operator's freeze shows as SUSPENDED until unfrozen; events name registry, token and operator", async () => {
    const { issuers, certs, address } = await linked();
    await send(issuers.registerInstitution("A", "a.edu", [address]));
    await send(certs.issue(...args(tokenOne())));
    const frozen = await send(issuers.freezeToken(address, 1n));
    expect(events(issuers, frozen)).toEqual([["TokenFrozen", address, 1n, operator.address]]);
    expect(OnChainStatus[Number(await certs.status(1n))]).toBe("SUSPENDED");
    await expectRevert(issuers, issuers.freezeToken(address, 1n), "TokenAlreadyFrozen", [address, 1n]);
    const unfrozen = await send(issuers.unfreezeToken(address, 1n));
    expect(events(issuers, unfrozen)).toEqual([["TokenUnfrozen", address, 1n, operator.address]]);
    expect(OnChainStatus[Number(await certs.status(1n))]).toBe("VALID");
    await expectRevert(issuers, issuers.unfreezeToken(address, 1n), "TokenNotFrozen", [address, 1n]);
  });

  it("link: set once only (IssuerRegistryAlreadySet), so the institution cannot unlink itself from suspension", async () => {
    const { issuers, certs } = await linked();
    await expectRegistryRevert((certs.connect(admin) as Contract).setIssuerRegistry(randomAddress()), "IssuerRegistryAlreadySet", [issuers.target]);
  });

  it("link: a verifier asks wasActive(registry, issuedAt) with the certificate's issuedAt", async () => {
    const { issuers, certs, address } = await linked();
    await send(issuers.registerInstitution("A", "a.edu", [address]));
    await send(certs.issue(...args(tokenOne())));
    const { issuedAt } = await certs.certificate(1n);
    await provider.send("evm_increaseTime", [10]);
    await send(issuers.suspendInstitution(1n, "later misconduct"));
    expect(await issuers.wasActive(address, issuedAt)).toBe(true);
    expect(await issuers.canIssue(address)).toBe(false);
  });
});
