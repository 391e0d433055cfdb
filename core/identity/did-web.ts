import { didUrlToHttpsUrl } from "@digitalbazaar/did-method-web";

/**
 * did:web names (https://w3c-ccg.github.io/did-method-web/): `did:web:<host>[:<path>…]`, the host's port encoded
 * `%3A`, resolving to `https://<host>/<path…>/did.json`, or `https://<host>/.well-known/did.json` without a path.
 */

/** The DID Hallmark hosts for an institution: `did:web:<public host>:institutions:<slug>`. */
export function platformDid(publicOrigin: string, slug: string): string {
  return `did:web:${encodeURIComponent(new URL(publicOrigin).host)}:institutions:${slug}`;
}

/** The path Hallmark serves a platform DID's document at. */
export function platformDidPath(slug: string): string {
  return `/institutions/${slug}/did.json`;
}

/** A did:web on a domain of the institution's own, its document at `https://<domain>/.well-known/did.json`. */
export function isDomainDid(did: string): boolean {
  return /^did:web:[^:]+$/.test(did);
}

/** The https URL a did:web's document is fetched from (the library's reading of the spec). */
export function didWebUrl(did: string): URL {
  return new URL(didUrlToHttpsUrl(did.split("#")[0]!).baseUrl);
}

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * The DNS domain an issuer registry identity names, if any: the identity itself when it is a domain, or the host of
 * a did:web on its own domain. Other DIDs (did:key, a did:web under a path) name none that can be proven.
 */
export function domainOfIdentity(identity: string | null | undefined): string | undefined {
  if (!identity) return undefined;
  const v = identity.trim().toLowerCase();
  if (DOMAIN.test(v)) return v;
  if (isDomainDid(v)) {
    const host = decodeURIComponent(v.slice("did:web:".length));
    return DOMAIN.test(host) ? host : undefined;
  }
  return undefined;
}
