import { randomUUID } from "node:crypto";
import type { ErrorRequestHandler, Request, RequestHandler, Response } from "express";
import type { Logger } from "../core/logger.ts";
import { html } from "./pages/html.ts";
import { page } from "./pages/layout.ts";

/** The id a request is logged under; answered in `X-Request-Id` and in every error body, so a report can be traced. */
export function requestIdOf(res: Response): string {
  return String(res.locals.requestId ?? "");
}

export function assignRequestId(): RequestHandler {
  return (_req, res, next) => {
    res.locals.requestId = randomUUID();
    res.set("X-Request-Id", res.locals.requestId);
    next();
  };
}

const TITLES: Record<number, string> = { 400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Too large", 415: "Unsupported type", 429: "Too many requests", 500: "Something went wrong", 503: "Try again later" };
const CODES: Record<number, string> = { 400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 429: "RATE_LIMITED", 500: "INTERNAL_SERVER_ERROR", 503: "UNAVAILABLE" };

/** A page for people, JSON for everything else (API clients, `fetch`, `curl`): decided by `Accept`. */
function wantsHtml(req: Request): boolean {
  return req.accepts(["json", "html"]) === "html" && !!req.headers.accept?.includes("html");
}

/** An error answer without internals: a code, a message written for the client, the request id. */
export function sendError(req: Request, res: Response, status: number, message: string, code = CODES[status] ?? "ERROR"): void {
  const requestId = requestIdOf(res);
  res.set("Cache-Control", "no-store");
  if (wantsHtml(req)) {
    const title = TITLES[status] ?? "Error";
    res.status(status).type("html").send(
      page({
        title: `${title} · Hallmark`,
        section: title,
        body: html`<h1>${title}</h1><p>${message}</p><p class="note">Request id: <code>${requestId}</code></p>`,
      }),
    );
    return;
  }
  res.status(status).json({ error: { code, message, requestId } });
}

/** Registered after every route: what no route answered. */
export function notFound(): RequestHandler {
  return (req, res) => sendError(req, res, 404, `nothing is served at ${req.method} ${req.path}`);
}

/**
 * Registered last: any error a route let through is logged here with its request id and answered without its
 * message, stack, SQL or paths (in development too: those go to the log). Errors express's own parsers raise with a
 * client status (a malformed or oversized body) keep that status and a fixed message.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const status = typeof err?.status === "number" && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) {
      logger.error({ err, requestId: requestIdOf(res), method: req.method, path: req.path }, "request failed");
      sendError(req, res, 500, "the request could not be completed; quote the request id when reporting it");
      return;
    }
    logger.info({ requestId: requestIdOf(res), status, type: err?.type }, "request refused");
    sendError(req, res, status, status === 413 ? "the request body is too large" : status === 400 ? "the request body is malformed" : TITLES[status] ?? "refused");
  };
}
