import { Router, type Request, type Response } from "express";
import { eq } from "drizzle-orm";
import type { SealingKeyring } from "../../core/custody/sealing-keys.ts";
import type { Database } from "../../core/db/index.ts";
import { institutions } from "../../core/db/schema.ts";
import { parseSlug } from "../../core/operations/operator-requests.ts";
import { didDocumentOf, isPlatformHosted } from "../../core/identity/issuer-identity.ts";
import { sendError } from "../http-errors.ts";
import { publicBase } from "./verify-routes.ts";

/**
 * `GET /institutions/<slug>/did.json`: the DID document of `did:web:<public host>:institutions:<slug>`, the DID
 * Hallmark hosts for an institution (did:web resolves it to exactly this path). Public, like any did:web document.
 * An institution whose DID is on its own domain publishes its document there, so it is not answered here.
 */
export function didRoutes(opts: { db: Database; keyring: SealingKeyring; publicUrl?: string; publicOrigin?: () => string | undefined }): Router {
  const router = Router();
  router.get("/institutions/:slug/did.json", async (req: Request, res: Response) => {
    let slug: string;
    try {
      slug = parseSlug(String(req.params.slug));
    } catch (err) {
      sendError(req, res, 400, (err as Error).message, "BAD_USER_INPUT");
      return;
    }
    const [institution] = await opts.db.select().from(institutions).where(eq(institutions.slug, slug));
    if (!institution || !isPlatformHosted(institution)) {
      sendError(req, res, 404, institution ? `this institution's DID is ${institution.identity}, published on its own domain` : "no such institution", "NOT_FOUND");
      return;
    }
    const origin = opts.publicOrigin?.() ?? publicBase(req, opts.publicUrl);
    const document = await didDocumentOf(opts.db, institution, origin, opts.keyring);
    res.set({
      "Content-Type": "application/did+json; charset=utf-8",
      "Access-Control-Allow-Origin": "*",
      // A key marked compromised must leave every copy soon.
      "Cache-Control": "public, max-age=300",
    });
    res.send(JSON.stringify(document, null, 2));
  });
  return router;
}
