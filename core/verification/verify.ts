import { createHash } from "node:crypto";
import { canonicalBytes, isHallmarkDocument, parseJson, summarize, type HallmarkDocument } from "./certificate-document.ts";
import { isAnchoredCertificate } from "../anchoring/envelope.ts";
import { verifyAnchored } from "./anchored.ts";
import { readCertificate, tokenOfDocument } from "./chain-reader.ts";
import { checkIntegrity, checkIssuer, checkStatus, cidOf } from "./checks.ts";
import { DocumentFormatError } from "./errors.ts";
import { fail, finish, readChain, skip } from "./results.ts";
import type { CertificateSummary, ChainFacts, ChainReference, Check, VerificationResult } from "./types.ts";
import type { Disclosure } from "../metadata/personal-data.ts";
import type { CredentialVerifier, OpenedCredential, VerifierDeps } from "./verifier-deps.ts";

export type VerificationInput = (
  /** A token on chain; `fromBlock` only narrows the search for its issuing transaction. */
  | { reference: ChainReference; fromBlock?: number }
  /** A file someone was handed: a Hallmark certificate document, an anchored certificate or an exported credential. */
  | { document: Uint8Array }
) & {
  /** Salts and values for the document's personal commitments; each is shown only if it opens its commitment. */
  disclosures?: readonly Disclosure[];
};

/**
 * The one verification Hallmark runs, for GraphQL, the verify page and the CLI alike. It believes only the chain
 * and hashes it computes itself: Hallmark's database may at most say where on chain to look.
 */
export async function verifyCertificate(input: VerificationInput, deps: VerifierDeps): Promise<VerificationResult> {
  const disclosures = input.disclosures ?? [];
  if ("reference" in input) return verifyReference(input.reference, deps, input.fromBlock, disclosures);
  const json = parseJson(input.document, "the file");
  if (deps.credentials?.recognizes(json)) return verifyCredential(json, deps.credentials, deps, disclosures);
  if (isAnchoredCertificate(json)) return verifyAnchored(json, deps, disclosures);
  if (!isHallmarkDocument(json)) {
    throw new DocumentFormatError("the file is neither a Hallmark certificate document nor a Hallmark verifiable credential");
  }
  return verifyDocument(json, deps, [], undefined, disclosures);
}

async function verifyReference(ref: ChainReference, deps: VerifierDeps, fromBlock: number | undefined, disclosures: readonly Disclosure[]): Promise<VerificationResult> {
  const base: ChainFacts = { chainId: ref.chainId, contract: ref.contract, tokenId: ref.tokenId.toString() };
  if (deps.offline) {
    return finish([skip("integrity", "offline: the document's digest is on chain"), skip("status", "offline: the chain was not consulted"), skip("issuer", "offline")], NO_SUMMARY, base);
  }
  const read = await readChain(() => readCertificate(deps.chains, ref, { fromBlock }));
  if ("unavailable" in read) return finish([skip("integrity", read.unavailable), skip("status", read.unavailable), skip("issuer", read.unavailable)], NO_SUMMARY, base);
  if ("missing" in read) return finish([skip("integrity", read.missing), fail("status", read.missing), skip("issuer", read.missing)], NO_SUMMARY, base);
  const facts = read.value.facts;
  if (facts.status === "UNKNOWN") return finish([skip("integrity", "nothing was issued to compare with"), checkStatus(facts), skip("issuer", "nothing was issued")], NO_SUMMARY, facts);

  const cid = cidOf(facts.metadataUri);
  let summary: CertificateSummary = { attributes: [] };
  let integrity: Check;
  if (!facts.metadataUri) integrity = fail("integrity", "the registry gives no metadata URI for this token");
  else if (!cid) integrity = fail("integrity", `the token's metadata URI "${facts.metadataUri}" is not an ipfs:// CID`);
  else if (!deps.documents) integrity = skip("integrity", "no IPFS source to fetch the document from");
  else {
    const bytes = await deps.documents.fetch(cid).catch((err: Error) => err);
    if (bytes instanceof Error) integrity = skip("integrity", `the document ${cid} could not be fetched from ${deps.documents.description}: ${bytes.message}`);
    else if (!bytes) integrity = skip("integrity", `the document ${cid} is not held by ${deps.documents.description}`);
    else {
      integrity = await checkIntegrity(bytes, facts, "the document fetched from IPFS");
      // Shown even when altered, so a person sees what the forgery claims; the verdict says not to believe it.
      const json = safeParse(bytes);
      if (isHallmarkDocument(json)) summary = summarize(json, disclosures);
    }
  }
  return finish([integrity, checkStatus(facts), await checkIssuer(deps.issuers, facts, deps.identityProofs)], summary, facts);
}

/**
 * `carried` is what could be established about the document without the chain (a credential's signed digest);
 * offline it is the integrity verdict, and online a failure in it outranks the comparison with the chain.
 */
async function verifyDocument(doc: HallmarkDocument, deps: VerifierDeps, leading: Check[], carried: Check | undefined, disclosures: readonly Disclosure[]): Promise<VerificationResult> {
  const summary = summarize(doc, disclosures);
  const { chainId, contract } = doc.certificate.collection;
  const base: ChainFacts = { chainId, contract };
  if (deps.offline) {
    const integrity = carried ?? skip("integrity", "offline: a certificate document is vouched for only by the digest on chain");
    return finish([...leading, integrity, skip("status", "offline: the chain was not consulted, so the status is unknown"), skip("issuer", "offline")], summary, base);
  }
  const read = await readChain(async () => {
    // The token id is the digest of the document as issued; a corrected document leads to it through the registry.
    const digest = `0x${createHash("sha256").update(canonicalBytes(doc)).digest("hex")}`;
    const tokenId = await tokenOfDocument(deps.chains, chainId, contract, digest);
    return tokenId === undefined ? undefined : readCertificate(deps.chains, { chainId, contract, tokenId });
  });
  if ("unavailable" in read) {
    const integrity = carried ?? skip("integrity", read.unavailable);
    return finish([...leading, integrity, skip("status", read.unavailable), skip("issuer", read.unavailable)], summary, base);
  }
  if ("missing" in read) return finish([...leading, skip("integrity", read.missing), fail("status", read.missing), skip("issuer", read.missing)], summary, base);
  if (!read.value) {
    // The chain knows documents by digest only: an altered document and one never issued look alike here.
    const reason = `the registry ${contract} on chain ${chainId} holds no certificate with this document: it was altered, or never issued`;
    return finish([...leading, fail("integrity", reason), fail("status", reason), skip("issuer", "nothing was issued")], summary, base);
  }
  const facts = read.value.facts;
  const integrity = carried?.result === "invalid" ? carried : await checkIntegrity(canonicalBytes(doc), facts, "the document");
  return finish([...leading, integrity, checkStatus(facts), await checkIssuer(deps.issuers, facts, deps.identityProofs)], summary, facts);
}

async function verifyCredential(json: unknown, credentials: CredentialVerifier, deps: VerifierDeps, disclosures: readonly Disclosure[]): Promise<VerificationResult> {
  const opened = await credentials.open(json);
  if (!opened.document) {
    const why = "the credential carries no certificate document";
    return finish([opened.signature, fail("integrity", why), skip("status", why), skip("issuer", why)], { attributes: [] }, undefined);
  }
  const signature = await signedByTheIssuer(opened, opened.document, deps);
  // The signed claims, the document inside and its digest must agree before the chain is even asked.
  return verifyDocument(opened.document, deps, [signature], opened.consistency, [...(opened.disclosures ?? []), ...disclosures]);
}

/** A proof that holds speaks for the certificate only when its signer is the institution whose registry it is in. */
async function signedByTheIssuer(opened: OpenedCredential, doc: HallmarkDocument, deps: VerifierDeps): Promise<Check> {
  if (opened.signature.result !== "valid" || !deps.issuerDids) return opened.signature;
  const { chainId, contract } = doc.certificate.collection;
  const allowed = await deps.issuerDids(chainId, contract);
  if (!allowed || allowed.includes(opened.issuer ?? "")) return opened.signature;
  return fail("signature", `the proof holds for ${opened.issuer ?? "an unnamed issuer"}, but the registry ${contract} is ${allowed[0]}'s: another institution's signature says nothing of this certificate`);
}

const NO_SUMMARY: CertificateSummary = { attributes: [] };

function safeParse(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}
