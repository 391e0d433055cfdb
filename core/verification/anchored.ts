import { Contract, getAddress, isAddress } from "ethers";
import { documentDigest, type AnchoredCertificate } from "../anchoring/envelope.ts";
import { rootFromProof } from "../anchoring/merkle.ts";
import { isHallmarkDocument, summarize } from "./certificate-document.ts";
import { call, RegistryMissingError } from "./chain-reader.ts";
import { checkIssuer } from "./checks.ts";
import { ChainUnavailableError, DocumentFormatError } from "./errors.ts";
import { fail, finish, readChain, skip } from "./results.ts";
import type { ChainFacts, Check, VerificationResult } from "./types.ts";
import type { VerifierDeps } from "./verifier-deps.ts";
import type { Disclosure } from "../metadata/personal-data.ts";

/** The anchor contract's DocumentStore-compatible interface, written out so a verifier needs no build artifacts. */
const ANCHOR_ABI = [
  "function isIssued(bytes32 document) view returns (bool)",
  "function isRevoked(bytes32 document) view returns (bool)",
  "function getIssuedBlock(bytes32 document) view returns (uint256)",
  "function verifyProof(bytes32 root, bytes32 leaf, bytes32[] proof) pure returns (bool)",
];

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
  const root = envelope.anchor.root.toLowerCase();
  const reached = rootFromProof(digest, envelope.anchor.proof);
  const named = doc.certificate.collection;
  let proofCheck: Check | undefined;
  if (named.chainId !== chainId || !isAddress(named.contract) || getAddress(named.contract) !== base.contract) {
    proofCheck = fail("integrity", `the document names registry ${named.contract} on chain ${named.chainId}, but is anchored in ${contract} on chain ${chainId}`);
  } else if (reached !== root) {
    proofCheck = fail("integrity", `the document hashes to ${digest}, and with its proof leads to ${reached}, not to the anchored root ${root}: the document or its proof was altered`);
  }
  if (proofCheck || deps.offline) {
    const integrity = proofCheck ?? skip("integrity", `offline: the document and its proof lead to root ${root}, but only the chain can say that root was anchored`);
    return finish([integrity, skip("status", "offline: the chain was not consulted, so the status is unknown"), skip("issuer", "offline")], summary, { ...base, digest });
  }

  const read = await readChain(() => readAnchor(deps, chainId, base.contract, root, digest, envelope.anchor.proof));
  if ("unavailable" in read) return finish([skip("integrity", read.unavailable), skip("status", read.unavailable), skip("issuer", read.unavailable)], summary, { ...base, digest });
  if ("missing" in read) return finish([skip("integrity", read.missing), fail("status", read.missing), skip("issuer", read.missing)], summary, { ...base, digest });
  const anchor = read.value;
  if (!anchor.issued) {
    const reason = `the root ${root} was never anchored in ${base.contract} on chain ${chainId}`;
    return finish([fail("integrity", reason), fail("status", reason), skip("issuer", "nothing was anchored")], summary, { ...base, digest });
  }
  const facts: ChainFacts = {
    ...base,
    digest,
    issuedAt: anchor.issuedAt,
    blockNumber: anchor.blockNumber,
    validUntil: summary.validUntil,
    status: anchor.batchRevoked || anchor.revoked ? "REVOKED" : summary.validUntil && Date.parse(summary.validUntil) < Date.now() ? "EXPIRED" : "VALID",
  };
  const integrity: Check = anchor.proofAccepted
    ? { name: "integrity", result: "valid", reason: `the document hashes to ${digest}, and its Merkle proof leads to the root anchored in block ${anchor.blockNumber}; the anchor contract's verifyProof agrees` }
    : fail("integrity", `the anchor contract's verifyProof rejects the proof for ${digest}`);
  return finish([integrity, anchoredStatus(facts, anchor), await checkIssuer(deps.issuers, facts)], summary, facts);
}

function anchoredStatus(facts: ChainFacts, anchor: AnchorReading): Check {
  if (anchor.batchRevoked) return fail("status", `the whole batch (root ${anchor.root}) was revoked by its issuer`);
  if (anchor.revoked) return fail("status", "revoked by its issuer");
  if (facts.status === "EXPIRED") return fail("status", `expired on ${facts.validUntil}`);
  return { name: "status", result: "valid", reason: `anchored ${facts.issuedAt}, not revoked, valid${facts.validUntil ? ` until ${facts.validUntil}` : ", with no expiry"}` };
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
