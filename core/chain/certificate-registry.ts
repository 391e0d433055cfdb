import { Contract, Interface, id, type ContractRunner } from "ethers";
import { loadArtifact } from "./artifacts.ts";
import { decodeContractError, type ContractError } from "./contract-errors.ts";

/** Mirrors `ICertificateRegistry.Status`. */
export const OnChainStatus = ["UNKNOWN", "VALID", "SUSPENDED", "REVOKED", "EXPIRED", "SUPERSEDED"] as const;
export type OnChainStatus = (typeof OnChainStatus)[number];

/** Mirrors `ICertificateRegistry.RevocationReason` (RFC 5280 CRLReason order). */
export const RevocationReason = [
  "UNSPECIFIED",
  "KEY_COMPROMISE",
  "CA_COMPROMISE",
  "AFFILIATION_CHANGED",
  "SUPERSEDED",
  "CESSATION_OF_OPERATION",
  "CERTIFICATE_HOLD",
  "UNUSED",
  "REMOVE_FROM_CRL",
  "PRIVILEGE_WITHDRAWN",
  "AA_COMPROMISE",
] as const;
export type RevocationReason = (typeof RevocationReason)[number];

/**
 * One certificate to issue: its document's sha-256 (which is its token id, and whose document names the request
 * id), its holder and its expiry (unix seconds, 0 for none).
 */
export interface IssueRequest {
  digest: string;
  holder: string;
  validUntil: bigint;
}

let registryInterface: Interface | undefined;

/** Built once: an Interface hashes every fragment's selector and topic when constructed. */
export function certificateRegistryInterface(): Interface {
  return (registryInterface ??= new Interface(loadArtifact("CertificateRegistry").abi));
}

export function certificateRegistryAt(address: string, runner: ContractRunner): Contract {
  return new Contract(address, loadArtifact("CertificateRegistry").abi, runner);
}

/** The custom error a failed call or transaction reverted with, decoded against the registry ABI. */
export function decodeRegistryError(err: unknown): ContractError | undefined {
  return decodeContractError(err, certificateRegistryInterface());
}

/** The certificate registry's role ids: `keccak256("<ROLE>_ROLE")`, as the contract declares them. */
export function chainRoleId(role: "ISSUER" | "MINTER" | "PAUSER"): string {
  return id(`${role}_ROLE`);
}
