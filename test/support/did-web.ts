import type { DidResolver } from "../../core/identity/did-resolver.ts";
import { fetchDidDocument } from "../../core/identity/did-resolver.ts";
import { didWebUrl } from "../../core/identity/did-web.ts";

/**
 * Resolves did:web DIDs against a Hallmark server on this machine. did:web means https, which tests do not have,
 * so the DIDs of `origin`'s host (`did:web:127.0.0.1%3A<port>:…`) are fetched from `origin` (http://127.0.0.1:<port>)
 * at the path the did:web spec gives; this mapping is made here, in tests, and nowhere else. Any other DID is refused.
 */
export function loopbackDidWebResolver(origin: string): ((did: string) => Promise<Record<string, any>>) & DidResolver & { fetched: string[] } {
  const server = new URL(origin);
  const fetched: string[] = [];
  const resolve = async (did: string) => {
    const url = didWebUrl(did);
    if (url.host !== server.host) throw new Error(`${did} is not on the test server ${server.host}`);
    const local = new URL(url.pathname, server.origin);
    fetched.push(local.href);
    return fetchDidDocument(did, local, 5_000);
  };
  return Object.assign(resolve, { fetched });
}
