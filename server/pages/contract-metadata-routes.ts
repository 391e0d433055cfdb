import { Router, type Request, type Response } from "express";
import type { Database } from "../../core/db/index.ts";
import { sendError } from "../http-errors.ts";
import { buildContractMetadata, findContractSubject, renderContractImage, type ContractSubject } from "./contract-metadata.ts";
import { publicBase } from "./verify-routes.ts";

/** Wallets and marketplaces fetch these from anywhere, browsers included; nothing here is private. */
const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
  "Access-Control-Allow-Headers": "Accept",
  "Cross-Origin-Resource-Policy": "cross-origin",
};

/**
 * `GET /contracts/<chainId>/<address>/contract.json`: the ERC-7572 contract-level metadata a registry's or an editions
 * contract's `contractURI()` names (the contract appends its own lower-case address to the base it was created
 * with). `GET /contracts/<chainId>/<address>/image.svg`: the image that document points to. Both from Hallmark's
 * records of the contract and its institution; the address in any letter case.
 */
export function contractMetadataRoutes(opts: { db: Database; publicUrl?: string }): Router {
  const router = Router();

  /** The contract the request names, or undefined once a 400 or 404 is sent. */
  const subjectOf = async (req: Request, res: Response): Promise<ContractSubject | undefined> => {
    res.set(CORS);
    const chainId = String(req.params.chainId);
    const contract = String(req.params.contract);
    if (!/^[1-9]\d{0,15}$/.test(chainId) || !Number.isSafeInteger(Number(chainId))) {
      sendError(req, res, 400, `"${chainId}" is not a chain id (a positive whole number)`, "BAD_USER_INPUT");
      return undefined;
    }
    if (!/^0x[0-9a-fA-F]{40}$/.test(contract)) {
      sendError(req, res, 400, `"${contract}" is not a contract address (0x and 40 hex digits)`, "BAD_USER_INPUT");
      return undefined;
    }
    const subject = await findContractSubject(opts.db, Number(chainId), contract);
    if (!subject) sendError(req, res, 404, `no Hallmark registry or editions contract is recorded at ${contract} on chain ${chainId}`, "NOT_FOUND");
    return subject;
  };

  for (const file of ["contract.json", "image.svg"]) {
    router.options(`/contracts/:chainId/:contract/${file}`, (_req: Request, res: Response) => {
      res.set({ ...CORS, "Access-Control-Max-Age": "86400" }).status(204).end();
    });
  }

  router.get("/contracts/:chainId/:contract/contract.json", async (req: Request, res: Response) => {
    const subject = await subjectOf(req, res);
    if (!subject) return;
    // The institution's name can change: cached briefly, as indexers refetch after ContractURIUpdated anyway.
    res.set("Cache-Control", "public, max-age=300").json(buildContractMetadata(subject, publicBase(req, opts.publicUrl)));
  });

  router.get("/contracts/:chainId/:contract/image.svg", async (req: Request, res: Response) => {
    const subject = await subjectOf(req, res);
    if (!subject) return;
    res.set({ "Content-Type": "image/svg+xml; charset=utf-8", "Cache-Control": "public, max-age=300" }).send(renderContractImage(subject));
  });

  return router;
}
