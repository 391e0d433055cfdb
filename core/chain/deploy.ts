import { Contract, ContractFactory, type Signer } from "ethers";
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
  params: { name: string; symbol: string; admin: string; issuers: string[] },
): Promise<RegistryDeployment> {
  const { abi, bytecode } = loadArtifact("CertificateRegistry");
  const factory = new ContractFactory(abi, bytecode, deployer);
  const [first, ...others] = params.issuers;
  if (!first) throw new Error("a registry needs at least one issuer key");
  const contract = await factory.deploy(params.name, params.symbol, params.admin, first);
  const tx = contract.deploymentTransaction();
  const receipt = await tx!.wait();
  if (!receipt || receipt.status !== 1) throw new Error(`Deployment of ${params.name} failed`);
  const address = await contract.getAddress();
  if (others.length) {
    // Only the admin can grant: these run when the deployer is the admin, as in development.
    const registry = new Contract(address, abi, deployer);
    const role = await registry.ISSUER_ROLE();
    for (const issuer of others) await (await registry.grantRole(role, issuer)).wait();
  }
  return { address, txHash: receipt.hash, blockNumber: receipt.blockNumber };
}

async function deployContract(deployer: Signer, contractName: string, args: unknown[]): Promise<RegistryDeployment> {
  const { abi, bytecode } = loadArtifact(contractName);
  const contract = await new ContractFactory(abi, bytecode, deployer).deploy(...args);
  const receipt = await contract.deploymentTransaction()!.wait();
  if (!receipt || receipt.status !== 1) throw new Error(`Deployment of ${contractName} failed`);
  return { address: await contract.getAddress(), txHash: receipt.hash, blockNumber: receipt.blockNumber };
}

/**
 * Deploys the platform operator's issuer registry. `adminDelay` (seconds, default 2 days) is how long a default
 * admin transfer waits; `operator` runs the register day to day.
 */
export async function deployIssuerRegistry(
  deployer: Signer,
  params: { admin: string; operator: string; adminDelay?: number },
): Promise<RegistryDeployment> {
  return deployContract(deployer, "IssuerRegistry", [params.adminDelay ?? 2 * 24 * 3600, params.admin, params.operator]);
}

/** Deploys an anchored-certificate store (OpenAttestation DocumentStore compatible). */
export async function deployCertificateAnchor(
  deployer: Signer,
  params: { name: string; admin: string; issuer: string },
): Promise<RegistryDeployment> {
  return deployContract(deployer, "CertificateAnchor", [params.name, params.admin, params.issuer]);
}

/** Deploys a collectible editions contract (limited editions of serial-numbered, non-tradable items). */
export async function deployCollectibleEditions(
  deployer: Signer,
  params: { name: string; symbol: string; admin: string; issuer: string },
): Promise<RegistryDeployment> {
  return deployContract(deployer, "CollectibleEditions", [params.name, params.symbol, params.admin, params.issuer]);
}
