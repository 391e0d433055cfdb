import { Router, type Request, type Response } from "express";
import { exportAuditLog } from "../core/audit/export.ts";
import type { Database } from "../core/db/index.ts";
import type { Logger } from "../core/logger.ts";
import type { RequestCaller } from "./auth/request-caller.ts";
import { sendError } from "./http-errors.ts";

/**
 * `GET /audit-log.jsonl` with an ADMIN key: the institution's whole audit log as JSON Lines, one event a line in log
 * order, each with its hash and, once anchored, its Merkle proof and anchor (core/audit/export.ts). Streamed, so a
 * long log is never held whole in memory; `npm run audit -- --verify-log <file>` checks what was saved.
 */
export function auditExportRoutes(deps: { db: Database; logger: Logger; callers: RequestCaller }): Router {
  const router = Router();
  router.get("/audit-log.jsonl", async (req: Request, res: Response) => {
    res.set("Cache-Control", "no-store");
    const headers = new Headers();
    if (req.headers.authorization) headers.set("authorization", req.headers.authorization);
    const caller = await deps.callers(new globalThis.Request("http://localhost/audit-log.jsonl", { headers }));
    if (!caller) {
      res.set("WWW-Authenticate", "Bearer");
      sendError(req, res, 401, caller === null ? "Invalid, expired or revoked API key" : "Authentication required: send `Authorization: Bearer <api key>`", "UNAUTHENTICATED");
      return;
    }
    if (caller.operator || !caller.scopes.includes("admin")) {
      sendError(req, res, 403, "The audit log export needs an API key with the `admin` scope", "FORBIDDEN");
      return;
    }
    res.status(200).type("application/jsonl; charset=utf-8");
    res.set("Content-Disposition", `attachment; filename="audit-log-${caller.institutionId}.jsonl"`);
    try {
      for await (const event of exportAuditLog(deps.db, caller.institutionId)) {
        if (!res.write(`${JSON.stringify(event)}\n`)) await new Promise((resolve) => res.once("drain", resolve));
      }
      res.end();
    } catch (err) {
      // Headers are gone: cutting the connection is the only way to say the file is incomplete.
      deps.logger.error({ err: String(err) }, "audit log export failed");
      res.destroy(err as Error);
    }
  });
  return router;
}
