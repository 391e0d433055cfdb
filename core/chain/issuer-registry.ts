import { Contract, Interface, type ContractRunner } from "ethers";
import { loadArtifact } from "./artifacts.ts";
import { certificateRegistryInterface } from "./certificate-registry.ts";
import { decodeContractError, type ContractError } from "./contract-errors.ts";

/** Mirrors `IIssuerRegistry.InstitutionStatus`. */
export const ChainInstitutionStatus = ["NONE", "ACTIVE", "SUSPENDED"] as const;

let issuerInterface: Interface | undefined;

export function issuerRegistryInterface(): Interface {
  return (issuerInterface ??= new Interface(loadArtifact("IssuerRegistry").abi));
}

export function issuerRegistryAt(address: string, runner: ContractRunner): Contract {
  return new Contract(address, issuerRegistryInterface(), runner);
}

/** The custom error a call reverted with, decoded against the issuer registry's and the certificate registry's ABIs. */
export function decodeAdminError(err: unknown): ContractError | undefined {
  return decodeContractError(err, issuerRegistryInterface(), certificateRegistryInterface());
}
