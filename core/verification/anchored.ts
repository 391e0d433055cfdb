import { Contract, getAddress, isAddress } from "ethers";
import { documentDigest, type AnchoredCertificate } from "../anchoring/envelope.ts";
import { rootFromProof } from "../anchoring/merkle.ts";
import { isHallmarkDocument, summarize } from "./certificate-document.ts";
import { call, RegistryMissingError } from "./chain-reader.ts";
import { checkIssuer } from "./checks.ts";
import { ChainUnavailableError, DocumentFormatError } from "./errors.ts";
import { fail, finish, readChain, skip } from "./results.ts";
import type { CertificateSummary, ChainFacts, Check, VerificationResult } from "./types.ts";
import type { VerifierDeps } from "./verifier-deps.ts";
import type { Disclosure } from "../metadata/personal-data.ts";

/** The anchor contract's DocumentStore-compatible interface, written out so a verifier needs no build artifacts. */
const ANCHOR_ABI = [
  "function isIssued(bytes32 document) view returns (bool)",
  "function isRevoked(bytes32 document) view returns (bool)",
  "function getIssuedBlock(bytes32 document) view returns (uint256)",
  "function verifyProof(bytes32 root, bytes32 leaf, bytes32[] proof) pure returns (bool)",
];

const HEX32 = /^0x[0-9a-fA-F]{64}$/;

/**
 * An anchored certificate is genuine when its document hashes to a leaf whose proof leads to a root the anchor
 * contract holds, neither the root (the whole batch) nor the leaf (this certificate) revoked, and the document not
 * past its own `validUntil` (the document is fixed by its hash, so its dates can be believed).
 */
export async function verifyAnchored(envelope: AnchoredCertificate, deps: VerifierDeps, disclosures: readonly Disclosure[] = []): Promise<VerificationResult> {
  const doc = envelope.document;
  if (!isHallmarkDocument(doc)) throw new DocumentFormatError("the anchored certificate does not carry a Hallmark certificate document");
  const summary = summarize(doc, disclosures);
  const { chainId, contract } = envelope.anchor;
  if (!isAddress(contract)) throw new DocumentFormatError(`the anchor contract "${contract}" is not an address`);
  const base: ChainFacts = { chainId, contract: getAddress(contract) };

  const digest = documentDigest(doc);
  const named = doc.certificate.collection;
  if (named.chainId !== chainId || !isAddress(named.contract) || getAddress(named.contract) !== base.contract) {
    const integrity = fail("integrity", `the document names registry ${named.contract} on chain ${named.chainId}, but is anchored in ${contract} on chain ${chainId}`);
    return finish([integrity, skip("status", "offline: the chain was not consulted, so the status is unknown"), skip("issuer", "offline")], summary, { ...base, digest });
  }
  return verifyAnchoredProof({ ...envelope.anchor, digest }, deps, summary);
}

/** What a check of an anchored certificate needs besides its document: the digest (the leaf), the root and the proof. */
export interface AnchoredProof {
  chainId: number;
  contract: string;
  /** 0x-hex sha256 of the canonical document, computed by whoever holds the document. */
  digest: string;
  root: string;
  proof: string[];
}

/**
 * The chain's part of an anchored certificate's check, from hashes alone: the digest's proof leads to the root, the
 * anchor holds the root, and neither the root nor the digest is revoked. The verify page's upload sends only these,
 * having hashed the document in the browser, so no personal field leaves it; the document's own expiry is then
 * checked there (`summary` carries it when the document is at hand).
 */
export async function verifyAnchoredProof(anchor: AnchoredProof, deps: VerifierDeps, given?: CertificateSummary): Promise<VerificationResult> {
  const summary = given ?? { attributes: [] };
  const { chainId, contract } = anchor;
  if (!isAddress(contract)) throw new DocumentFormatError(`the anchor contract "${contract}" is not an address`);
  if (!HEX32.test(anchor.digest) || !HEX32.test(anchor.root) || !Array.isArray(anchor.proof) || !anchor.proof.every((p) => typeof p === "string" && HEX32.test(p))) {
    throw new DocumentFormatError("digest, root and every proof element must be 0x and 64 hex digits");
  }
  const base: ChainFacts = { chainId, contract: getAddress(contract) };
  const digest = anchor.digest.toLowerCase();
  const root = anchor.root.toLowerCase();
  const reached = rootFromProof(digest, anchor.proof);
  let proofCheck: Check | undefined;
  if (reached !== root) {
    proofCheck = fail("integrity", `the document hashes to ${digest}, and with its proof leads to ${reached}, not to the anchored root ${root}: the document or its proof was altered`);
  }
  if (proofCheck || deps.offline) {
    const integrity = proofCheck ?? skip("integrity", `offline: the document and its proof lead to root ${root}, but only the chain can say that root was anchored`);
    return finish([integrity, skip("status", "offline: the chain was not consulted, so the status is unknown"), skip("issuer", "offline")], summary, { ...base, digest });
  }

  const read = await readChain(() => readAnchor(deps, chainId, base.contract, root, digest, anchor.proof));
  if ("unavailable" in read) return finish([skip("integrity", read.unavailable), skip("status", read.unavailable), skip("issuer", read.unavailable)], summary, { ...base, digest });
  if ("missing" in read) return finish([skip("integrity", read.missing), fail("status", read.missing), skip("issuer", read.missing)], summary, { ...base, digest });
  const reading = read.value;
  if (!reading.issued) {
    const reason = `the root ${root} was never anchored in ${base.contract} on chain ${chainId}`;
    return finish([fail("integrity", reason), fail("status", reason), skip("issuer", "nothing was anchored")], summary, { ...base, digest });
  }
  const facts: ChainFacts = {
    ...base,
    digest,
    issuedAt: reading.issuedAt,
    blockNumber: reading.blockNumber,
    validUntil: summary.validUntil,
    status: reading.batchRevoked || reading.revoked ? "REVOKED" : summary.validUntil && Date.parse(summary.validUntil) < Date.now() ? "EXPIRED" : "VALID",
  };
  const integrity: Check = reading.proofAccepted
    ? { name: "integrity", result: "valid", reason: `the document hashes to ${digest}, and its Merkle proof leads to the root anchored in block ${reading.blockNumber}; the anchor contract's verifyProof agrees` }
    : fail("integrity", `the anchor contract's verifyProof rejects the proof for ${digest}`);
  return finish([integrity, anchoredStatus(facts, reading, given !== undefined), await checkIssuer(deps.issuers, facts, deps.identityProofs)], summary, facts);
}

function anchoredStatus(facts: ChainFacts, anchor: AnchorReading, expiryKnown: boolean): Check {
  if (anchor.batchRevoked) return fail("status", `the whole batch (root ${anchor.root}) was revoked by its issuer`);
  if (anchor.revoked) return fail("status", "revoked by its issuer");
  if (facts.status === "EXPIRED") return fail("status", `expired on ${facts.validUntil}`);
  // Checked from hashes alone, the document's own expiry is for whoever holds it to read (the verify page does).
  const until = !expiryKnown ? "; the document's own expiry is checked where the document is" : `, valid${facts.validUntil ? ` until ${facts.validUntil}` : ", with no expiry"}`;
  return { name: "status", result: "valid", reason: `anchored ${facts.issuedAt}, not revoked${until}` };
}

interface AnchorReading {
  root: string;
  issued: boolean;
  batchRevoked: boolean;
  revoked: boolean;
  proofAccepted: boolean;
  blockNumber?: number;
  issuedAt?: string;
}

async function readAnchor(deps: VerifierDeps, chainId: number, address: string, root: string, digest: string, proof: string[]): Promise<AnchorReading> {
  const provider = deps.chains(chainId);
  if (!provider) throw new ChainUnavailableError(`no JSON-RPC endpoint is configured for chain ${chainId}`);
  if ((await call(() => provider.getCode(address))) === "0x") throw new RegistryMissingError(`there is no contract at ${address} on chain ${chainId}`);
  const anchor = new Contract(address, ANCHOR_ABI, provider);
  const [issued, batchRevoked, revoked, proofAccepted] = (await call(() =>
    Promise.all([anchor.isIssued(root), anchor.isRevoked(root), anchor.isRevoked(digest), anchor.verifyProof(root, digest, proof)]),
  )) as [boolean, boolean, boolean, boolean];
  if (!issued) return { root, issued, batchRevoked, revoked, proofAccepted };
  const blockNumber = Number(await call(() => anchor.getIssuedBlock(root)));
  const block = await call(() => provider.getBlock(blockNumber));
  return {
    root,
    issued,
    batchRevoked,
    revoked,
    proofAccepted,
    blockNumber,
    issuedAt: block ? new Date(block.timestamp * 1000).toISOString() : undefined,
  };
}
