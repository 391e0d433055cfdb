import { eq } from "drizzle-orm";
import { Contract, ZeroAddress, type Provider, type Wallet } from "ethers";
import { ChainInstitutionStatus, issuerRegistryAt } from "../../core/chain/issuer-registry.ts";
import type { Database } from "../../core/db/index.ts";
import { institutions } from "../../core/db/schema.ts";
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

/** Records in the database what the issuer registry holds about the demo institution: its id there, identity and status. */
export async function syncDemoInstitution(opts: {
  db: Database;
  provider: Provider;
  issuerRegistry: string;
  certificateRegistry: string;
  institutionId: string;
}): Promise<void> {
  const registry = issuerRegistryAt(opts.issuerRegistry, opts.provider);
  const chainId = (await registry.institutionOf(opts.certificateRegistry)) as bigint;
  if (chainId === 0n) return;
  const record = await registry.institution(chainId);
  const status = ChainInstitutionStatus[Number(record.status)] === "SUSPENDED" ? "SUSPENDED" : "ACTIVE";
  await opts.db
    .update(institutions)
    .set({ chainInstitutionId: chainId.toString(), identity: record.identity as string, status })
    .where(eq(institutions.id, opts.institutionId));
}
