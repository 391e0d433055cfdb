import { Router, type Request, type Response } from "express";
import type { Database } from "../core/db/index.ts";
import { storeImage } from "../core/editions/media.ts";
import type { QuotaLimits } from "../core/quotas.ts";
import type { IpfsStore } from "../core/ipfs/index.ts";
import type { Logger } from "../core/logger.ts";
import { OperationError } from "../core/operations/errors.ts";
import type { RequestCaller } from "./auth/request-caller.ts";
import { CSRF_HEADERS, isPreflighted } from "./security/http.ts";

/** Room for the multipart boundaries and part headers around the file. */
const MULTIPART_OVERHEAD = 64 * 1024;

const STATUS: Record<string, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  CSRF_PREVENTED: 400,
  BAD_USER_INPUT: 400,
  FILE_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  QUOTA_EXCEEDED: 429,
  INSTITUTION_SUSPENDED: 403,
};

class UploadError extends Error {
  readonly code: string;
  readonly details?: Record<string, unknown>;
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

function headersOf(req: Request): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return headers;
}

/** The body, refused with FILE_TOO_LARGE as soon as it passes `limit` bytes (announced or sent). */
async function readBody(req: Request, limit: number, maxFile: number): Promise<Buffer> {
  const tooLarge = () => new UploadError("FILE_TOO_LARGE", `the upload is larger than ${maxFile} bytes`, { maxBytes: maxFile });
  const announced = Number(req.headers["content-length"]);
  if (Number.isFinite(announced) && announced > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Discards the rest of the body; false when more than `limit` bytes were still coming. */
async function drain(req: Request, limit: number): Promise<boolean> {
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) return false;
    }
  } catch {
    return false;
  }
  return true;
}

/**
 * `POST /media`: one image (`multipart/form-data`, its part named `file`) stored on IPFS for the caller's institution.
 * Needs an API key with the `issue` scope and, as GraphQL does, a CSRF header (`x-graphql-csrf`): a form post from
 * another site cannot carry it. The type is judged by the bytes (PNG, JPEG, GIF, WebP); the answer is
 * `{ cid, uri, size, mediaType, width, height }`. Errors: `{ error: { code, message } }` with 400, 401, 403, 413
 * FILE_TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE or 429 QUOTA_EXCEEDED.
 */
export function mediaUploadRoutes(deps: { db: Database; ipfs: IpfsStore; quotas: QuotaLimits; logger: Logger; callers: RequestCaller; maxBytes: number }): Router {
  const router = Router();
  router.post("/media", async (req: Request, res: Response) => {
    res.set("Cache-Control", "no-store");
    try {
      const headers = headersOf(req);
      if (!CSRF_HEADERS.some((h) => !!headers.get(h)) && !isPreflighted(headers)) {
        throw new UploadError("CSRF_PREVENTED", `send the upload with a non-empty \`${CSRF_HEADERS[0]}\` header`);
      }
      const webRequest = new globalThis.Request("http://localhost/media", { method: "POST", headers });
      const caller = await deps.callers(webRequest);
      if (!caller) {
        res.set("WWW-Authenticate", "Bearer");
        throw new UploadError("UNAUTHENTICATED", caller === null ? "Invalid, expired or revoked API key" : "Authentication required: send `Authorization: Bearer <api key>`");
      }
      if (caller.operator || !(caller.scopes.includes("issue") || caller.scopes.includes("admin"))) {
        throw new UploadError("FORBIDDEN", "This API key lacks the `issue` scope uploads need");
      }
      const contentType = headers.get("content-type") ?? "";
      if (!/^multipart\/form-data\s*;/i.test(contentType)) {
        throw new UploadError("BAD_USER_INPUT", "send the image as multipart/form-data, in a part named `file`");
      }
      const body = await readBody(req, deps.maxBytes + MULTIPART_OVERHEAD, deps.maxBytes);
      let form: FormData;
      try {
        form = await new Response(new Uint8Array(body), { headers: { "content-type": contentType } }).formData();
      } catch {
        throw new UploadError("BAD_USER_INPUT", "the body is not well-formed multipart/form-data");
      }
      const files = form.getAll("file").filter((f): f is File => typeof f !== "string");
      if (files.length !== 1) throw new UploadError("BAD_USER_INPUT", "send exactly one file, in a part named `file`");
      const bytes = new Uint8Array(await files[0]!.arrayBuffer());
      const stored = await storeImage(deps, caller.institutionId, bytes, deps.maxBytes);
      res.status(201).json({ ...stored, uri: `ipfs://${stored.cid}`, width: stored.width ?? null, height: stored.height ?? null });
    } catch (err) {
      // Read (and drop) what the client is still sending, so it hears the answer instead of a reset connection;
      // past a bound the connection is closed after the answer instead.
      if (!req.readableEnded && !(await drain(req, 4 * (deps.maxBytes + MULTIPART_OVERHEAD)))) res.set("Connection", "close");
      if (err instanceof UploadError || err instanceof OperationError) {
        res.status(STATUS[err.code] ?? 400).json({ error: { code: err.code, message: err.message, ...err.details } });
        return;
      }
      deps.logger.error({ err: String(err) }, "media upload failed");
      res.status(500).json({ error: { code: "INTERNAL_SERVER_ERROR", message: "the upload could not be stored" } });
    }
  });
  return router;
}
