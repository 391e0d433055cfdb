import { Contract, Interface, type ContractRunner } from "ethers";
import { loadArtifact } from "../chain/artifacts.ts";
import { decodeContractError, type ContractError } from "../chain/contract-errors.ts";

let anchorInterface: Interface | undefined;

/** The CertificateAnchor's ABI (its build artifact), read once. */
export function certificateAnchorInterface(): Interface {
  anchorInterface ??= new Interface(loadArtifact("CertificateAnchor").abi);
  return anchorInterface;
}

export function certificateAnchorAt(address: string, runner: ContractRunner): Contract {
  return new Contract(address, certificateAnchorInterface(), runner);
}

/** The anchor contract's named error behind a failed estimate or call, if it is one. */
export function decodeAnchorError(err: unknown): ContractError | undefined {
  return decodeContractError(err, certificateAnchorInterface());
}
