import { Router, type Request, type Response } from "express";
import type { SealingKeyring } from "../../core/custody/sealing-keys.ts";
import type { Database } from "../../core/db/index.ts";
import { isStatusPurpose, StatusListNotFoundError, StatusListPublisher, STATUS_PURPOSES } from "../../core/status-lists/index.ts";
import { sendError } from "../http-errors.ts";
import { publicBase } from "./verify-routes.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Verifiers, browser wallets among them, fetch lists from anywhere; nothing in them is private. */
const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
  "Access-Control-Allow-Headers": "Accept, If-None-Match",
  "Access-Control-Expose-Headers": "ETag",
  "Cross-Origin-Resource-Policy": "cross-origin",
};

/** Whether the client's `If-None-Match` names this ETag (a list of them, weak ones, or `*`). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}

/**
 * `GET /status-lists/<collectionId>/<revocation|suspension>`: the collection's W3C Bitstring Status List credential
 * for that purpose, signed by the institution's key. An ANCHORED collection has a revocation list only (its
 * suspension list is a 404 saying so). `ETag` and `If-None-Match` (304) let verifiers revalidate
 * cheaply; `Cache-Control` says as long as the list's `ttl`.
 */
export function statusListRoutes(opts: { db: Database; keyring: SealingKeyring; publicUrl?: string; publicOrigin?: () => string | undefined }): Router {
  const router = Router();
  const publisher = new StatusListPublisher(opts);

  router.options("/status-lists/:collectionId/:purpose", (_req: Request, res: Response) => {
    res.set({ ...CORS, "Access-Control-Max-Age": "86400" }).status(204).end();
  });

  router.get("/status-lists/:collectionId/:purpose", async (req: Request, res: Response) => {
    res.set(CORS);
    const collectionId = String(req.params.collectionId);
    const purpose = String(req.params.purpose);
    if (!UUID.test(collectionId)) {
      sendError(req, res, 400, `"${collectionId}" is not a collection id`, "BAD_USER_INPUT");
      return;
    }
    if (!isStatusPurpose(purpose)) {
      sendError(req, res, 404, `no "${purpose}" list: the lists are ${STATUS_PURPOSES.join(" and ")}`, "NOT_FOUND");
      return;
    }
    try {
      const base = publicBase(req, opts.publicUrl);
      const list = await publisher.get(collectionId.toLowerCase(), purpose, base, opts.publicOrigin?.() ?? base);
      res.set({
        ETag: list.etag,
        "Cache-Control": `public, max-age=${Math.floor(list.ttlMs / 1000)}`,
      });
      if (matches(req.get("if-none-match"), list.etag)) {
        res.status(304).end();
        return;
      }
      res.type("application/vc").send(list.body);
    } catch (err) {
      if (!(err instanceof StatusListNotFoundError)) throw err;
      sendError(req, res, 404, err.message, "NOT_FOUND");
    }
  });
  return router;
}
