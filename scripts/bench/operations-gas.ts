import { ContractFactory, getAddress, hexlify, randomBytes, type Contract, type Signer } from "ethers";
import { loadArtifact } from "../../core/chain/artifacts.ts";
import { packIssueBatch } from "../../core/chain/calldata.ts";
import { certificateRegistryCreation, collectibleEditionsCreation } from "../../core/chain/contract-creation.ts";

/**
 * Gas of one call of each `CertificateRegistry` state change after issue (revoke, revokeWithApprovals, suspend, unsuspend, reissue,
 * metadata correction, burn) and of the creation of a registry and an editions contract, each a whole
 * transaction's `gasUsed`. Every change acts on its own freshly issued certificate, so none pays for another's
 * first write.
 */
export async function operationsGas(deployer: Signer): Promise<{ what: string; gas: bigint }[]> {
  const me = await deployer.getAddress();
  const rows: { what: string; gas: bigint }[] = [];
  const gasOf = async (tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>) => (await (await tx).wait())!.gasUsed;
  const create = async (data: string) => {
    const receipt = (await (await deployer.sendTransaction({ to: null, data })).wait())!;
    return { address: receipt.contractAddress!, gas: receipt.gasUsed };
  };
  const contractBase = "https://hallmark.example/contracts/31337/";

  const registryCreation = await create(certificateRegistryCreation({ name: "Bench", symbol: "BEN", admin: me, issuers: [me], contractURIBase: contractBase }));
  rows.push({ what: "deploy CertificateRegistry (1 issuer)", gas: registryCreation.gas });
  const editionsCreation = await create(collectibleEditionsCreation({ name: "Bench Editions", symbol: "BEE", admin: me, issuers: [me], contractURIBase: contractBase }));
  rows.push({ what: "deploy CollectibleEditions (1 issuer)", gas: editionsCreation.gas });

  const registry = new ContractFactory(loadArtifact("CertificateRegistry").abi, "0x", deployer).attach(registryCreation.address) as Contract;
  await (await registry.setDefaultBurnAuth(2)).wait(); // Both: the issuer may burn
  const request = () => ({ digest: hexlify(randomBytes(32)), holder: getAddress(hexlify(randomBytes(20))), validUntil: 4_102_444_800n });
  const issued = async () => {
    const r = request();
    await (await registry.issueBatch(packIssueBatch([r]))).wait();
    return BigInt(r.digest);
  };

  const single = request();
  rows.push({ what: "issue (1 certificate)", gas: await gasOf(registry.issue(single.digest, single.holder, single.validUntil)) });
  rows.push({ what: "revoke", gas: await gasOf(registry.revoke(await issued(), 9)) });
  rows.push({ what: "revokeWithApprovals", gas: await gasOf(registry.revokeWithApprovals(await issued(), 9, `0x${"ab".repeat(32)}`)) });
  const suspended = await issued();
  rows.push({ what: "suspend", gas: await gasOf(registry.suspend(suspended)) });
  rows.push({ what: "unsuspend", gas: await gasOf(registry.unsuspend(suspended)) });
  const replaced = await issued();
  const successor = request();
  rows.push({ what: "reissue", gas: await gasOf(registry.reissue(replaced, successor.digest, successor.holder, successor.validUntil)) });
  rows.push({ what: "updateMetadata", gas: await gasOf(registry.updateMetadata(await issued(), hexlify(randomBytes(32)))) });
  rows.push({ what: "burn (by the issuer)", gas: await gasOf(registry.burn(await issued())) });
  rows.push(...(await editionsGas(deployer, editionsCreation.address)));
  return rows;
}

/**
 * Gas of CollectibleEditions airdrops (1 and 10 fresh holders, the whole transaction), and, where the contract has
 * them, of airdrops into custodial accounts and of releasing custodial items to a wallet. A warm-up edition and
 * airdrop pay the counters' first writes.
 */
async function editionsGas(deployer: Signer, address: string): Promise<{ what: string; gas: bigint }[]> {
  const rows: { what: string; gas: bigint }[] = [];
  const gasOf = async (tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>) => (await (await tx).wait())!.gasUsed;
  const editions = new ContractFactory(loadArtifact("CollectibleEditions").abi, "0x", deployer).attach(address) as Contract;
  const fresh = (n: number) => Array.from({ length: n }, () => getAddress(hexlify(randomBytes(20))));
  await (await editions.createEdition("Bench", "ipfs://bench", 1_000_000, 0, 0, 0)).wait();
  await (await editions.airdrop(1, fresh(1))).wait(); // warm-up
  rows.push({ what: "airdrop (1 holder)", gas: await gasOf(editions.airdrop(1, fresh(1))) });
  rows.push({ what: "airdrop (10 holders)", gas: await gasOf(editions.airdrop(1, fresh(10))) });
  if (!editions.interface.getFunction("airdropToCustody")) return rows;
  const custodian = fresh(1)[0]!;
  rows.push({ what: "airdropToCustody (1 holder)", gas: await gasOf(editions.airdropToCustody(1, [custodian])) });
  const tenCustodial = fresh(10);
  rows.push({ what: "airdropToCustody (10 holders)", gas: await gasOf(editions.airdropToCustody(1, tenCustodial)) });
  const first = (await editions.airdropToCustody.staticCall(1, Array(10).fill(custodian))) as bigint;
  await (await editions.airdropToCustody(1, Array(10).fill(custodian))).wait();
  const wallet = fresh(1)[0]!;
  rows.push({ what: "releaseFromCustody (1 item)", gas: await gasOf(editions.releaseFromCustody(custodian, wallet, [first - 11n])) });
  const ten = Array.from({ length: 10 }, (_, i) => first + BigInt(i));
  rows.push({ what: "releaseFromCustody (10 items)", gas: await gasOf(editions.releaseFromCustody(custodian, wallet, ten)) });
  return rows;
}
