import { createHash } from "node:crypto";
import type { RequestHandler } from "express";
import helmet from "helmet";
import { CLAIM_SCRIPT, EMAIL_SIGN_IN_SCRIPT, SIGN_IN_SCRIPT } from "../pages/holder-page.ts";
import { UPLOAD_SCRIPT } from "../pages/verify-upload.ts";

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/**
 * The pages' inline scripts, allowed by their hashes: nothing else inline runs, so markup that slipped past escaping
 * could not run script. `window.print()` is the print buttons' handler attribute (hence 'unsafe-hashes', which allows
 * only that exact handler text, not inline script in general).
 */
const SCRIPT_HASHES = [sha256(SIGN_IN_SCRIPT), sha256(EMAIL_SIGN_IN_SCRIPT), sha256(CLAIM_SCRIPT), sha256(UPLOAD_SCRIPT), sha256("window.print()")];

/**
 * Browser hardening for every response, through helmet: a strict Content-Security-Policy (the pages load nothing but
 * their own inline style, the scripts above, QR codes as inline SVG and images from this origin's `/ipfs/`), framing
 * refused everywhere (the IIIF manifest, served with CORS, is how a gallery is embedded elsewhere), `nosniff`, no
 * Referer (a verify link names a certificate; it must not leak to the sites a page links to), HSTS when served over
 * HTTPS. Inline styles stay allowed: the pages use style attributes, and CSS cannot run script.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        "default-src": ["'none'"],
        "script-src": ["'unsafe-hashes'", ...SCRIPT_HASHES],
        "script-src-attr": ["'unsafe-hashes'", ...SCRIPT_HASHES],
        "style-src": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
      },
    },
    crossOriginEmbedderPolicy: false,
    // Public, content-addressed files and manifests opt into cross-origin reads where they are served.
    crossOriginResourcePolicy: { policy: "same-origin" },
    referrerPolicy: { policy: "no-referrer" },
    xFrameOptions: { action: "deny" },
  });
}

/**
 * GraphiQL (served in development at `/graphql`) loads its editor from unpkg and runs inline script: only that page
 * gets those allowances, and only when GraphiQL is enabled.
 */
export function graphiqlHeaders(): RequestHandler {
  const cdn = "https://unpkg.com";
  return helmet.contentSecurityPolicy({
    useDefaults: false,
    directives: {
      "default-src": ["'none'"],
      "script-src": ["'unsafe-inline'", cdn],
      "worker-src": ["blob:", cdn],
      "style-src": ["'unsafe-inline'", cdn],
      "font-src": [cdn, "data:"],
      "img-src": ["'self'", "data:", cdn],
      "connect-src": ["'self'"],
      "base-uri": ["'none'"],
      "frame-ancestors": ["'none'"],
    },
  });
}

/**
 * CORS for the API from an allowlist of exact origins (`CORS_ORIGINS`): only those get `Access-Control-Allow-Origin`
 * and credentials; a preflight from any other origin is answered without them, so the browser refuses the request.
 * Routes that are public to every origin (the IPFS gateway, IIIF manifests) set their own `*` headers.
 */
export function corsAllowlist(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins.map((o) => o.replace(/\/+$/, "")));
  return (req, res, next) => {
    const origin = req.headers.origin;
    res.vary("Origin");
    if (!origin || !allowed.has(origin)) {
      if (req.method === "OPTIONS" && origin) {
        res.status(204).end();
        return;
      }
      next();
      return;
    }
    res.set({ "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true" });
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
      res.set({
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": req.headers["access-control-request-headers"] ?? "content-type, authorization",
        "Access-Control-Max-Age": "600",
      });
      res.status(204).end();
      return;
    }
    next();
  };
}
