import { ContractFactory, getAddress, hexlify, randomBytes, type Contract, type Signer } from "ethers";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { loadArtifact } from "../../core/chain/artifacts.ts";
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
  const request = () => {
    const digest = hexlify(randomBytes(32));
    const uri = `ipfs://${CID.createV1(0x55, Digest.create(0x12, Buffer.from(digest.slice(2), "hex"))).toString()}`;
    return { requestId: hexlify(randomBytes(32)), holder: getAddress(hexlify(randomBytes(20))), uri, digest, validUntil: 4_102_444_800n };
  };
  let next = 1n;
  const issued = async () => {
    await (await registry.issueBatch([request()])).wait();
    return next++;
  };
  await issued(); // warm-up: the id counter's first write

  rows.push({ what: "issue (1 certificate)", gas: await gasOf(registry.issue(request())) });
  next++;
  rows.push({ what: "revoke", gas: await gasOf(registry.revoke(await issued(), 9)) });
  rows.push({ what: "revokeWithApprovals", gas: await gasOf(registry.revokeWithApprovals(await issued(), 9, `0x${"ab".repeat(32)}`)) });
  const suspended = await issued();
  rows.push({ what: "suspend", gas: await gasOf(registry.suspend(suspended)) });
  rows.push({ what: "unsuspend", gas: await gasOf(registry.unsuspend(suspended)) });
  const replaced = await issued();
  rows.push({ what: "reissue", gas: await gasOf(registry.reissue(replaced, request())) });
  next++;
  const corrected = request();
  rows.push({ what: "updateMetadata (CID of the digest)", gas: await gasOf(registry.updateMetadata(await issued(), corrected.uri, corrected.digest)) });
  rows.push({ what: "burn (by the issuer)", gas: await gasOf(registry.burn(await issued())) });
  return rows;
}
