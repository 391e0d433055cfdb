import { desc, eq, inArray, sql } from "drizzle-orm";
import { accountsOfHolderKey, type CustodialHolder } from "../../core/custody/holder-accounts.ts";
import { plainText } from "../../core/editions/metadata.ts";
import { certificateStatusAt } from "../../core/certificate-status.ts";
import { certificates, collections, institutions } from "../../core/db/schema.ts";
import { editionsContractsOn, readHoldings, type HeldItem } from "../../core/editions/index.ts";
import { createSignInMessage, HOLDER_TOKEN_PREFIX, signIn, SignInError } from "../auth/holder-auth.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { CertificateStatusEnum } from "./enums.ts";
import { collectibleHistory, CollectibleEventRef } from "./collectible.ts";
import { NotAllowedError, invalidInput } from "../errors.ts";

/** A holder sees at most this many of their certificates and collectibles at once. */
const MAX_HELD = 100;

interface HeldCertificateRow {
  id: string;
  tokenId: string;
  owner: string;
  metadataUri: string;
  status: (typeof certificates.$inferSelect)["status"];
  validUntil: Date | null;
  createdAt: Date;
  chainId: number;
  contract: string;
  collectionName: string;
  institutionName: string;
}

const SignInChallengeRef = builder.objectRef<{ message: string; nonce: string }>("HolderSignInChallenge").implement({
  description: "An EIP-4361 (Sign-In with Ethereum) message for the holder's wallet to sign.",
  fields: (t) => ({
    message: t.exposeString("message", { description: "The exact text to sign with `personal_sign`; bound to this site, the chain and a single-use nonce, valid for 10 minutes." }),
    nonce: t.exposeString("nonce", { description: "Pass it back to `holderSignIn` with the signature." }),
  }),
});

export const HolderSessionRef = builder.objectRef<{ token: string; address: string; expiresAt: Date }>("HolderSession").implement({
  description: "A holder's session: send `Authorization: Bearer <token>` to read `holder`.",
  fields: (t) => ({
    token: t.exposeString("token", { description: "Shown once; starts with `hs_`. Valid until `expiresAt` or `holderSignOut`." }),
    address: t.exposeString("address", { description: "The account that signed (EIP-55 checksummed)." }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", description: "When the session ends." }),
  }),
});

const HeldCertificateRef = builder.objectRef<HeldCertificateRow>("HeldCertificate").implement({
  description: "A certificate the signed-in holder holds, with the public facts a verifier also sees.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Certificate id; `/verify/<id>` checks it against the chain." }),
    tokenId: t.exposeString("tokenId", { description: "ERC-721 token id (uint256, as a decimal string)." }),
    chainId: t.exposeInt("chainId", { description: "Chain of its registry." }),
    contract: t.exposeString("contract", { description: "Its certificate registry (ERC-721 contract)." }),
    collection: t.exposeString("collectionName", { description: "The collection it belongs to." }),
    issuer: t.exposeString("institutionName", { description: "The institution that issued it." }),
    metadataUri: t.exposeString("metadataUri", { description: "`ipfs://<cid>` of the certificate document." }),
    status: t.field({ type: CertificateStatusEnum, description: "Status as last seen on chain by Hallmark, EXPIRED once `validUntil` is past; `verifyUrl` checks it live.", resolve: (c) => certificateStatusAt(c) }),
    validUntil: t.expose("validUntil", { type: "DateTime", nullable: true, description: "Expiry; null when it never expires." }),
    issuedAt: t.expose("createdAt", { type: "DateTime", description: "When Hallmark recorded its confirmation." }),
    verifyUrl: t.string({ description: "Its public verification page.", resolve: (c, _args, ctx) => `${ctx.siwe.origin}/verify/${c.id}` }),
  }),
});

const HeldCollectibleRef = builder.objectRef<HeldItem>("HeldCollectible").implement({
  description: "A collectible item the signed-in holder holds now, read from its editions contract: shown, never sold.",
  fields: (t) => ({
    contract: t.exposeString("contract", { description: "The CollectibleEditions contract." }),
    tokenId: t.string({ description: "ERC-721 token id (decimal).", resolve: (i) => i.tokenId.toString() }),
    editionId: t.string({ description: "Its edition (decimal).", resolve: (i) => i.editionId.toString() }),
    edition: t.string({ description: "The edition's name (English when its metadata names it in several languages and English is one).", resolve: (i) => plainText(i.editionName) }),
    serial: t.exposeInt("serial", { description: "Its serial number within the edition (#serial / maxSupply)." }),
    maxSupply: t.exposeInt("maxSupply", { description: "How many items the edition has at most." }),
    imageCid: t.exposeString("imageCid", { nullable: true, description: "CID of the edition's lead image (served at `/ipfs/<cid>`)." }),
    galleryUrl: t.string({ description: "The edition's public gallery page.", resolve: (i, _args, ctx) => `${ctx.siwe.origin}/gallery/${i.contract}/${i.editionId}` }),
    history: t.field({
      type: [CollectibleEventRef],
      description: "What happened to the item, oldest first (MINTED or CLAIMED, then each GIFTED, MOVED_BY_ISSUER or RELEASED), read from the contract's logs.",
      resolve: (i, _args, ctx) => collectibleHistory(ctx, i),
    }),
  }),
});

/** The signed-in holder: an account signed in with Ethereum, or a holder signed in by e-mail and their custodial accounts. */
interface HolderRoot {
  address?: string;
  email?: string;
  /** Every account whose items are the holder's: the wallet; or each custodial account and the wallet it was claimed to. */
  accounts: string[];
  custodial: CustodialHolder[];
}

const CustodialAccountRef = builder.objectRef<CustodialHolder>("HolderCustodialAccount").implement({
  description: "One institution's custodial account of a holder signed in by e-mail: where that institution's certificates and collectibles wait for them.",
  fields: (t) => ({
    address: t.exposeString("custodialAddress", { description: "The custodial account (EIP-55), one per institution." }),
    issuer: t.string({
      description: "The institution that holds items here for the holder.",
      resolve: async (h, _args, ctx) => (await ctx.db.select({ name: institutions.name }).from(institutions).where(eq(institutions.id, h.institutionId)))[0]?.name ?? "",
    }),
    claimedAddress: t.exposeString("claimedAddress", { nullable: true, description: "The wallet its items were claimed to; null while they are in custody." }),
  }),
});

const HolderRef = builder.objectRef<HolderRoot>("Holder").implement({
  description: "The signed-in holder and what they hold, across every institution.",
  fields: (t) => ({
    address: t.exposeString("address", { nullable: true, description: "The holder's account (EIP-55 checksummed) when signed in with Ethereum; null for a holder signed in by e-mail." }),
    email: t.exposeString("email", { nullable: true, description: "The e-mail address a holder without a wallet signed in with; null when signed in with Ethereum." }),
    custodialAccounts: t.field({
      type: [CustodialAccountRef],
      description: "For a holder signed in by e-mail: each institution's custodial account of that address (empty when signed in with Ethereum).",
      resolve: (h) => h.custodial,
    }),
    certificates: t.field({
      type: [HeldCertificateRef],
      description: `The certificates issued to this holder, from every institution, newest first (at most ${MAX_HELD}).`,
      resolve: ({ accounts }, _args, ctx) => heldCertificates(ctx, accounts),
    }),
    collectibles: t.field({
      type: [HeldCollectibleRef],
      description: `The collectible items this holder holds now (at most ${MAX_HELD}), read from the chain.`,
      resolve: async ({ accounts }, _args, ctx) => {
        if (!ctx.chain || !accounts.length) return [];
        const contracts = await editionsContractsOn(ctx.db, ctx.siwe.chainId, ctx.collectibleContracts);
        if (!contracts.length) return [];
        const held = await Promise.all(accounts.map((a) => readHoldings({ provider: ctx.chain!, ipfs: ctx.ipfs }, contracts, a, MAX_HELD)));
        return held.flat().slice(0, MAX_HELD);
      },
    }),
  }),
});

/** The holder a request is signed in as. */
export async function holderRootOf(ctx: Context): Promise<HolderRoot> {
  if (ctx.holder) return { address: ctx.holder, accounts: [ctx.holder], custodial: [] };
  const custodial = await accountsOfHolderKey(ctx.db, ctx.emailHolder!.holderKey);
  const accounts = [...new Set(custodial.flatMap((h) => [h.custodialAddress, ...(h.claimedAddress ? [h.claimedAddress] : [])]))];
  return { email: ctx.emailHolder!.email, accounts, custodial };
}

async function heldCertificates(ctx: Context, owners: string[]): Promise<HeldCertificateRow[]> {
  if (!owners.length) return [];
  return ctx.db
    .select({
      id: certificates.id,
      tokenId: certificates.tokenId,
      owner: certificates.owner,
      metadataUri: certificates.metadataUri,
      status: certificates.status,
      validUntil: certificates.validUntil,
      createdAt: certificates.createdAt,
      chainId: collections.chainId,
      // A certificate exists only in a collection whose contract was deployed.
      contract: sql<string>`${collections.contractAddress}`,
      collectionName: collections.name,
      institutionName: institutions.name,
    })
    .from(certificates)
    .innerJoin(collections, eq(collections.id, certificates.collectionId))
    .innerJoin(institutions, eq(institutions.id, certificates.institutionId))
    .where(inArray(certificates.owner, owners))
    .orderBy(desc(certificates.createdAt), desc(certificates.id))
    .limit(MAX_HELD);
}

function signInFailed(err: unknown, code: "BAD_USER_INPUT" | "UNAUTHENTICATED"): never {
  if (err instanceof SignInError) throw code === "BAD_USER_INPUT" ? invalidInput(err.message) : new NotAllowedError(code, err.message);
  throw err;
}

builder.queryField("holder", (t) =>
  t.field({
    type: HolderRef,
    description:
      "The signed-in holder (`Authorization: Bearer hs_…` from `holderSignIn`, with Ethereum, or `holderEmailSignIn`, by e-mail): what they hold from every institution. UNAUTHENTICATED otherwise.",
    authScopes: { holder: true, emailHolder: true },
    resolve: (_root, _args, ctx) => holderRootOf(ctx),
  }),
);

builder.mutationField("requestHolderSignIn", (t) =>
  t.field({
    errors: {},
    type: SignInChallengeRef,
    description:
      "Public. Starts Sign-In with Ethereum (EIP-4361): a message for the holder's wallet to sign. It takes no idempotency key: it changes nothing but a fresh single-use nonce, so asking again is harmless.",
    args: { address: t.arg.string({ required: true, description: "The holder's Ethereum address." }) },
    resolve: (_root, { address }, ctx) =>
      createSignInMessage(ctx.db, { address, origin: ctx.siwe.origin, chainId: ctx.siwe.chainId }).catch((err) => signInFailed(err, "BAD_USER_INPUT")),
  }),
);

builder.mutationField("holderSignIn", (t) =>
  t.field({
    errors: { types: [NotAllowedError] },
    type: HolderSessionRef,
    description:
      "Public. Finishes Sign-In with Ethereum: checks the signature over the issued message, spends its nonce and opens a session. The nonce is this request's single-use key: a repeat is UNAUTHENTICATED; sign in again.",
    args: {
      nonce: t.arg.string({ required: true, description: "From `requestHolderSignIn`." }),
      signature: t.arg.string({ required: true, description: "The wallet's `personal_sign` signature of the message (0x hex)." }),
    },
    resolve: async (_root, args, ctx) => {
      const session = await signIn(ctx.db, args).catch((err) => signInFailed(err, "UNAUTHENTICATED"));
      return { ...session, token: `${HOLDER_TOKEN_PREFIX}${session.token}` };
    },
  }),
);
