import express, { Router, type Request, type Response } from "express";
import { desc, eq } from "drizzle-orm";
import type { Provider } from "ethers";
import type { Database } from "../../core/db/index.ts";
import { editionsContractsOn, readHoldings, type HeldItem } from "../../core/editions/index.ts";
import type { IpfsStore } from "../../core/ipfs/index.ts";
import { certificates } from "../../core/db/schema.ts";
import type { Verifier } from "../../core/verification/index.ts";
import { personalDataOf } from "../../core/operations/personal-data.ts";
import { createSignInMessage, readCookie, SESSION_COOKIE, sessionHolder, signIn, SignInError, signOut } from "../auth/holder-auth.ts";
import { renderHolderPage, renderSignInPage, type HeldCertificate } from "./holder-page.ts";
import { readerOf } from "./reader.ts";
import { publicBase } from "./verify-routes.ts";

/** Enough for a person's wallet; each is verified live against the chain on every visit. */
const MAX_LISTED = 50;

/**
 * `GET /holder`: after Sign-In with Ethereum, the certificates held by the signed-in account, each verified from
 * the chain as the page is built (the database only says which certificates to look at), and the collectibles it
 * holds, read from the editions contracts.
 */
export function holderRoutes(opts: {
  db: Database;
  verifier: Verifier;
  chainId: number;
  publicUrl?: string;
  /** Editions contracts whose items the holder is shown, read from the chain. */
  collectibles?: { provider?: Provider; ipfs: IpfsStore; contracts: string[] };
}): Router {
  const router = Router();
  const json = express.json({ limit: "4kb" });

  router.get("/holder", async (req: Request, res: Response) => {
    res.set("Cache-Control", "no-store");
    const address = await sessionHolder(opts.db, readCookie(req.headers.cookie, SESSION_COOKIE));
    if (!address) {
      res.type("html").send(renderSignInPage(readerOf(req, res)));
      return;
    }
    const rows = await opts.db
      .select({ id: certificates.id })
      .from(certificates)
      .where(eq(certificates.owner, address))
      .orderBy(desc(certificates.createdAt))
      .limit(MAX_LISTED);
    const [held, collectibles] = await Promise.all([
      // The signed-in holder owns these: their own link opens their personal data, and the page passes it on.
      Promise.all(
        rows.map(async ({ id }): Promise<HeldCertificate> => {
          const share = (await personalDataOf(opts.db, id))?.shareToken ?? undefined;
          return { id, share, result: await opts.verifier.verifyId(id, { share }) };
        }),
      ),
      heldCollectibles(address),
    ]);
    res.type("html").send(renderHolderPage(address, held, collectibles, readerOf(req, res)));
  });

  /** Undefined when the chain could not be read: the page says so rather than showing an empty list. */
  async function heldCollectibles(address: string): Promise<HeldItem[] | undefined> {
    const c = opts.collectibles;
    if (!c?.provider) return [];
    const provider = c.provider;
    return editionsContractsOn(opts.db, opts.chainId, c.contracts)
      .then((contracts) => (contracts.length ? readHoldings({ provider, ipfs: c.ipfs }, contracts, address, MAX_LISTED) : []))
      .catch(() => undefined);
  }

  router.post("/holder/sign-in/message", json, async (req: Request, res: Response) => {
    try {
      res.json(await createSignInMessage(opts.db, { address: String(req.body?.address ?? ""), origin: publicBase(req, opts.publicUrl), chainId: opts.chainId }));
    } catch (err) {
      if (!(err instanceof SignInError)) throw err;
      res.status(400).json({ error: { code: "BAD_USER_INPUT", message: err.message } });
    }
  });

  router.post("/holder/sign-in", json, async (req: Request, res: Response) => {
    try {
      const session = await signIn(opts.db, { nonce: String(req.body?.nonce ?? ""), signature: String(req.body?.signature ?? "") });
      res.cookie(SESSION_COOKIE, session.token, {
        httpOnly: true,
        sameSite: "lax",
        secure: publicBase(req, opts.publicUrl).startsWith("https:"),
        path: "/",
        expires: session.expiresAt,
      });
      res.json({ address: session.address });
    } catch (err) {
      if (!(err instanceof SignInError)) throw err;
      res.status(401).json({ error: { code: "UNAUTHENTICATED", message: err.message } });
    }
  });

  router.post("/holder/sign-out", async (req: Request, res: Response) => {
    await signOut(opts.db, readCookie(req.headers.cookie, SESSION_COOKIE));
    res.clearCookie(SESSION_COOKIE, { path: "/" });
    res.redirect(303, "/holder");
  });

  return router;
}
