import { Router, type Request, type Response } from "express";
import { CredentialExportError, credentialCacheKey, exportCredential, type ExportDeps } from "../../core/credentials/index.ts";
import { readCertificate } from "../../core/verification/chain-reader.ts";
import { CertificateNotFoundError, ChainUnavailableError, resolveReference } from "../../core/verification/index.ts";
import { sendError } from "../http-errors.ts";
import { certificateIdOf, isCertificateRef, MALFORMED_REF } from "./certificate-ref.ts";
import { publicBase } from "./verify-routes.ts";
import { issuerStamp } from "../../core/identity/issuer-identity.ts";

const STATUS = { NOT_FOUND: 404, NOT_VALID: 409, UNAVAILABLE: 503 } as const;

/** Signed credentials kept, and for how long: a signature costs milliseconds of CPU, a chain read far less. */
const CACHE_ENTRIES = 1_000;
const CACHE_MS = 10 * 60_000;

/**
 * `GET /certificates/<id>/credential`: the certificate as a signed Open Badges 3.0 / W3C VC 2.0 credential; `<id>` is
 * a certificate id or `chainId:contract:tokenId`. A signed credential is reused while the certificate's on-chain state
 * (status, owner, document and digest, validity) and its personal data (disclosed by `?share=`, or erased) are
 * unchanged, so a revocation, correction or erasure is never answered from
 * the cache; the chain is read on every request to know.
 */
export function credentialRoutes(opts: ExportDeps & { publicUrl?: string; /** The origin platform-hosted DIDs are named after; absent, the request's. */ publicOrigin?: () => string | undefined }): Router {
  const router = Router();
  const cache = new Map<string, { at: number; body: string }>();

  /** What the signed credential depends on, read from the chain now; undefined when the chain cannot say. */
  async function stateKey(certificateId: string, verifyUrl: string, share: string | undefined): Promise<string | undefined> {
    try {
      const { reference } = await resolveReference(opts.db, certificateId);
      const { facts } = await readCertificate(opts.chains, reference);
      // The personal-data part changes on erasure, so an erased name is never answered from the cache.
      const personal = await credentialCacheKey(opts.db, certificateId, share);
      // A rotation or compromise of the issuer's key must not be answered with a credential the old key signed.
      const issuer = await issuerStamp(opts.db, certificateId);
      return JSON.stringify([personal, issuer, verifyUrl, facts.chainId, facts.contract, facts.tokenId, facts.owner, facts.status, facts.metadataUri, facts.digest, facts.validUntil, facts.revocationReason]);
    } catch (err) {
      if (err instanceof ChainUnavailableError) return undefined;
      if (err instanceof CertificateNotFoundError) throw new CredentialExportError("NOT_FOUND", err.message);
      throw err;
    }
  }

  router.get("/certificates/:id/credential", async (req: Request, res: Response) => {
    const ref = String(req.params.id);
    if (!isCertificateRef(ref)) {
      sendError(req, res, 400, `"${ref}" is not a certificate reference: ${MALFORMED_REF}`, "BAD_USER_INPUT");
      return;
    }
    const id = await certificateIdOf(opts.db, ref);
    if (!id) {
      sendError(req, res, 404, `no certificate "${ref}"`, "NOT_FOUND");
      return;
    }
    const baseUrl = publicBase(req, opts.publicUrl);
    const verifyUrl = `${baseUrl}/verify/${encodeURIComponent(ref)}`;
    // The holder's link token: with it the credential carries the holder's name and the salts that bind it to the chain.
    const share = typeof req.query.share === "string" ? req.query.share : undefined;
    try {
      const key = await stateKey(id, verifyUrl, share);
      const cached = key ? cache.get(key) : undefined;
      let body: string;
      if (cached && Date.now() - cached.at < CACHE_MS) {
        body = cached.body;
      } else {
        body = JSON.stringify(await exportCredential(opts, id, { verifyUrl, share, baseUrl, publicOrigin: opts.publicOrigin?.() ?? publicBase(req, opts.publicUrl) }), null, 2);
        if (key) {
          if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
          cache.set(key, { at: Date.now(), body });
        }
      }
      res.set({
        "Content-Type": "application/vc; charset=utf-8",
        "Content-Disposition": `attachment; filename="certificate-${id}.credential.json"`,
        // Status lives on chain: a copy kept by a proxy could outlive a revocation.
        "Cache-Control": "no-store",
      });
      res.send(body);
    } catch (err) {
      if (!(err instanceof CredentialExportError)) throw err;
      sendError(req, res, STATUS[err.code], err.message, err.code);
    }
  });
  return router;
}
