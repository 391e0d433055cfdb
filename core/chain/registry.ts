import { Contract, Interface, type ContractRunner } from "ethers";
import { loadArtifact } from "./artifacts.ts";

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

export interface IssueRequest {
  requestId: string;
  holder: string;
  uri: string;
  digest: string;
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

/** A custom error a contract reverted with: its name and arguments. */
export interface ContractError {
  name: string;
  args: unknown[];
}

/** The custom error inside a failed call or estimate, read with the first of `ifaces` that knows it. */
export function decodeContractError(err: unknown, ...ifaces: Interface[]): ContractError | undefined {
  const data = findRevertData(err);
  if (!data) return undefined;
  for (const iface of ifaces) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return { name: parsed.name, args: [...parsed.args] };
    } catch {}
  }
  return undefined;
}

/** `Name(arg, …)`, as operations' errors quote a contract's refusal. */
export function describeContractError(e: ContractError): string {
  return `${e.name}(${e.args.map(String).join(", ")})`;
}

export function findRevertData(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== "object" || depth > 5) return undefined;
  const e = err as Record<string, unknown>;
  if (typeof e.data === "string" && e.data.startsWith("0x") && e.data.length >= 10) return e.data;
  for (const key of ["error", "info", "cause", "data"]) {
    const found = findRevertData(e[key], depth + 1);
    if (found) return found;
  }
  return undefined;
}
