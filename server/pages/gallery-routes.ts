import { Router, type Request, type Response } from "express";
import { getAddress, MaxUint256 } from "ethers";
import {
  EditionMetadataUnusableError,
  EditionNotFoundError,
  ChainReadError,
  loadEditionGallery,
  type EditionGallery,
} from "../../core/editions/index.ts";
import { listEditionsFromChain } from "../../core/editions/index.ts";
import { buildLinkedArtObject, LINKED_ART_CONTENT_TYPE, type IssuingMuseum } from "../../core/editions/linked-art.ts";
import type { IdentityProofs } from "../../core/identity/domain-proof.ts";
import type { IpfsStore } from "../../core/ipfs/index.ts";
import { contractIssuer, type ChainProviders, type ContractIssuer, type IssuerRegistry } from "../../core/verification/index.ts";
import { galleryIssuerBlock } from "./gallery-issuer.ts";
import { renderGalleryPage, renderGalleryProblemPage } from "./gallery-page.ts";
import { buildIiifCollection } from "./iiif-collection.ts";
import { buildIiifManifest, IIIF_MANIFEST_CONTENT_TYPE } from "./iiif-manifest.ts";
import { translator, type Translator } from "../../core/i18n/translator.ts";
import { readerOf } from "./reader.ts";
import { publicBase } from "./verify-routes.ts";

/** Viewers (Mirador, Universal Viewer) load manifests from other origins; nothing here is private. */
const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
  "Access-Control-Allow-Headers": "Accept",
  "Cross-Origin-Resource-Policy": "cross-origin",
};

type Parsed = { contract: string; editionId: bigint } | { error: string };

/** The contract address (any case; a mixed-case one must carry a valid checksum). */
function parseContract(rawContract: string): { contract: string } | { error: string } {
  if (!/^0x[0-9a-fA-F]{40}$/.test(rawContract)) return { error: `"${rawContract}" is not a contract address (0x and 40 hex digits)` };
  try {
    return { contract: getAddress(rawContract) };
  } catch {
    return { error: `"${rawContract}" has an invalid address checksum` };
  }
}

/** The museum a manifest or a Linked Art object names: only an active registered institution. */
function museumOf(issuer: ContractIssuer): (IssuingMuseum & { homepage?: string }) | undefined {
  if (issuer.kind !== "REGISTERED" || !issuer.active) return undefined;
  return issuer.proof.proven ? { name: issuer.name, domain: issuer.proof.domain, homepage: `https://${issuer.proof.domain}/` } : { name: issuer.name };
}

/** The contract address (any case; a mixed-case one must carry a valid checksum) and a decimal edition id. */
function parseParams(req: Request): Parsed {
  const rawId = String(req.params.editionId);
  const parsedContract = parseContract(String(req.params.contract));
  if ("error" in parsedContract) return parsedContract;
  const { contract } = parsedContract;
  if (!/^\d{1,78}$/.test(rawId) || BigInt(rawId) > MaxUint256) return { error: `"${rawId}" is not an edition id (a whole number)` };
  return { contract, editionId: BigInt(rawId) };
}

/**
 * `GET /gallery/<contract>/<editionId>`: an edition's museum gallery page.
 * `GET /iiif/<contract>/<editionId>/manifest.json`: its IIIF Presentation 3 manifest.
 * `GET /gallery/<contract>/<editionId>/linked-art.json`: the object in Linked Art.
 * `GET /iiif/<contract>/collection.json`: every edition of the contract, a IIIF Collection.
 * Each names the museum the issuer registry binds the contract to, and says so when none.
 * Both are read from the configured chain and the platform's IPFS store, never from Hallmark's database. Addresses
 * and ids in any other spelling are redirected to the checksummed address and plain decimal id, so a manifest's `id`
 * is always the one URL it is served at.
 */
export function galleryRoutes(opts: {
  chains: ChainProviders;
  chainId: number;
  ipfs: IpfsStore;
  publicUrl?: string;
  /** The platform's issuer registry, which names the museum behind a contract. */
  issuers?: IssuerRegistry;
  identityProofs?: IdentityProofs;
}): Router {
  const router = Router();
  const issuerOf = (contract: string) => contractIssuer(opts, { chainId: opts.chainId, contract });
  const urls = (req: Request, parsed: { contract: string; editionId: bigint }) => {
    const base = publicBase(req, opts.publicUrl);
    const path = `/${parsed.contract}/${parsed.editionId}`;
    return {
      base,
      galleryUrl: `${base}/gallery${path}`,
      manifestUrl: `${base}/iiif${path}/manifest.json`,
      linkedArtUrl: `${base}/gallery${path}/linked-art.json`,
      collectionUrl: `${base}/iiif/${parsed.contract}/collection.json`,
    };
  };

  const load = (parsed: { contract: string; editionId: bigint }): Promise<EditionGallery> => {
    const provider = opts.chains(opts.chainId);
    if (!provider) throw new ChainReadError("no JSON-RPC endpoint is configured for the chain");
    return loadEditionGallery({ provider, ipfs: opts.ipfs }, parsed.contract, parsed.editionId);
  };
  const canonical = (req: Request, parsed: { contract: string; editionId: bigint }) =>
    String(req.params.contract) === parsed.contract && String(req.params.editionId) === parsed.editionId.toString();

  router.get("/gallery/:contract/:editionId", async (req: Request, res: Response) => {
    res.set("Cache-Control", "no-store");
    const parsed = parseParams(req);
    if ("error" in parsed) {
      const r = readerOf(req, res);
      res.status(400).type("html").send(
        renderGalleryProblemPage({
          title: r.t("gallery.problem.badAddress"),
          message: r.t("gallery.problem.badAddressExplain", { problem: parsed.error, path: "/gallery/<contract address>/<edition id>" }),
          reader: r,
        }),
      );
      return;
    }
    if (!canonical(req, parsed)) {
      res.redirect(301, `/gallery/${parsed.contract}/${parsed.editionId}`);
      return;
    }
    const reader = readerOf(req, res);
    try {
      const [gallery, issuer] = await Promise.all([load(parsed), issuerOf(parsed.contract)]);
      const { manifestUrl, linkedArtUrl, collectionUrl } = urls(req, parsed);
      res.type("html").send(renderGalleryPage(gallery, { manifestUrl, linkedArtUrl, collectionUrl, chainId: opts.chainId, issuer: galleryIssuerBlock(issuer, reader), reader }));
    } catch (err) {
      const problem = describe(err, parsed, reader);
      res.status(problem.status).type("html").send(renderGalleryProblemPage({ ...problem, reader }));
    }
  });

  router.options("/iiif/:contract/:editionId/manifest.json", (_req: Request, res: Response) => {
    res.set({ ...CORS, "Access-Control-Max-Age": "86400" }).status(204).end();
  });

  router.get("/iiif/:contract/:editionId/manifest.json", async (req: Request, res: Response) => {
    res.set(CORS);
    const parsed = parseParams(req);
    if ("error" in parsed) {
      res.status(400).json({ error: { code: "BAD_USER_INPUT", message: parsed.error } });
      return;
    }
    if (!canonical(req, parsed)) {
      res.redirect(301, `/iiif/${parsed.contract}/${parsed.editionId}/manifest.json`);
      return;
    }
    try {
      const [gallery, issuer] = await Promise.all([load(parsed), issuerOf(parsed.contract)]);
      const museum = museumOf(issuer);
      const manifest = buildIiifManifest(gallery, { ...urls(req, parsed), ...(museum ? { museum } : {}) });
      // The metadata and images are immutable; only a new deployment under the same base URL would change the manifest.
      res.set({ "Content-Type": IIIF_MANIFEST_CONTENT_TYPE, "Cache-Control": "public, max-age=300" });
      // A Buffer, so express sends the content type exactly as the specification spells it (no charset appended).
      res.send(Buffer.from(JSON.stringify(manifest, null, 2)));
    } catch (err) {
      const problem = describe(err, parsed);
      res.status(problem.status).json({ error: { code: problem.code, message: problem.message, problems: problem.problems } });
    }
  });

  router.options(["/gallery/:contract/:editionId/linked-art.json", "/iiif/:contract/collection.json"], (_req: Request, res: Response) => {
    res.set({ ...CORS, "Access-Control-Max-Age": "86400" }).status(204).end();
  });

  // The edition in Linked Art, beside the Dublin Core record its metadata carries.
  router.get("/gallery/:contract/:editionId/linked-art.json", async (req: Request, res: Response) => {
    res.set(CORS);
    const parsed = parseParams(req);
    if ("error" in parsed) {
      res.status(400).json({ error: { code: "BAD_USER_INPUT", message: parsed.error } });
      return;
    }
    if (!canonical(req, parsed)) {
      res.redirect(301, `/gallery/${parsed.contract}/${parsed.editionId}/linked-art.json`);
      return;
    }
    try {
      const [gallery, issuer] = await Promise.all([load(parsed), issuerOf(parsed.contract)]);
      const u = urls(req, parsed);
      const object = buildLinkedArtObject(gallery, { objectUrl: u.linkedArtUrl, galleryUrl: u.galleryUrl, manifestUrl: u.manifestUrl, base: u.base }, museumOf(issuer));
      res.set({ "Content-Type": LINKED_ART_CONTENT_TYPE, "Cache-Control": "public, max-age=300" });
      res.send(Buffer.from(JSON.stringify(object, null, 2)));
    } catch (err) {
      const problem = describe(err, parsed);
      res.status(problem.status).json({ error: { code: problem.code, message: problem.message, problems: problem.problems } });
    }
  });

  // Every edition of one editions contract (one museum's), as a IIIF Collection of their manifests.
  router.get("/iiif/:contract/collection.json", async (req: Request, res: Response) => {
    res.set(CORS);
    const parsed = parseContract(String(req.params.contract));
    if ("error" in parsed) {
      res.status(400).json({ error: { code: "BAD_USER_INPUT", message: parsed.error } });
      return;
    }
    if (String(req.params.contract) !== parsed.contract) {
      res.redirect(301, `/iiif/${parsed.contract}/collection.json`);
      return;
    }
    try {
      const provider = opts.chains(opts.chainId);
      if (!provider) throw new ChainReadError("no JSON-RPC endpoint is configured for the chain");
      const [listing, issuer] = await Promise.all([listEditionsFromChain(provider, parsed.contract), issuerOf(parsed.contract)]);
      const museum = museumOf(issuer);
      const base = publicBase(req, opts.publicUrl);
      const collection = buildIiifCollection({
        collectionUrl: `${base}/iiif/${listing.contract}/collection.json`,
        label: museum?.name ?? listing.name,
        summary: museum
          ? `Editions issued by ${museum.name}${museum.domain ? ` (${museum.domain})` : ""}, registered on this platform.`
          : `Editions of the contract ${listing.contract}, which no registered institution stands behind.`,
        manifestUrl: (editionId) => `${base}/iiif/${listing.contract}/${editionId}/manifest.json`,
        editions: listing.editions,
      });
      res.set({ "Content-Type": IIIF_MANIFEST_CONTENT_TYPE, "Cache-Control": "public, max-age=60" });
      res.send(Buffer.from(JSON.stringify(collection, null, 2)));
    } catch (err) {
      if (err instanceof EditionNotFoundError) {
        res.status(404).json({ error: { code: "NOT_FOUND", message: `There is no editions contract at ${parsed.contract} on this network.` } });
        return;
      }
      if (err instanceof ChainReadError) {
        res.status(503).json({ error: { code: "UNAVAILABLE", message: `The collection could not be read right now: ${err.message}.` } });
        return;
      }
      throw err;
    }
  });

  return router;
}

/** What went wrong, in the reader's words for the page (English, the API's language, for the manifest's JSON). */
function describe(
  err: unknown,
  parsed: { contract: string; editionId: bigint },
  r: Translator = translator("en"),
): { status: number; code: string; title: string; message: string; problems?: string[] } {
  if (err instanceof EditionNotFoundError) {
    return {
      status: 404,
      code: "NOT_FOUND",
      title: r.t("gallery.problem.notFound"),
      message: r.t("gallery.problem.notFoundExplain", { editionId: parsed.editionId.toString(), contract: parsed.contract }),
    };
  }
  if (err instanceof EditionMetadataUnusableError) {
    return {
      status: 502,
      code: "METADATA_UNUSABLE",
      title: r.t("gallery.problem.unusable"),
      message: r.t("gallery.problem.unusableExplain"),
      problems: err.problems,
    };
  }
  if (err instanceof ChainReadError) {
    return { status: 503, code: "UNAVAILABLE", title: r.t("gallery.problem.unavailable"), message: r.t("gallery.problem.unavailableExplain", { problem: err.message }) };
  }
  throw err;
}
