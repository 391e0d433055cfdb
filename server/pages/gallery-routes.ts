import { Router, type Request, type Response } from "express";
import { getAddress, MaxUint256 } from "ethers";
import {
  EditionMetadataUnusableError,
  EditionNotFoundError,
  ChainReadError,
  loadEditionGallery,
  type EditionGallery,
} from "../../core/editions/index.ts";
import type { IpfsStore } from "../../core/ipfs/index.ts";
import type { ChainProviders } from "../../core/verification/index.ts";
import { renderGalleryPage, renderGalleryProblemPage } from "./gallery-page.ts";
import { buildIiifManifest, IIIF_MANIFEST_CONTENT_TYPE } from "./iiif-manifest.ts";
import { publicBase } from "./verify-routes.ts";

/** Viewers (Mirador, Universal Viewer) load manifests from other origins; nothing here is private. */
const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
  "Access-Control-Allow-Headers": "Accept",
  "Cross-Origin-Resource-Policy": "cross-origin",
};

type Parsed = { contract: string; editionId: bigint } | { error: string };

/** The contract address (any case; a mixed-case one must carry a valid checksum) and a decimal edition id. */
function parseParams(req: Request): Parsed {
  const rawContract = String(req.params.contract);
  const rawId = String(req.params.editionId);
  if (!/^0x[0-9a-fA-F]{40}$/.test(rawContract)) return { error: `"${rawContract}" is not a contract address (0x and 40 hex digits)` };
  let contract: string;
  try {
    contract = getAddress(rawContract);
  } catch {
    return { error: `"${rawContract}" has an invalid address checksum` };
  }
  if (!/^\d{1,78}$/.test(rawId) || BigInt(rawId) > MaxUint256) return { error: `"${rawId}" is not an edition id (a whole number)` };
  return { contract, editionId: BigInt(rawId) };
}

/**
 * `GET /gallery/<contract>/<editionId>`: an edition's museum gallery page.
 * `GET /iiif/<contract>/<editionId>/manifest.json`: its IIIF Presentation 3 manifest.
 * Both are read from the configured chain and the platform's IPFS store, never from Hallmark's database. Addresses
 * and ids in any other spelling are redirected to the checksummed address and plain decimal id, so a manifest's `id`
 * is always the one URL it is served at.
 */
export function galleryRoutes(opts: { chains: ChainProviders; chainId: number; ipfs: IpfsStore; publicUrl?: string }): Router {
  const router = Router();

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
      res.status(400).type("html").send(renderGalleryProblemPage({ title: "Not a gallery address", message: `${parsed.error}. A gallery's address is /gallery/<contract address>/<edition id>.` }));
      return;
    }
    if (!canonical(req, parsed)) {
      res.redirect(301, `/gallery/${parsed.contract}/${parsed.editionId}`);
      return;
    }
    try {
      const gallery = await load(parsed);
      const manifestUrl = `${publicBase(req, opts.publicUrl)}/iiif/${parsed.contract}/${parsed.editionId}/manifest.json`;
      res.type("html").send(renderGalleryPage(gallery, { manifestUrl, chainId: opts.chainId }));
    } catch (err) {
      const problem = describe(err, parsed);
      res.status(problem.status).type("html").send(renderGalleryProblemPage(problem));
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
      const gallery = await load(parsed);
      const base = publicBase(req, opts.publicUrl);
      const path = `/${parsed.contract}/${parsed.editionId}`;
      const manifest = buildIiifManifest(gallery, { base, manifestUrl: `${base}/iiif${path}/manifest.json`, galleryUrl: `${base}/gallery${path}` });
      // The metadata and images are immutable; only a new deployment under the same base URL would change the manifest.
      res.set({ "Content-Type": IIIF_MANIFEST_CONTENT_TYPE, "Cache-Control": "public, max-age=300" });
      // A Buffer, so express sends the content type exactly as the specification spells it (no charset appended).
      res.send(Buffer.from(JSON.stringify(manifest, null, 2)));
    } catch (err) {
      const problem = describe(err, parsed);
      res.status(problem.status).json({ error: { code: problem.code, message: problem.message, problems: problem.problems } });
    }
  });

  return router;
}

function describe(
  err: unknown,
  parsed: { contract: string; editionId: bigint },
): { status: number; code: string; title: string; message: string; problems?: string[] } {
  if (err instanceof EditionNotFoundError) {
    return { status: 404, code: "NOT_FOUND", title: "No such edition", message: `There is no edition ${parsed.editionId} at ${parsed.contract} on this network.` };
  }
  if (err instanceof EditionMetadataUnusableError) {
    return {
      status: 502,
      code: "METADATA_UNUSABLE",
      title: "This edition cannot be shown",
      message: "The edition exists on the blockchain, but the metadata it names could not be used:",
      problems: err.problems,
    };
  }
  if (err instanceof ChainReadError) {
    return { status: 503, code: "UNAVAILABLE", title: "Try again later", message: `The edition could not be read right now: ${err.message}.` };
  }
  throw err;
}
