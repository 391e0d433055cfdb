import express, { Router, type Request, type Response } from "express";
import QRCode from "qrcode";
import { and, eq } from "drizzle-orm";
import type { Database } from "../../core/db/index.ts";
import { anchoredBatches, anchoredCertificates, collections } from "../../core/db/schema.ts";
import { isHallmarkDocument } from "../../core/verification/certificate-document.ts";
import { CertificateNotFoundError, DocumentFormatError, parseExplicitReference, type CertificateSummary, type Verifier } from "../../core/verification/index.ts";
import { fail, finish } from "../../core/verification/results.ts";
import { sendError } from "../http-errors.ts";
import { renderCertificatePrintPage } from "./certificate-print-page.ts";
import { readerOf } from "./reader.ts";
import { renderNotFoundPage, renderVerifyPage, withLang } from "./verify-page.ts";
import { publicBase } from "./verify-routes.ts";

const HEX32 = /^0x[0-9a-fA-F]{64}$/;

/** Hashes only: the upload's checks refuse anything larger than a proof of a very large batch needs. */
const hashesOnly = express.json({ limit: "16kb" });

/**
 * The checks the verify page's upload asks for, from hashes alone, and anchored certificates by digest:
 * - `POST /verify/anchored` `{ chainId, contract, digest, root, proof }`: an anchored certificate whose document the
 *   browser hashed;
 * - `POST /verify/digest` `{ reference: "chainId:contract:tokenId", digest }`: an exported credential, checked by its
 *   place on chain, and its document's digest (hashed in the browser) against the one on chain;
 * - `GET /anchored/<digest>`: an anchored certificate recorded through the API, its on-chain facts and a QR code of
 *   this page, with none of its personal fields; `GET /anchored/<digest>/print`: its printable copy while VALID;
 *   `GET /anchored/<digest>/qr.svg`: the QR code of that page's address, for the copy the holder prints from their file.
 */
export function anchoredRoutes(opts: { db: Database; verifier: Verifier; publicUrl?: string }): Router {
  const router = Router();

  router.post("/verify/anchored", hashesOnly, async (req: Request, res: Response) => {
    res.set("Cache-Control", "no-store");
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b.chainId !== "number" || typeof b.contract !== "string" || typeof b.digest !== "string" || typeof b.root !== "string" || !Array.isArray(b.proof)) {
      res.status(400).json({ error: { code: "BAD_USER_INPUT", message: "send { chainId, contract, digest, root, proof }" } });
      return;
    }
    try {
      res.json(await opts.verifier.verifyAnchoredProof({ chainId: b.chainId, contract: b.contract, digest: b.digest, root: b.root, proof: b.proof as string[] }));
    } catch (err) {
      if (!(err instanceof DocumentFormatError)) throw err;
      res.status(400).json({ error: { code: "BAD_USER_INPUT", message: err.message } });
    }
  });

  router.post("/verify/digest", hashesOnly, async (req: Request, res: Response) => {
    res.set("Cache-Control", "no-store");
    const b = (req.body ?? {}) as Record<string, unknown>;
    const reference = typeof b.reference === "string" ? b.reference : "";
    if (!parseExplicitReference(reference) || typeof b.digest !== "string" || !HEX32.test(b.digest)) {
      res.status(400).json({ error: { code: "BAD_USER_INPUT", message: "send { reference: chainId:contract:tokenId, digest: 0x and 64 hex digits }" } });
      return;
    }
    try {
      const result = await opts.verifier.verifyId(reference);
      const digest = b.digest.toLowerCase();
      const onChain = result.chain?.digest?.toLowerCase();
      // The chain's check read the document it names; the uploaded one must be that very document.
      if (!onChain || onChain === digest) {
        res.json(result);
        return;
      }
      const checks = [fail("integrity", `the uploaded document hashes to ${digest}, but the certificate on chain has digest ${onChain}: it is not the issued document`), ...result.checks];
      res.json(finish(checks, result.certificate, result.chain));
    } catch (err) {
      if (!(err instanceof CertificateNotFoundError)) throw err;
      res.status(404).json({ error: { code: "NOT_FOUND", message: err.message } });
    }
  });

  /** The VALID-or-not verification of the anchored certificate recorded with this digest, without personal fields. */
  async function byDigest(req: Request, res: Response) {
    const digest = String(req.params.digest).toLowerCase();
    res.set("Cache-Control", "no-store");
    if (!HEX32.test(digest)) {
      sendError(req, res, 400, `"${digest}" is not an anchored certificate's digest: 0x and 64 hex digits`, "BAD_USER_INPUT");
      return undefined;
    }
    const [row] = await opts.db
      .select({ certificate: anchoredCertificates, root: anchoredBatches.root, chainId: collections.chainId, contract: collections.contractAddress })
      .from(anchoredCertificates)
      .innerJoin(anchoredBatches, eq(anchoredBatches.id, anchoredCertificates.batchId))
      .innerJoin(collections, eq(collections.id, anchoredBatches.collectionId))
      .where(and(eq(anchoredCertificates.digest, digest), eq(anchoredBatches.status, "CONFIRMED")));
    if (!row?.contract) {
      res.status(404).type("html").send(renderNotFoundPage(digest, readerOf(req, res)));
      return undefined;
    }
    const result = await opts.verifier.verifyAnchoredProof(
      { chainId: row.chainId, contract: row.contract, digest, root: row.root, proof: row.certificate.proof },
      publicSummary(row.certificate.document),
    );
    return { result, url: `${publicBase(req, opts.publicUrl)}/anchored/${digest}` };
  }

  router.get("/anchored/:digest", async (req: Request, res: Response) => {
    const found = await byDigest(req, res);
    if (!found) return;
    const { result, url } = found;
    res.type("html").send(await renderVerifyPage(result, { verifyUrl: url, printUrl: result.verdict === "VALID" ? `${url}/print` : undefined, reader: readerOf(req, res) }));
  });

  // The QR code of a record's address, for the printable copy the verify page builds from the holder's file.
  router.get("/anchored/:digest/qr.svg", async (req: Request, res: Response) => {
    const digest = String(req.params.digest).toLowerCase();
    if (!HEX32.test(digest)) {
      sendError(req, res, 400, `"${digest}" is not an anchored certificate's digest: 0x and 64 hex digits`, "BAD_USER_INPUT");
      return;
    }
    const svg = await QRCode.toString(`${publicBase(req, opts.publicUrl)}/anchored/${digest}`, { type: "svg", errorCorrectionLevel: "M", margin: 4 });
    res.set("Cache-Control", "public, max-age=86400").type("image/svg+xml").send(svg);
  });

  router.get("/anchored/:digest/print", async (req: Request, res: Response) => {
    const found = await byDigest(req, res);
    if (!found) return;
    const { result, url } = found;
    // As for registry certificates: no printable copy of a certificate that is not valid.
    const reader = readerOf(req, res);
    if (result.verdict !== "VALID") {
      res.redirect(303, withLang(reader, url));
      return;
    }
    res.type("html").send(await renderCertificatePrintPage(result, { verifyUrl: url, reader }));
  });

  return router;
}

/**
 * What a page reached by digest may show of an anchored document: what the issuer states about the award, never whom
 * it was awarded to (name, address) nor its attributes (a grade is personal); its holder has those in their file.
 */
function publicSummary(document: Record<string, unknown>): CertificateSummary {
  if (!isHallmarkDocument(document)) return { attributes: [] };
  const c = document.certificate;
  return {
    id: c.id,
    title: c.title ?? document.name,
    description: document.description || undefined,
    issuerName: c.issuer?.name,
    issuerId: c.issuer?.id,
    collectionName: c.collection.name,
    issuedAt: c.issuedAt,
    validUntil: c.validUntil,
    attributes: [],
  };
}
