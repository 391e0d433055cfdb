import { createHash } from "node:crypto";
import { canonicalJson } from "../metadata/canonical-json.ts";
import type { BitstringStatusListEntry } from "../status-lists/purposes.ts";
import { buildMerkleTree } from "./merkle.ts";

export const ANCHORED_CERTIFICATE_SCHEMA = "https://hallmark.dev/schemas/anchored-certificate/v1";

/**
 * What the holder of an anchored certificate keeps: the certificate document, and the Merkle proof that its digest
 * is one leaf of a root anchored on chain. The document cannot carry its own proof (the proof depends on its hash),
 * so both travel in this envelope, as OpenAttestation's wrapped documents do.
 */
export interface AnchoredCertificate {
  $schema: typeof ANCHORED_CERTIFICATE_SCHEMA;
  /** A Hallmark certificate document whose `certificate.collection` names the anchor contract. */
  document: Record<string, unknown>;
  anchor: {
    chainId: number;
    /** The CertificateAnchor (DocumentStore-compatible) contract holding the root. */
    contract: string;
    /** 0x-hex sha256 of the canonical document: the leaf, and the id the anchor contract revokes. */
    digest: string;
    root: string;
    proof: string[];
  };
  /**
   * The certificate's bit in its collection's W3C Bitstring Status List (`statusPurpose` revocation), for wallets and
   * verifiers that read status lists. Informative only: it sits beside the document, outside the digest, so it is not
   * covered by the anchor, and the anchor contract stays the authority on revocation (verification reads
   * `isRevoked` from the chain, never this list). Files of batches Hallmark did not record (written by
   * `npm run anchor` alone) have none, and none is needed to verify a file.
   */
  credentialStatus?: BitstringStatusListEntry;
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/;

export function isAnchoredCertificate(value: unknown): value is AnchoredCertificate {
  const v = value as AnchoredCertificate | undefined;
  return (
    !!v &&
    typeof v === "object" &&
    v.$schema === ANCHORED_CERTIFICATE_SCHEMA &&
    !!v.document &&
    typeof v.document === "object" &&
    typeof v.anchor?.chainId === "number" &&
    typeof v.anchor.contract === "string" &&
    typeof v.anchor.digest === "string" &&
    typeof v.anchor.root === "string" &&
    HEX32.test(v.anchor.root) &&
    Array.isArray(v.anchor.proof) &&
    v.anchor.proof.every((p) => typeof p === "string" && HEX32.test(p))
  );
}

/** sha256 of the canonical JSON of a document, 0x-hex: the leaf it is anchored under. */
export function documentDigest(document: unknown): string {
  return `0x${createHash("sha256").update(canonicalJson(document)).digest("hex")}`;
}

/**
 * Wraps a batch of certificate documents for anchoring: one root to put on chain with the anchor contract's
 * `issue(root)`, and for each document the envelope its holder keeps. Digests must be distinct, since the
 * contract revokes one certificate by its digest.
 */
export function wrapForAnchoring(
  documents: readonly Record<string, unknown>[],
  anchor: { chainId: number; contract: string },
): { root: string; certificates: AnchoredCertificate[] } {
  const digests = documents.map(documentDigest);
  if (new Set(digests).size !== digests.length) throw new Error("two documents in the batch are identical; each certificate must differ (e.g. by its request id)");
  const tree = buildMerkleTree(digests);
  return {
    root: tree.root,
    certificates: documents.map((document, i) => ({
      $schema: ANCHORED_CERTIFICATE_SCHEMA,
      document,
      anchor: { chainId: anchor.chainId, contract: anchor.contract, digest: digests[i]!, root: tree.root, proof: tree.proof(i) },
    })),
  };
}

/** The `credentialStatus` of an anchored certificate's file: its bit in the collection's revocation list. */
export function anchoredStatusEntry(statusListCredential: string, index: number): BitstringStatusListEntry {
  return { id: `${statusListCredential}#${index}`, type: "BitstringStatusListEntry", statusPurpose: "revocation", statusListIndex: String(index), statusListCredential };
}
