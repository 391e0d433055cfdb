import express, { Router, type Request, type Response } from "express";
import { CertificateNotFoundError, DocumentFormatError, isCertificateId, type Verifier } from "../../core/verification/index.ts";
import { renderCertificatePrintPage } from "./certificate-print-page.ts";
import { sendError } from "../http-errors.ts";
import { isCertificateRef, MALFORMED_REF } from "./certificate-ref.ts";
import { readerOf } from "./reader.ts";
import { renderLookupPage, renderNotFoundPage, renderVerifyPage, withLang } from "./verify-page.ts";

/** The base URL people reach this server at: configured, or else the one this request came in by. */
export function publicBase(req: Request, configured: string | undefined): string {
  return (configured ?? `${req.protocol}://${req.get("host")}`).replace(/\/+$/, "");
}

/** The holder's link token (`?share=`), if one was given; it only ever opens its own certificate's personal data. */
function shareToken(req: Request): string | undefined {
  const v = req.query.share;
  return typeof v === "string" && v.length > 0 && v.length <= 128 ? v : undefined;
}

/**
 * `GET /verify/<id>`: the verify page, or the same result as JSON when asked for with `Accept: application/json`.
 * `POST /verify` with a certificate document or credential as the JSON body: its result as JSON.
 */
export function verifyRoutes(opts: { verifier: Verifier; publicUrl?: string }): Router {
  const router = Router();

  router.get("/verify", (req: Request, res: Response) => {
    const id = typeof req.query.id === "string" ? req.query.id.trim() : "";
    if (id) {
      const lang = typeof req.query.lang === "string" && req.query.lang ? `?lang=${encodeURIComponent(req.query.lang)}` : "";
      res.redirect(303, `/verify/${encodeURIComponent(id)}${lang}`);
      return;
    }
    res.type("html").send(renderLookupPage(readerOf(req, res)));
  });

  router.get("/verify/:id", async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const share = shareToken(req);
    const wantsJson = req.accepts(["html", "json"]) === "json";
    // JSON answers are in English whatever the language; only the page is the reader's.
    const reader = wantsJson ? undefined : readerOf(req, res);
    if (!isCertificateRef(id)) {
      sendError(req, res, 400, `"${id}" is not a certificate reference: ${MALFORMED_REF}`, "BAD_USER_INPUT");
      return;
    }
    // Results are read live from the chain: a cached VALID could outlive a revocation.
    res.set("Cache-Control", "no-store");
    res.vary("Accept");
    try {
      const result = await opts.verifier.verifyId(id, { share });
      if (wantsJson) {
        res.json(result);
        return;
      }
      const base = publicBase(req, opts.publicUrl);
      // Only a valid certificate is offered for download or printing: neither should outlive a revocation on paper.
      const holderLinks = isCertificateId(id) && result.verdict === "VALID";
      // The QR code and the holder's links keep the share token only when it opened something: a wrong token is not
      // passed on; the public QR code of a page reached without one never carries one.
      const carry = share && result.certificate.recipientNameStatus === "MATCHES" ? `?share=${encodeURIComponent(share)}` : "";
      res.type("html").send(
        await renderVerifyPage(result, {
          verifyUrl: `${base}/verify/${encodeURIComponent(id)}${carry}`,
          credentialUrl: holderLinks ? `${base}/certificates/${id}/credential${carry}` : undefined,
          printUrl: holderLinks ? `${base}/certificates/${id}/print${carry}` : undefined,
          reader,
        }),
      );
    } catch (err) {
      if (!(err instanceof CertificateNotFoundError)) throw err;
      if (wantsJson) res.status(404).json({ error: { code: "NOT_FOUND", message: err.message } });
      else res.status(404).type("html").send(renderNotFoundPage(id, reader));
    }
  });

  router.get("/certificates/:id/print", async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const share = shareToken(req);
    res.set("Cache-Control", "no-store");
    const reader = readerOf(req, res);
    if (!isCertificateRef(id)) {
      sendError(req, res, 400, `"${id}" is not a certificate reference: ${MALFORMED_REF}`, "BAD_USER_INPUT");
      return;
    }
    try {
      const result = await opts.verifier.verifyId(id, { share });
      const carry = share && result.certificate.recipientNameStatus === "MATCHES" ? `?share=${encodeURIComponent(share)}` : "";
      const verifyUrl = `${publicBase(req, opts.publicUrl)}/verify/${encodeURIComponent(id)}${carry}`;
      // A certificate that is not valid gets no printable copy; its verify page says why.
      if (result.verdict !== "VALID") {
        res.redirect(303, withLang(reader, verifyUrl));
        return;
      }
      res.type("html").send(await renderCertificatePrintPage(result, { verifyUrl, reader }));
    } catch (err) {
      if (!(err instanceof CertificateNotFoundError)) throw err;
      res.status(404).type("html").send(renderNotFoundPage(id, reader));
    }
  });

  router.post("/verify", express.raw({ type: ["application/json", "application/ld+json", "application/vc", "application/vc+ld+json"], limit: "1mb" }), async (req: Request, res: Response) => {
    res.set("Cache-Control", "no-store");
    if (!Buffer.isBuffer(req.body) || !req.body.length) {
      res.status(415).json({ error: { code: "BAD_USER_INPUT", message: "send the certificate document or credential as a JSON body" } });
      return;
    }
    try {
      res.json(await opts.verifier.verifyFile(new Uint8Array(req.body)));
    } catch (err) {
      if (!(err instanceof DocumentFormatError)) throw err;
      res.status(400).json({ error: { code: "BAD_USER_INPUT", message: err.message } });
    }
  });

  return router;
}
