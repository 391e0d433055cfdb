import * as Ed25519Multikey from "@digitalbazaar/ed25519-multikey";
import { driver as didWebDriver } from "@digitalbazaar/did-method-web";
import { didWebUrl } from "./did-web.ts";

/** Answers a DID's document, or undefined when this resolver does not know it. */
export type DidResolver = (did: string) => Promise<Record<string, unknown> | undefined>;

const MULTIKEY_V1 = "https://w3id.org/security/multikey/v1";

/**
 * Resolves did:web over https with Digital Bazaar's did:web driver. `serverOrigin`: a Hallmark server the caller
 * named explicitly (the command line's `--graphql`); the documents of DIDs on that server's own host are fetched
 * from it with the scheme it was named with, so a server reached over plain http on this machine can be checked.
 */
export function webDidResolver(opts: { serverOrigin?: string; timeoutMs?: number } = {}): DidResolver {
  const driver = didWebDriver({ fetchOptions: { timeout: opts.timeoutMs ?? 10_000 } });
  driver.use({ multibaseMultikeyHeader: "z6Mk", fromMultibase: Ed25519Multikey.from });
  const server = opts.serverOrigin ? new URL(opts.serverOrigin) : undefined;
  return async (did) => {
    if (!did.startsWith("did:web:")) return undefined;
    const url = didWebUrl(did);
    if (server && url.host === server.host) return fetchDidDocument(did, new URL(url.pathname, server.origin), opts.timeoutMs);
    return (await driver.get({ did })) as Record<string, unknown>;
  };
}

/** Fetches a DID document from `url` and checks it is the document of `did`. */
export async function fetchDidDocument(did: string, url: URL, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: { accept: "application/did+json, application/json" }, signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
  if (!res.ok) throw new Error(`${url} answered ${res.status} for ${did}`);
  const document = (await res.json()) as Record<string, unknown>;
  if (document.id !== did) throw new Error(`${url} holds the document of ${String(document.id)}, not of ${did}`);
  return document;
}

/**
 * A JSON-LD document loader's answer for a DID URL: the whole document for a DID, the verification method (with
 * the Multikey context) for `did#key`. Undefined when the resolver does not know the DID.
 */
export async function loadDidUrl(url: string, resolve: DidResolver): Promise<unknown> {
  const [did, fragment] = url.split("#") as [string, string | undefined];
  const document = await resolve(did);
  if (!document) return undefined;
  if (fragment === undefined) return document;
  const methods = (document.verificationMethod ?? []) as { id?: string }[];
  const method = methods.find((m) => m.id === url);
  if (!method) throw new Error(`${did}'s DID document lists no verification method ${url}`);
  return { "@context": MULTIKEY_V1, ...method };
}
