import type { Database } from "../db/index.ts";
import { resolveReference } from "./reference.ts";
import { verifyCertificate, type VerifierDeps } from "./verify.ts";
import type { VerificationResult } from "./types.ts";

export interface Verifier {
  /** A Hallmark certificate id, or `<chainId>:<contract>:<tokenId>`. Throws CertificateNotFoundError. */
  verifyId(id: string): Promise<VerificationResult>;
  /** A certificate document or exported credential someone was handed. Throws DocumentFormatError. */
  verifyFile(bytes: Uint8Array): Promise<VerificationResult>;
}

/** Binds the verification to one deployment's chain, IPFS and (for id look-ups only) database. */
export function createVerifier(deps: VerifierDeps & { db?: Database }): Verifier {
  return {
    async verifyId(id) {
      const { reference, fromBlock } = await resolveReference(deps.db, id);
      return verifyCertificate({ reference, fromBlock }, deps);
    },
    verifyFile(bytes) {
      return verifyCertificate({ document: bytes }, deps);
    },
  };
}
