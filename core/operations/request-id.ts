import { keccak256, toUtf8Bytes } from "ethers";

/** The contract's single-use request id for an issuance: fixed by the issuance id, so every retry reuses it. */
export function requestIdFor(issuanceId: string): string {
  return keccak256(toUtf8Bytes(`hallmark:issuance:${issuanceId}`));
}
