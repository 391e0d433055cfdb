import { Router, type Request, type Response } from "express";
import { CredentialExportError, exportCredential, type ExportDeps } from "../../core/credentials/index.ts";
import { publicBase } from "./verify-routes.ts";

const STATUS = { NOT_FOUND: 404, NOT_VALID: 409, UNAVAILABLE: 503 } as const;

/** `GET /certificates/<id>/credential`: the certificate as a signed Open Badges 3.0 / W3C VC 2.0 credential. */
export function credentialRoutes(opts: ExportDeps & { publicUrl?: string }): Router {
  const router = Router();
  router.get("/certificates/:id/credential", async (req: Request, res: Response) => {
    const id = String(req.params.id);
    try {
      const credential = await exportCredential(opts, id, { verifyUrl: `${publicBase(req, opts.publicUrl)}/verify/${encodeURIComponent(id)}` });
      res.set({
        "Content-Type": "application/vc; charset=utf-8",
        "Content-Disposition": `attachment; filename="certificate-${id}.credential.json"`,
        // Signed afresh on each request (proofs carry their creation time); status lives on chain anyway.
        "Cache-Control": "no-store",
      });
      res.send(JSON.stringify(credential, null, 2));
    } catch (err) {
      if (!(err instanceof CredentialExportError)) throw err;
      res.status(STATUS[err.code]).json({ error: { code: err.code, message: err.message } });
    }
  });
  return router;
}
