import { createHash } from "node:crypto";
import { cidDigestMatches } from "../ipfs/index.ts";
import type { IssuerAnswer, IssuerRegistry } from "./issuer-registry-reader.ts";
import { day, type IdentityProofAnswer, type IdentityProofs } from "../identity/domain-proof.ts";
import type { ChainFacts, Check } from "./types.ts";

const IPFS_URI = /^ipfs:\/\/([A-Za-z0-9]+)$/;

/** The CID in an `ipfs://<cid>` token URI. */
export function cidOf(metadataUri: string | undefined): string | undefined {
  return metadataUri ? IPFS_URI.exec(metadataUri)?.[1] : undefined;
}

/**
 * The document bytes are the ones the token names (they hash to the CID in its token URI) and the ones the issuer
 * anchored (their sha256 is the digest in the on-chain record). Both are recomputed here from the bytes.
 */
export async function checkIntegrity(bytes: Uint8Array, facts: ChainFacts, origin: string): Promise<Check> {
  const cid = cidOf(facts.metadataUri);
  if (!cid) return { name: "integrity", result: "invalid", reason: `the token's metadata URI "${facts.metadataUri ?? ""}" is not an ipfs:// CID` };
  let matches: boolean;
  try {
    matches = await cidDigestMatches(cid, bytes);
  } catch (err) {
    return { name: "integrity", result: "skipped", reason: `the CID ${cid} cannot be recomputed here: ${(err as Error).message}` };
  }
  if (!matches) return { name: "integrity", result: "invalid", reason: `${origin} does not hash to ${cid}, the CID the token names: it was altered` };
  const digest = `0x${createHash("sha256").update(bytes).digest("hex")}`;
  if (digest !== facts.digest?.toLowerCase()) {
    return { name: "integrity", result: "invalid", reason: `${origin} hashes to ${digest}, but the digest recorded on chain is ${facts.digest}` };
  }
  return { name: "integrity", result: "valid", reason: `${origin} hashes to ${cid} and to the digest recorded on chain` };
}

/** What the registry's status() says, in words; anything but VALID fails. */
export function checkStatus(facts: ChainFacts): Check {
  const until = facts.validUntil ? ` until ${facts.validUntil}` : ", with no expiry";
  switch (facts.status) {
    case "VALID":
      return { name: "status", result: "valid", reason: `issued${facts.issuedAt ? ` ${facts.issuedAt}` : ""}, not revoked, valid${until}` };
    case "REVOKED":
      return { name: "status", result: "invalid", reason: `revoked by its issuer (reason: ${facts.revocationReason ?? "unspecified"})` };
    case "EXPIRED":
      return { name: "status", result: "invalid", reason: `expired on ${facts.validUntil ?? "its expiry date"}` };
    case "SUPERSEDED":
      return { name: "status", result: "invalid", reason: "superseded by a newer certificate" };
    case "SUSPENDED":
      return { name: "status", result: "invalid", reason: "suspended by its issuer" };
    case "UNKNOWN":
      return { name: "status", result: "invalid", reason: `token ${facts.tokenId} was never issued by the registry ${facts.contract}` };
    default:
      return { name: "status", result: "skipped", reason: "the chain was not read" };
  }
}

/** Issuer identity is only as good as the registry that vouches for it; without one, say so rather than guess. */
export async function checkIssuer(registry: IssuerRegistry | undefined, facts: ChainFacts, proofs?: IdentityProofs): Promise<Check> {
  if (!registry) return { name: "issuer", result: "skipped", reason: "no issuer registry configured" };
  if (!facts.issuedAt) return { name: "issuer", result: "skipped", reason: "the issue date could not be read from the chain" };
  try {
    const answer = await registry.wasActive({ chainId: facts.chainId, contract: facts.contract, at: new Date(facts.issuedAt) });
    if (!answer.active || !answer.entry) return { name: "issuer", result: answer.active ? "valid" : "invalid", reason: answer.reason };
    return { name: "issuer", result: "valid", reason: await withIdentityProof(answer, answer.entry, proofs) };
  } catch (err) {
    return { name: "issuer", result: "skipped", reason: `the issuer registry could not be read: ${(err as Error).message}` };
  }
}

/**
 * The issuer check's words with the identity's proof: "issued by "Example University" (example.edu, proven by DNS
 * on 2026-12-06), registered and active…", or the plain reason followed by why the identity is not proven. The
 * proof never changes the result: the registry vouches for the institution, the proof only for its name.
 */
async function withIdentityProof(answer: IssuerAnswer, entry: NonNullable<IssuerAnswer["entry"]>, proofs: IdentityProofs | undefined): Promise<string> {
  let proof: IdentityProofAnswer;
  try {
    proof = proofs ? await proofs.proofOf(entry) : { proven: false, reason: "this verifier consults no identity proofs" };
  } catch (err) {
    proof = { proven: false, reason: `its proof could not be read: ${(err as Error).message}` };
  }
  if (!proof.proven) return `${answer.reason}; its identity ${entry.identity} is not proven: ${proof.reason}`;
  return `issued by "${entry.name}" (${proof.domain}, proven by DNS on ${day(proof.checkedAt)}), registered and active in ${answer.where} at issue time (${answer.when})`;
}
