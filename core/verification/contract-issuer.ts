import type { IdentityProofAnswer, IdentityProofs } from "../identity/domain-proof.ts";
import type { IssuerRegistry } from "./issuer-registry-reader.ts";

/**
 * Who stands behind a contract, as a gallery tells its visitors: the institution the platform's issuer registry
 * binds it to, with the proof of that institution's domain. Anyone can deploy a contract on the chain; without this,
 * every contract's gallery would look equally official.
 */
export type ContractIssuer =
  | { kind: "REGISTERED"; name: string; identity: string; active: boolean; proof: IdentityProofAnswer; where: string }
  | { kind: "UNREGISTERED"; where: string }
  | { kind: "UNKNOWN"; reason: string };

export async function contractIssuer(
  deps: { issuers?: IssuerRegistry; identityProofs?: IdentityProofs },
  target: { chainId: number; contract: string },
): Promise<ContractIssuer> {
  if (!deps.issuers) return { kind: "UNKNOWN", reason: "no issuer registry is configured" };
  try {
    const behind = await deps.issuers.institutionBehind(target);
    if (!behind.bound) return { kind: "UNREGISTERED", where: behind.where };
    let proof: IdentityProofAnswer;
    try {
      proof = deps.identityProofs ? await deps.identityProofs.proofOf(behind.entry) : { proven: false, reason: "no identity proofs are consulted" };
    } catch (err) {
      proof = { proven: false, reason: `its proof could not be read: ${(err as Error).message}` };
    }
    return { kind: "REGISTERED", name: behind.entry.name, identity: behind.entry.identity, active: behind.active, proof, where: behind.where };
  } catch (err) {
    return { kind: "UNKNOWN", reason: `the issuer registry could not be read: ${(err as Error).message}` };
  }
}
