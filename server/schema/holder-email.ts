import { inArray } from "drizzle-orm";
import { claimAllCustody } from "../../core/custody/holder-claims.ts";
import type { CustodialHolder } from "../../core/custody/holder-accounts.ts";
import type { Database } from "../../core/db/index.ts";
import { certificateOperations, custodialHolders } from "../../core/db/schema.ts";
import { EmailCodeError, requestEmailCode, verifyEmailCode } from "../../core/holders/email-sign-in.ts";
import { idempotent } from "../../core/operations/idempotency.ts";
import type { CertificateOperation } from "../../core/operations/certificate-operations.ts";
import { HOLDER_TOKEN_PREFIX, openEmailSession, proveWallet, SignInError } from "../auth/holder-auth.ts";
import { builder } from "../builder.ts";
import { matchLocale, negotiateLocale } from "../../core/i18n/locales.ts";
import { OperationError } from "../../core/operations/errors.ts";
import { keyScope } from "../context.ts";
import { ConflictError, IdempotencyConflictError, InvalidInputError, NotAllowedError, withOperationErrors } from "../errors.ts";
import { OperationStatusEnum } from "./enums.ts";
import { CollectibleReleaseRef, releasesByIds } from "./collectible-releases.ts";
import type { ClaimMoves } from "../../core/custody/holder-claims.ts";

const EmailCodeRequestRef = builder.objectRef<{ expiresAt: Date }>("HolderEmailCodeRequest").implement({
  description: "The answer to a sign-in code request: the same whether or not anything was issued to the address.",
  fields: (t) => ({
    expiresAt: t.expose("expiresAt", { type: "DateTime", description: "A code sent now works until then." }),
  }),
});

const EmailSessionRef = builder.objectRef<{ token: string; email: string; expiresAt: Date }>("HolderEmailSession").implement({
  description: "A session of a holder signed in by e-mail: send `Authorization: Bearer <token>` to read `holder`.",
  fields: (t) => ({
    token: t.exposeString("token", { description: "Shown once; starts with `hs_`. Valid until `expiresAt`." }),
    email: t.exposeString("email", { description: "The address signed in (normalized: lower-case, trimmed)." }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", description: "When the session ends." }),
  }),
});

const ClaimOperationRef = builder.objectRef<CertificateOperation>("HolderClaimOperation").implement({
  description: "One certificate moving from custody to the holder's wallet: a recovery (reissue), QUEUED → PINNED → SUBMITTED → CONFIRMED.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The certificate operation (its institution reads it as `certificateOperation`)." }),
    certificateId: t.exposeID("certificateId", { description: "The certificate in custody; it becomes SUPERSEDED by the one reissued to the wallet." }),
    status: t.field({ type: OperationStatusEnum, description: "Where the move stood when the claim was accepted.", resolve: (o) => o.status }),
  }),
});

const ClaimAllPayload = builder.objectRef<{ wallet: string; holders: CustodialHolder[]; created: boolean } & ClaimMoves>("ClaimAllCustodyPayload").implement({
  description: "Result of claimAllCustody.",
  fields: (t) => ({
    created: t.exposeBoolean("created", { description: "False when the idempotency key named an earlier claim: its answer, as the operations stand now." }),
    address: t.exposeString("wallet", { description: "The wallet everything moves to, proven by the holder's signature." }),
    custodialAddresses: t.stringList({ description: "The custodial accounts claimed, one per institution.", resolve: (p) => p.holders.map((h) => h.custodialAddress) }),
    operations: t.field({
      type: [ClaimOperationRef],
      description: "One recovery per certificate held in custody; once CONFIRMED the reissued certificates are the wallet's.",
      resolve: (p) => p.operations,
    }),
    collectibles: t.field({
      type: [CollectibleReleaseRef],
      description: "One release per edition of which collectibles were held in custody; once CONFIRMED the items are the wallet's (`holder { collectibles }`).",
      resolve: (p) => p.releases,
    }),
  }),
});

function refused(err: unknown): never {
  if (err instanceof EmailCodeError || err instanceof SignInError) throw new NotAllowedError("UNAUTHENTICATED", err.message);
  throw err;
}

builder.mutationField("requestHolderEmailCode", (t) =>
  t.field({
    errors: { types: [InvalidInputError, NotAllowedError] },
    type: EmailCodeRequestRef,
    description:
      "Public. Sends a one-time sign-in code to an e-mail address that an institution gave as a holder reference. The answer is the same for every well-formed address, known or not (nothing tells whether anything was issued to it); the code arrives by e-mail, valid for 10 minutes, good for one sign-in and 5 guesses. RATE_LIMITED past 5 requests per address, or HOLDER_EMAIL_CODES_PER_CLIENT (30) per client, in 15 minutes.",
    args: {
      email: t.arg.string({ required: true, description: "The holder's e-mail address." }),
      language: t.arg.string({ description: "The e-mail's language: `en` or `zh-CN` (any `zh` tag). Default: the request's Accept-Language, else English." }),
    },
    resolve: (_root, { email, language }, ctx) =>
      withOperationErrors(async () => {
        if (language != null && !matchLocale(language)) throw new OperationError("BAD_USER_INPUT", "language must be en or zh-CN", "language");
        return requestEmailCode(
          { db: ctx.db, custody: ctx.custody, mailer: ctx.mailer, logger: ctx.logger, policy: ctx.emailCodes, signInUrl: `${ctx.siwe.origin}/holder` },
          { email, client: ctx.client, locale: negotiateLocale({ query: language, acceptLanguage: ctx.acceptLanguage }) },
        );
      }),
  }),
);

builder.mutationField("holderEmailSignIn", (t) =>
  t.field({
    errors: { types: [NotAllowedError] },
    type: EmailSessionRef,
    description:
      "Public. Signs in a holder without a wallet with the code sent to their e-mail address: the code is spent and a session opened, in which `holder` shows what every institution issued to that address. UNAUTHENTICATED for a wrong, expired or used code, alike for every address.",
    args: {
      email: t.arg.string({ required: true, description: "The address the code was sent to." }),
      code: t.arg.string({ required: true, description: "The 6-digit code from the e-mail." }),
    },
    resolve: async (_root, args, ctx) => {
      const { email, holderKey } = await verifyEmailCode({ db: ctx.db, custody: ctx.custody, policy: ctx.emailCodes }, args).catch(refused);
      const session = await openEmailSession(ctx.db, ctx.custody.keyring(), { email, holderKey });
      return { ...session, email, token: `${HOLDER_TOKEN_PREFIX}${session.token}` };
    },
  }),
);

builder.mutationField("claimAllCustody", (t) =>
  t.field({
    errors: { types: [NotAllowedError, ConflictError, IdempotencyConflictError] },
    type: ClaimAllPayload,
    description:
      "For a holder signed in by e-mail: moves everything every institution holds in custody for the address to a wallet of their own, without a claim code. The wallet is proven with Sign-In with Ethereum: `requestHolderSignIn(address)`, sign its message, pass `nonce` and `signature` here. Each certificate is reissued to the wallet (serial, history and links kept), and later issuances to the address go to it. ALREADY_CLAIMED when nothing is left in custody; CONFLICT while a certificate for the holder is still being issued.",
    authScopes: { emailHolder: true },
    args: {
      nonce: t.arg.string({ required: true, description: "From `requestHolderSignIn` for the wallet's address." }),
      signature: t.arg.string({ required: true, description: "The wallet's `personal_sign` signature of that message (0x hex)." }),
      idempotencyKey: t.arg.string({ description: "Your unique key for this claim: a retry with it answers the first claim." }),
    },
    resolve: (_root, { nonce, signature, idempotencyKey }, ctx) =>
      withOperationErrors(async () => {
        const holderKey = ctx.emailHolder!.holderKey;
        const { value, replayed } = await idempotent(
          ctx.db,
          { scope: keyScope(ctx), key: idempotencyKey, operation: "claimAllCustody", request: {} },
          async (tx) => {
            const wallet = await proveWallet(tx as unknown as Database, { nonce, signature }).catch(refused);
            const claimed = await claimAllCustody(tx as unknown as Database, { holderKey, wallet });
            return {
              value: { wallet, ...claimed },
              result: { wallet, holderIds: claimed.holders.map((h) => h.id), operationIds: claimed.operations.map((o) => o.id), releaseIds: claimed.releases.map((r) => r.id) },
            };
          },
          async (result) => {
            const holderIds = result.holderIds as string[];
            const ids = result.operationIds as string[];
            const holders = holderIds.length ? await ctx.db.select().from(custodialHolders).where(inArray(custodialHolders.id, holderIds)) : [];
            const operations = ids.length ? await ctx.db.select().from(certificateOperations).where(inArray(certificateOperations.id, ids)) : [];
            const releases = await releasesByIds(ctx.db, (result.releaseIds as string[] | undefined) ?? []);
            return { wallet: String(result.wallet), holders, operations: ids.map((id) => operations.find((o) => o.id === id)!), releases };
          },
        );
        return { ...value, created: !replayed };
      }),
  }),
);

