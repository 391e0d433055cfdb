import type { Signer } from "ethers";
import {
  certificateAnchorCreation,
  certificateRegistryCreation,
  collectibleEditionsCreation,
  contractOf,
  issuerRegistryCreation,
} from "./contract-creation.ts";

export interface RegistryDeployment {
  address: string;
  txHash: string;
  blockNumber: number;
}

/**
 * Deploys a certificate registry and waits for it to be mined. The dev stack and `npm run deploy` both
 * come through here, so the embedded chain is set up exactly as a real network is. One transaction: every issuer
 * key is granted and the issuer registry (when given) linked by the constructor.
 */
export async function deployCertificateRegistry(
  deployer: Signer,
  params: { name: string; symbol: string; admin: string; issuers: string[]; issuerRegistry?: string; contractURIBase?: string },
): Promise<RegistryDeployment> {
  if (!params.issuers.length) throw new Error("a registry needs at least one issuer key");
  return deployCreation(deployer, params.name, certificateRegistryCreation(params));
}

/**
 * Sends one creation from `deployer` and waits for it. For scripts and tests that deploy with a plain wallet; the
 * worker creates contracts through its nonce-managed sender instead (`sendOperation` with `to: null`).
 */
async function deployCreation(deployer: Signer, what: string, data: string): Promise<RegistryDeployment> {
  const sent = await deployer.sendTransaction({ to: null, data });
  const receipt = await sent.wait();
  if (!receipt || receipt.status !== 1) throw new Error(`Deployment of ${what} failed`);
  const created = await contractOf(deployer.provider!, { txHash: receipt.hash, signer: sent.from, nonce: sent.nonce, to: null });
  return { address: created!.address, txHash: receipt.hash, blockNumber: receipt.blockNumber };
}

/**
 * Deploys the platform operator's issuer registry. `adminDelay` (seconds, default 2 days) is how long a default
 * admin transfer waits; `operator` runs the register day to day.
 */
export async function deployIssuerRegistry(
  deployer: Signer,
  params: { admin: string; operator: string; adminDelay?: number },
): Promise<RegistryDeployment> {
  return deployCreation(deployer, "IssuerRegistry", issuerRegistryCreation(params));
}

/**
 * Deploys an anchored-certificate store (OpenAttestation DocumentStore compatible). Its issuer keys are `issuer`
 * and every key of `issuers`; `issuerRegistry`, when given, is linked at creation.
 */
export async function deployCertificateAnchor(
  deployer: Signer,
  params: { name: string; admin: string; issuer?: string; issuers?: string[]; issuerRegistry?: string },
): Promise<RegistryDeployment> {
  const issuers = issuerKeys(params);
  return deployCreation(deployer, params.name, certificateAnchorCreation({ ...params, issuers }));
}

/**
 * Deploys a collectible editions contract (limited editions of serial-numbered, non-tradable items). Its issuer
 * keys are `issuer` and every key of `issuers`; `voucherSigner`, when given, gets the voucher-signer role.
 */
export async function deployCollectibleEditions(
  deployer: Signer,
  params: { name: string; symbol: string; admin: string; issuer?: string; issuers?: string[]; voucherSigner?: string; contractURIBase?: string },
): Promise<RegistryDeployment> {
  const issuers = issuerKeys(params);
  return deployCreation(deployer, params.name, collectibleEditionsCreation({ ...params, issuers }));
}

/** `issuer` (the original single-key field) and `issuers` together, without repeats. */
function issuerKeys(params: { issuer?: string; issuers?: string[] }): string[] {
  const keys = [...(params.issuer ? [params.issuer] : []), ...(params.issuers ?? [])];
  if (!keys.length) throw new Error("a contract needs at least one issuer key");
  return [...new Set(keys)];
}
