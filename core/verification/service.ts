import type { Database } from "../db/index.ts";
import type { Disclosure } from "../metadata/personal-data.ts";
import { certificateIdOfToken, disclosuresFor, personalDataOf } from "../operations/personal-data.ts";
import { resolveReference } from "./reference.ts";
import { verifyAnchoredProof, type AnchoredProof } from "./anchored.ts";
import { verifyCertificate } from "./verify.ts";
import type { VerifierDeps } from "./verifier-deps.ts";
import type { CertificateSummary, VerificationResult } from "./types.ts";

export interface DisclosureOptions {
  /** The token of a holder's link: opens the certificate's personal data held in the database, if not erased. */
  share?: string;
  /** Disclosures given outright (salt and value); each is shown only if it opens the document's commitment. */
  disclosures?: readonly Disclosure[];
}

export interface Verifier {
  /** A Hallmark certificate id, or `<chainId>:<contract>:<tokenId>`. Throws CertificateNotFoundError. */
  verifyId(id: string, opts?: DisclosureOptions): Promise<VerificationResult>;
  /** A certificate document or exported credential someone was handed. Throws DocumentFormatError. */
  verifyFile(bytes: Uint8Array, opts?: Pick<DisclosureOptions, "disclosures">): Promise<VerificationResult>;
  /**
   * An anchored certificate from hashes alone (its document hashed by whoever holds it), with what may be shown of
   * it (`summary`, whose `validUntil` is checked). Throws DocumentFormatError.
   */
  verifyAnchoredProof(anchor: AnchoredProof, summary?: CertificateSummary): Promise<VerificationResult>;
}

/** Binds the verification to one deployment's chain, IPFS and (for id look-ups only) database. */
export function createVerifier(deps: VerifierDeps & { db?: Database }): Verifier {
  return {
    async verifyId(id, opts = {}) {
      const { reference, fromBlock, certificateId } = await resolveReference(deps.db, id);
      // The database may add the personal data it holds, never decide the verdict: the disclosures must still open
      // the commitments in the document the chain vouches for.
      let held: readonly Disclosure[] = [];
      if (deps.db) {
        const certId = certificateId ?? (await certificateIdOfToken(deps.db, reference.chainId, reference.contract, reference.tokenId));
        if (certId) held = disclosuresFor(await personalDataOf(deps.db, certId), opts.share) ?? [];
      }
      return verifyCertificate({ reference, fromBlock, disclosures: [...held, ...(opts.disclosures ?? [])] }, deps);
    },
    verifyFile(bytes, opts = {}) {
      return verifyCertificate({ document: bytes, disclosures: opts.disclosures }, deps);
    },
    verifyAnchoredProof(anchor, summary) {
      return verifyAnchoredProof(anchor, deps, summary);
    },
  };
}
