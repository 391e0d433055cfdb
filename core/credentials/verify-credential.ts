import { statesContent } from "../i18n/language-map.ts";
import { createHash } from "node:crypto";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import * as vc from "@digitalbazaar/vc";
import { getAddress } from "ethers";
import { cidDigestMatches } from "../ipfs/index.ts";
import { canonicalBytes, isHallmarkDocument, type HallmarkDocument } from "../verification/certificate-document.ts";
import type { Check } from "../verification/types.ts";
import type { CredentialVerifier, OpenedCredential } from "../verification/verifier-deps.ts";
import { CREDENTIALS_V2 } from "./context.ts";
import { opens } from "./open-badge.ts";
import { isDisclosure, RECIPIENT_NAME_PATH, type Disclosure } from "../metadata/personal-data.ts";
import { ContextNotBundledError, createDocumentLoader, documentLoader, type DocumentLoader } from "./document-loader.ts";
import type { DidResolver } from "../identity/did-resolver.ts";

interface ChainRecord {
  chainId?: number;
  registry?: string;
  tokenId?: string;
}

interface HallmarkCredential {
  "@context": unknown[];
  type: string[];
  /** A string, or JSON-LD language-tagged strings for a title written in several languages. */
  name?: unknown;
  validFrom?: string;
  issuer?: { id?: string; name?: string } | string;
  credentialSubject?: { id?: string; identifier?: { identityType?: string; identityHash?: string }[] };
  chainRecord?: ChainRecord;
  credentialStatus?: unknown;
  relatedResource?: { id?: string; digestSRI?: string }[];
  certificateDocument?: unknown;
  personalDisclosures?: unknown;
  proof?: unknown;
}

/**
 * Verifies exported credentials: contexts are bundled, did:key documents derive from the key, and a did:web
 * issuer's document comes from `resolveDid` (none given: such a credential's signature is reported as skipped).
 */
export function credentialVerifierWith(resolveDid?: DidResolver): CredentialVerifier {
  const loader = resolveDid ? createDocumentLoader(resolveDid) : documentLoader;
  return {
    recognizes: credentialVerifier.recognizes,
    async open(json) {
      return openWith(json, loader);
    },
  };
}

/** Verifies exported credentials with no network: did:key issuers only (a did:web one's signature is skipped). */
export const credentialVerifier: CredentialVerifier = {
  recognizes(json) {
    const c = json as HallmarkCredential | undefined;
    return !!c && Array.isArray(c["@context"]) && c["@context"][0] === CREDENTIALS_V2 && Array.isArray(c.type) && c.type.includes("VerifiableCredential");
  },

  open(json): Promise<OpenedCredential> {
    return openWith(json, documentLoader);
  },
};

async function openWith(json: unknown, loader: DocumentLoader): Promise<OpenedCredential> {
  const credential = json as HallmarkCredential;
  const signature = await checkSignature(credential, loader);
  const document = isHallmarkDocument(credential.certificateDocument) ? credential.certificateDocument : undefined;
  const issuer = typeof credential.issuer === "string" ? credential.issuer : credential.issuer?.id;
  if (!document) return { signature, issuer, consistency: { name: "integrity", result: "invalid", reason: "the credential carries no Hallmark certificate document" } };
  const disclosures = Array.isArray(credential.personalDisclosures) ? credential.personalDisclosures.filter(isDisclosure) : [];
  return { signature, issuer, consistency: await checkConsistency(credential, document, disclosures), document, disclosures };
}

async function checkSignature(credential: HallmarkCredential, documentLoader: DocumentLoader): Promise<Check> {
  if (!credential.proof) return { name: "signature", result: "invalid", reason: "the credential carries no proof" };
  try {
    const result = await vc.verifyCredential({
      credential,
      suite: new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }),
      documentLoader,
      // Status and validity in time are judged from the chain (the status check), not from this machine's clock.
      checkStatus: async () => ({ verified: true }),
      now: credential.validFrom,
    });
    if (result.verified) return { name: "signature", result: "valid", reason: `the proof (eddsa-rdfc-2022) holds for the key of ${issuerId(credential)}` };
    const why = result.error?.errors?.[0]?.message ?? result.error?.message ?? "the proof does not match the credential";
    if (/ContextNotBundled|refusing to load|could not be resolved/.test(why)) return { name: "signature", result: "skipped", reason: why };
    if (/lists no verification method/.test(why)) {
      return { name: "signature", result: "invalid", reason: `the key that signed it is not in ${issuerId(credential)}'s DID document: it was marked compromised, or never was the issuer's (${why})` };
    }
    return { name: "signature", result: "invalid", reason: `the proof does not hold: the credential was altered after signing (${why})` };
  } catch (err) {
    if (err instanceof ContextNotBundledError) return { name: "signature", result: "skipped", reason: err.message };
    return { name: "signature", result: "invalid", reason: `the credential is malformed: ${(err as Error).message}` };
  }
}

/**
 * The signed claims and the document inside must describe one certificate, and the document's bytes must be the
 * ones named by the signed digest; then the document's on-chain digest speaks for the whole credential.
 */
async function checkConsistency(credential: HallmarkCredential, document: HallmarkDocument, disclosures: Disclosure[]): Promise<Check> {
  const bytes = canonicalBytes(document);
  const related = credential.relatedResource?.find((r) => r.id?.startsWith("ipfs://"));
  const fail = (reason: string): Check => ({ name: "integrity", result: "invalid", reason });
  if (!related?.digestSRI || !related.id) return fail("the credential names no digest for its certificate document");
  if (related.digestSRI !== `sha256-${createHash("sha256").update(bytes).digest("base64")}`) return fail("the certificate document inside the credential does not match its signed digest");
  const cid = related.id.slice("ipfs://".length);
  try {
    if (!(await cidDigestMatches(cid, bytes))) return fail(`the certificate document inside the credential does not hash to ${cid}`);
  } catch (err) {
    return fail(`the credential names an unusable CID: ${(err as Error).message}`);
  }
  const c = document.certificate;
  const status = chainRecordOf(credential);
  const title = c.title ?? document.name;
  if (title === undefined ? credential.name !== undefined : !statesContent(credential.name, title)) return fail("the credential's name differs from the certificate's title");
  if (status?.chainId !== c.collection.chainId || !sameAddress(status.registry, c.collection.contract)) {
    return fail("the credential's chain record points at another registry than its certificate document names");
  }
  const holder = credential.credentialSubject?.id?.split(":").at(-1);
  if (c.recipient?.address && !sameAddress(holder, c.recipient.address)) return fail("the credential's subject is not the certificate's recipient");
  // A name the credential states must be the one the document states or commits to (opened by a carried disclosure).
  const statedName = credential.credentialSubject?.identifier?.find((i) => i.identityType === "name")?.identityHash;
  if (statedName !== undefined) {
    const committed = c.recipient?.name;
    const ok = typeof committed === "string" ? committed === statedName : disclosures.some((d) => d.path === RECIPIENT_NAME_PATH && d.value === statedName && opens(document, d));
    if (!ok) return fail("the credential names a recipient the certificate document does not commit to");
  }
  const stray = disclosures.find((d) => !opens(document, d));
  if (stray) return fail(`the credential's disclosure of ${stray.path} does not match the certificate document`);
  return { name: "integrity", result: "valid", reason: `the certificate document inside hashes to ${cid}, the digest the credential signs, and matches its claims` };
}

/** The chain facts: `chainRecord`, or in credentials exported before the status lists, a `HallmarkRegistryStatus` entry. */
function chainRecordOf(credential: HallmarkCredential): ChainRecord | undefined {
  if (credential.chainRecord) return credential.chainRecord;
  const legacy = credential.credentialStatus as (ChainRecord & { type?: string }) | undefined;
  return legacy?.type === "HallmarkRegistryStatus" ? legacy : undefined;
}

function issuerId(credential: HallmarkCredential): string {
  return (typeof credential.issuer === "string" ? credential.issuer : credential.issuer?.id) ?? "its issuer";
}

function sameAddress(a: string | undefined, b: string | undefined): boolean {
  try {
    return !!a && !!b && getAddress(a.toLowerCase()) === getAddress(b.toLowerCase());
  } catch {
    return false;
  }
}
