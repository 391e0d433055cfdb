import { ContractFactory, type Signer } from "ethers";
import { loadArtifact } from "./artifacts.ts";

export interface RegistryDeployment {
  address: string;
  txHash: string;
  blockNumber: number;
}

/**
 * Deploys a certificate registry and waits for it to be mined. The dev stack and `npm run deploy` both
 * come through here, so the embedded chain is set up exactly as a real network is.
 */
export async function deployCertificateRegistry(
  deployer: Signer,
  params: { name: string; symbol: string; admin: string; issuer: string },
): Promise<RegistryDeployment> {
  const { abi, bytecode } = loadArtifact("CertificateRegistry");
  const factory = new ContractFactory(abi, bytecode, deployer);
  const contract = await factory.deploy(params.name, params.symbol, params.admin, params.issuer);
  const tx = contract.deploymentTransaction();
  const receipt = await tx!.wait();
  if (!receipt || receipt.status !== 1) throw new Error(`Deployment of ${params.name} failed`);
  return { address: await contract.getAddress(), txHash: receipt.hash, blockNumber: receipt.blockNumber };
}
