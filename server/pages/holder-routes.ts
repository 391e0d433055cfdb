import express, { Router, type Request, type Response } from "express";
import { desc, eq, inArray } from "drizzle-orm";
import { isId } from "../../core/db/ids.ts";
import { claimAllCustody } from "../../core/custody/holder-claims.ts";
import { createCredentialOffer, OFFER_LIMITS } from "../../core/oid4vci/offers.ts";
import { sendError } from "../http-errors.ts";
import { qrCode } from "./qr.ts";
import { localizedText, readerOf } from "./reader.ts";
import type { Provider } from "ethers";
import type { Database } from "../../core/db/index.ts";
import { editionsContractsOn, readHoldings, type HeldItem } from "../../core/editions/index.ts";
import type { IpfsStore } from "../../core/ipfs/index.ts";
import { certificates } from "../../core/db/schema.ts";
import type { Verifier } from "../../core/verification/index.ts";
import { personalDataOf } from "../../core/operations/personal-data.ts";
import { createSignInMessage, openEmailSession, proveWallet, readCookie, SESSION_COOKIE, sessionOf, signIn, SignInError, signOut, type HolderSession } from "../auth/holder-auth.ts";
import type { Custody } from "../../core/custody/custody-secret.ts";
import { accountsOfHolderKey } from "../../core/custody/holder-accounts.ts";
import { openSecret } from "../../core/custody/sealed.ts";
import { EmailCodeError, requestEmailCode, verifyEmailCode, type EmailCodePolicy } from "../../core/holders/email-sign-in.ts";
import type { Mailer } from "../../core/mail/mailer.ts";
import type { Logger } from "../../core/logger.ts";
import { OperationError } from "../../core/operations/errors.ts";
import { renderHolderPage, renderOfferPage, renderSignInPage, type HeldCertificate } from "./holder-page.ts";
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
  custody: Custody;
  /** Absent: e-mail sign-in is off. */
  mailer?: Mailer;
  emailCodes: EmailCodePolicy;
  logger: Logger;
}): Router {
  const router = Router();
  const json = express.json({ limit: "4kb" });

  router.get("/holder", async (req: Request, res: Response) => {
    res.set("Cache-Control", "no-store");
    const session = await sessionOf(opts.db, readCookie(req.headers.cookie, SESSION_COOKIE));
    if (!session) {
      res.type("html").send(renderSignInPage(readerOf(req, res), { email: !!opts.mailer }));
      return;
    }
    // A holder signed in by e-mail holds what sits in each institution's custodial account, and what was claimed from it.
    const { accounts, shownAs, claimable } = await holderOf(session);
    const rows = accounts.length
      ? await opts.db
          .select({ id: certificates.id })
          .from(certificates)
          .where(inArray(certificates.owner, accounts))
          .orderBy(desc(certificates.createdAt))
          .limit(MAX_LISTED)
      : [];
    const [held, collectibles] = await Promise.all([
      // The signed-in holder owns these: their own link opens their personal data, and the page passes it on.
      Promise.all(
        rows.map(async ({ id }): Promise<HeldCertificate> => {
          const share = (await personalDataOf(opts.db, id))?.shareToken ?? undefined;
          return { id, share, result: await opts.verifier.verifyId(id, { share }) };
        }),
      ),
      heldCollectibles(accounts),
    ]);
    res.type("html").send(renderHolderPage(readerOf(req, res), shownAs, held, collectibles, { custody: { claimable } }));
  });

  /** Whose items a session shows: the wallet's; or, signed in by e-mail, each custodial account's and where it was claimed to. */
  async function holderOf(session: HolderSession): Promise<{ accounts: string[]; shownAs: string; claimable: boolean }> {
    if (session.kind === "wallet") return { accounts: [session.address], shownAs: session.address, claimable: false };
    const custodial = await accountsOfHolderKey(opts.db, session.holderKey);
    return {
      accounts: [...new Set(custodial.flatMap((h) => [h.custodialAddress, ...(h.claimedAddress ? [h.claimedAddress] : [])]))],
      shownAs: openSecret(session.emailSealed, opts.custody.keyring()),
      claimable: custodial.some((h) => !h.claimedAddress),
    };
  }

  // A form post from the holder page (same-site only: the session cookie is SameSite=Lax): an offer for the wallet.
  router.post("/holder/credential-offer", express.urlencoded({ extended: false, limit: "1kb" }), async (req: Request, res: Response) => {
    res.set("Cache-Control", "no-store");
    const session = await sessionOf(opts.db, readCookie(req.headers.cookie, SESSION_COOKIE));
    if (!session) {
      res.redirect(303, "/holder");
      return;
    }
    const { accounts } = await holderOf(session);
    const certificateId = String(req.body?.certificateId ?? "");
    const [row] = isId(certificateId)
      ? await opts.db.select({ owner: certificates.owner, metadataUri: certificates.metadataUri }).from(certificates).where(eq(certificates.id, certificateId))
      : [];
    if (!row || !accounts.includes(row.owner)) {
      sendError(req, res, 404, "no certificate of yours has this id", "NOT_FOUND");
      return;
    }
    try {
      const base = publicBase(req, opts.publicUrl);
      const offer = await createCredentialOffer(
        { db: opts.db, custody: opts.custody },
        { certificateId, base, offeredBy: session.kind === "wallet" ? `holder:${session.address}` : `holder-email:${session.holderKey}`, txCode: true, maxTtlMinutes: OFFER_LIMITS.holderMaxTtlMinutes },
      );
      const result = await opts.verifier.verifyId(certificateId, {});
      const reader = readerOf(req, res);
      res
        .type("html")
        .send(renderOfferPage(reader, { title: localizedText(reader, result.certificate.title ?? reader.t("verify.defaultTitle")), uri: offer.uri, qr: await qrCode(offer.uri, reader.t("holder.offer.qrLabel")), txCode: offer.txCode, expiresAt: offer.expiresAt }));
    } catch (err) {
      if (!(err instanceof OperationError)) throw err;
      sendError(req, res, 409, err.message, err.code);
    }
  });

  // A holder signed in by e-mail claims everything to the wallet that signed the SIWE message.
  router.post("/holder/claim", json, async (req: Request, res: Response) => {
    const session = await sessionOf(opts.db, readCookie(req.headers.cookie, SESSION_COOKIE));
    if (session?.kind !== "email") {
      res.status(401).json({ error: { code: "UNAUTHENTICATED", message: "sign in with your e-mail address first" } });
      return;
    }
    try {
      const claimed = await opts.db.transaction(async (tx) => {
        const wallet = await proveWallet(tx as unknown as Database, { nonce: String(req.body?.nonce ?? ""), signature: String(req.body?.signature ?? "") });
        return claimAllCustody(tx as unknown as Database, { holderKey: session.holderKey, wallet });
      });
      res.json({
        moving: claimed.operations.length,
        // Items expected in custody, one release per edition: they follow the certificates to the wallet.
        collectibles: claimed.releases.reduce((n, r) => n + r.total, 0),
        custodialAddresses: claimed.holders.map((h) => h.custodialAddress),
        done: readerOf(req, res).t("holder.claim.done", { count: claimed.operations.length, items: claimed.releases.reduce((n, r) => n + r.total, 0) }),
      });
    } catch (err) {
      if (err instanceof SignInError) {
        res.status(401).json({ error: { code: "UNAUTHENTICATED", message: err.message } });
        return;
      }
      if (!(err instanceof OperationError)) throw err;
      res.status(409).json({ error: { code: err.code, message: err.message } });
    }
  });

  const cookieOf = (req: Request, res: Response, token: string, expires: Date) =>
    res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: "lax", secure: publicBase(req, opts.publicUrl).startsWith("https:"), path: "/", expires });

  router.post("/holder/email/code", json, async (req: Request, res: Response) => {
    try {
      const deps = { db: opts.db, custody: opts.custody, mailer: opts.mailer, logger: opts.logger, policy: opts.emailCodes, signInUrl: `${publicBase(req, opts.publicUrl)}/holder` };
      const locale = readerOf(req, res).locale;
      const { expiresAt } = await requestEmailCode(deps, { email: String(req.body?.email ?? ""), client: req.ip ?? req.socket.remoteAddress ?? "unknown", locale });
      res.json({ expiresAt: expiresAt.toISOString() });
    } catch (err) {
      if (!(err instanceof OperationError)) throw err;
      const status = err.code === "RATE_LIMITED" ? 429 : err.code === "FORBIDDEN" ? 404 : 400;
      if (err.code === "RATE_LIMITED") res.set("Retry-After", String(err.details?.retryAfterSeconds ?? 60));
      res.status(status).json({ error: { code: err.code, message: err.message } });
    }
  });

  router.post("/holder/email/sign-in", json, async (req: Request, res: Response) => {
    try {
      const { email, holderKey } = await verifyEmailCode({ db: opts.db, custody: opts.custody, policy: opts.emailCodes }, { email: String(req.body?.email ?? ""), code: String(req.body?.code ?? "") });
      const session = await openEmailSession(opts.db, opts.custody.keyring(), { email, holderKey });
      cookieOf(req, res, session.token, session.expiresAt);
      res.json({ email });
    } catch (err) {
      if (!(err instanceof EmailCodeError)) throw err;
      res.status(401).json({ error: { code: "UNAUTHENTICATED", message: err.message } });
    }
  });

  /** Undefined when the chain could not be read: the page says so rather than showing an empty list. */
  async function heldCollectibles(accounts: string[]): Promise<HeldItem[] | undefined> {
    const c = opts.collectibles;
    if (!c?.provider || !accounts.length) return [];
    const provider = c.provider;
    return editionsContractsOn(opts.db, opts.chainId, c.contracts)
      .then(async (contracts) =>
        contracts.length ? (await Promise.all(accounts.map((a) => readHoldings({ provider, ipfs: c.ipfs }, contracts, a, MAX_LISTED)))).flat().slice(0, MAX_LISTED) : [],
      )
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
      cookieOf(req, res, session.token, session.expiresAt);
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
