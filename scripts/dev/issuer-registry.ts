import { Contract, ZeroAddress, type Wallet } from "ethers";
import { loadArtifact } from "../../core/chain/artifacts.ts";
import { deployIssuerRegistry } from "../../core/chain/deploy.ts";

/**
 * The development stack plays the platform operator: it runs an issuer registry, registers the demo institution
 * with its certificate registry bound to it, and links the certificate registry to it, so verification's issuer
 * check has something real to read. A registry linked earlier (a persistent chain) keeps its issuer registry.
 */
export async function ensureDemoIssuerRegistry(opts: {
  deployer: Wallet;
  certificateRegistry: string;
  institution: { name: string; identity: string };
}): Promise<string> {
  const registry = new Contract(opts.certificateRegistry, loadArtifact("CertificateRegistry").abi, opts.deployer);
  const linked = (await registry.issuerRegistry()) as string;
  if (linked !== ZeroAddress) return linked;

  const { address } = await deployIssuerRegistry(opts.deployer, { admin: opts.deployer.address, operator: opts.deployer.address });
  const issuers = new Contract(address, loadArtifact("IssuerRegistry").abi, opts.deployer);
  await (await issuers.registerInstitution(opts.institution.name, opts.institution.identity, [opts.certificateRegistry])).wait();
  await (await registry.setIssuerRegistry(address)).wait();
  return address;
}
