import express, { Router, type Request, type Response } from "express";
import { CredentialExportError, exportCredential, type ExportDeps } from "../../core/credentials/index.ts";
import type { Custody } from "../../core/custody/custody-secret.ts";
import {
  authorizationServerMetadata,
  CREDENTIAL_CONFIGURATION_ID,
  issuerMetadata,
  OAuthError,
  OID4VCI_PATHS,
  redeemPreAuthorizedCode,
  releaseAccessToken,
  spendAccessToken,
} from "../../core/oid4vci/offers.ts";
import { personalDataOf } from "../../core/operations/personal-data.ts";
import { publicBase } from "./verify-routes.ts";

/**
 * OpenID for Verifiable Credential Issuance 1.0: the issuer's metadata, its authorization server's metadata, the
 * token endpoint (pre-authorized code grant) and the credential endpoint. Offers are made through GraphQL
 * (`createCredentialOffer`) or on the holder page. Answers that carry a secret are never cached (RFC 6749 §5.1).
 */
export function oid4vciRoutes(opts: ExportDeps & { custody: Custody; publicUrl?: string; publicOrigin?: () => string | undefined }): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: "4kb" });
  const json = express.json({ limit: "16kb" });

  const oauthError = (res: Response, err: OAuthError) => {
    if (err.status === 401) res.set("WWW-Authenticate", `Bearer error="${err.error}"`);
    res.status(err.status).set("Cache-Control", "no-store").json({ error: err.error, error_description: err.description });
  };

  router.get(OID4VCI_PATHS.issuerMetadata, (req, res) => {
    res.set("Access-Control-Allow-Origin", "*").json(issuerMetadata(publicBase(req, opts.publicUrl)));
  });
  router.get(OID4VCI_PATHS.authorizationServerMetadata, (req, res) => {
    res.set("Access-Control-Allow-Origin", "*").json(authorizationServerMetadata(publicBase(req, opts.publicUrl)));
  });

  router.post(OID4VCI_PATHS.token, form, async (req: Request, res: Response) => {
    try {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const text = (v: unknown) => (typeof v === "string" ? v : undefined);
      const { accessToken, expiresIn } = await redeemPreAuthorizedCode(opts, {
        grantType: text(body.grant_type) ?? "",
        code: text(body["pre-authorized_code"]) ?? "",
        txCode: text(body.tx_code),
      });
      res.set({ "Cache-Control": "no-store", Pragma: "no-cache" }).json({ access_token: accessToken, token_type: "Bearer", expires_in: expiresIn });
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      oauthError(res, err);
    }
  });

  router.post(OID4VCI_PATHS.credential, json, async (req: Request, res: Response) => {
    const token = /^Bearer\s+(\S+)$/i.exec(req.get("authorization") ?? "")?.[1];
    if (!token) {
      oauthError(res, new OAuthError("invalid_token", "an access token from the token endpoint is required", 401));
      return;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.credential_configuration_id !== CREDENTIAL_CONFIGURATION_ID) {
      const error = body.credential_configuration_id === undefined && body.credential_identifier === undefined ? "invalid_credential_request" : "unknown_credential_configuration";
      oauthError(res, new OAuthError(error, `credential_configuration_id must be "${CREDENTIAL_CONFIGURATION_ID}"`));
      return;
    }
    if (body.proofs !== undefined || body.proof !== undefined) {
      oauthError(res, new OAuthError("invalid_proof", "this credential is not bound to a wallet key: send no proof"));
      return;
    }
    let grant;
    try {
      grant = await spendAccessToken(opts.db, token);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      oauthError(res, err);
      return;
    }
    const base = publicBase(req, opts.publicUrl);
    try {
      // The holder's own copy: with their link's token it carries their name, as their download from the holder page does.
      const share = (await personalDataOf(opts.db, grant.certificateId))?.shareToken ?? undefined;
      const credential = await exportCredential(opts, grant.certificateId, {
        verifyUrl: `${base}/verify/${grant.certificateId}`,
        share,
        baseUrl: base,
        publicOrigin: opts.publicOrigin?.() ?? base,
      });
      res.set("Cache-Control", "no-store").json({ credentials: [{ credential }] });
    } catch (err) {
      if (!(err instanceof CredentialExportError)) throw err;
      if (err.code === "UNAVAILABLE") {
        await releaseAccessToken(opts.db, grant.offerId);
        res.status(503).set("Retry-After", "5").json({ error: "server_error", error_description: err.message });
        return;
      }
      oauthError(res, new OAuthError("credential_request_denied", err.message));
    }
  });
  return router;
}
