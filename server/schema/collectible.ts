import { plainText } from "../../core/editions/metadata.ts";
import { createContextCache } from "@pothos/core";
import DataLoader from "dataloader";
import { getAddress } from "ethers";
import { GraphQLError } from "graphql";
import { eq } from "drizzle-orm";
import { editionContracts } from "../../core/db/schema.ts";
import {
  COLLECTIBLE_EVENT_KINDS,
  ChainReadError,
  readCollectible,
  readCollectibleHistories,
  policyNamed,
  tokenIdOfSerial,
  type CollectibleEvent,
  type CollectibleOnChain,
  type OnChainPolicy,
} from "../../core/editions/index.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { apiError, invalidInput, notFound } from "../errors.ts";
import { OperationError } from "../../core/operations/errors.ts";
import { parseAddress } from "../../core/operations/validate.ts";
import { EditionRef, EditionTransferPolicyEnum } from "./edition.ts";
import { describedValues } from "./enums.ts";
import { loaders } from "./loaders.ts";

/** An item read from the chain, with the block its contract's logs start at. */
export type CollectibleView = CollectibleOnChain & { fromBlock: number };

/** What a token's history is read with: its contract, the policy that classifies its moves, where logs start. */
export interface HistoryKey {
  contract: string;
  tokenId: bigint;
  policy: OnChainPolicy;
  fromBlock: number;
}

/** A failure to reach the chain: a GraphQL error with its own code, rather than a masked internal error. */
function chainUnavailable(err: unknown): never {
  if (err instanceof ChainReadError) throw new GraphQLError("the chain could not be read right now; try again later", { extensions: { code: "CHAIN_UNAVAILABLE" } });
  throw err;
}

function providerOf(ctx: Context) {
  if (!ctx.chain) throw new GraphQLError("no chain is configured for this server", { extensions: { code: "CHAIN_UNAVAILABLE" } });
  return ctx.chain;
}

/**
 * Per-request: the histories asked for in one request are read together, per contract (two `eth_getLogs` per 200
 * tokens), so a holder's list of 100 collectibles with their histories costs what one does.
 */
const histories = createContextCache(
  (ctx: Context) =>
    new DataLoader<HistoryKey, CollectibleEvent[], string>(
      async (keys) => {
        const provider = providerOf(ctx);
        const byContract = new Map<string, HistoryKey[]>();
        for (const k of keys) byContract.set(k.contract, [...(byContract.get(k.contract) ?? []), k]);
        const found = new Map<string, CollectibleEvent[]>();
        await Promise.all(
          [...byContract].map(async ([contract, wanted]) => {
            const fromBlock = Math.min(...wanted.map((k) => k.fromBlock));
            const read = await readCollectibleHistories(provider, contract, wanted, fromBlock).catch(chainUnavailable);
            for (const [tokenId, events] of read) found.set(`${contract}:${tokenId}`, events);
          }),
        );
        return keys.map((k) => found.get(`${k.contract}:${k.tokenId}`) ?? []);
      },
      { cacheKeyFn: (k) => `${k.contract}:${k.tokenId}` },
    ),
);

/** A collectible's events, oldest first, read from the chain (batched within the request). */
export function collectibleHistory(ctx: Context, key: HistoryKey): Promise<CollectibleEvent[]> {
  return histories(ctx).load({ ...key, contract: getAddress(key.contract) });
}

export const CollectibleEventKindEnum = builder.enumType("CollectibleEventKind", {
  description:
    "What happened to a collectible, as its editions contract's events say (ItemMinted, VoucherRedeemed, Transfer, CustodyReleased). An edition's transfer policy never changes, so it tells a gift from an issuer's move.",
  values: describedValues(COLLECTIBLE_EVENT_KINDS, {
    MINTED: "Minted to its first holder (ItemMinted): an airdrop, or a claim code Hallmark redeemed for the holder.",
    CLAIMED: "Minted to the holder who redeemed a signed voucher on chain themselves (ItemMinted with VoucherRedeemed).",
    GIFTED: "Given away by its holder to another account after the lockup (Transfer in a GIFT_AFTER_LOCKUP edition).",
    MOVED_BY_ISSUER: "Moved by the institution with issuerTransfer, e.g. recovery to a holder's new wallet (Transfer in an ISSUER_MEDIATED edition).",
    RELEASED: "Held in custody for a holder without a wallet, then released to the wallet they claimed to (Transfer with CustodyReleased), whatever the edition's policy: neither a gift nor a recovery.",
  }),
});

export const CollectibleEventRef = builder.objectRef<CollectibleEvent>("CollectibleEvent").implement({
  description: "One event of a collectible's life, read from the chain: what, between whom, when and in which transaction.",
  fields: (t) => ({
    kind: t.field({ type: CollectibleEventKindEnum, description: "What happened.", resolve: (e) => e.kind }),
    from: t.exposeString("from", { nullable: true, description: "The holder before (EIP-55); null for MINTED and CLAIMED." }),
    to: t.exposeString("to", { description: "The holder after (EIP-55)." }),
    at: t.expose("at", { type: "DateTime", description: "The timestamp of the block that includes it." }),
    txHash: t.exposeString("txHash", { description: "Hash of the transaction that did it." }),
    blockNumber: t.exposeInt("blockNumber", { description: "The block that includes the transaction." }),
    logIndex: t.exposeInt("logIndex", { description: "Position of the event's log in its block (orders events of one block)." }),
  }),
});

export const CollectibleRef = builder.objectRef<CollectibleView>("Collectible").implement({
  // Institution data: a key of the institution reads it only with READ, wherever it is reached from.
  authScopes: { readData: true },
  description:
    "One serial-numbered item of an edition, read from its CollectibleEditions contract (never from Hallmark's database): who holds it and everything that happened to it.",
  fields: (t) => ({
    contract: t.exposeString("contract", { description: "The CollectibleEditions contract (EIP-55)." }),
    tokenId: t.string({ description: "ERC-721 token id (uint256, as a decimal string).", resolve: (c) => c.tokenId.toString() }),
    editionId: t.string({ description: "Its edition's id in the contract (decimal), as `Edition.chainEditionId`.", resolve: (c) => c.editionId.toString() }),
    editionName: t.string({ description: "The edition's name (English when its metadata names it in several languages and English is one).", resolve: (i) => plainText(i.editionName) }),
    serial: t.exposeInt("serial", { description: "Its serial number within the edition (#serial / maxSupply)." }),
    maxSupply: t.exposeInt("maxSupply", { description: "How many items the edition has at most." }),
    transferPolicy: t.field({
      type: EditionTransferPolicyEnum,
      description: "How the item may move (its edition's policy, fixed at creation).",
      resolve: (c) => policyNamed(c.policy),
    }),
    holder: t.exposeString("holder", { description: "Who holds it now: the contract's `ownerOf` (EIP-55)." }),
    history: t.field({
      type: [CollectibleEventRef],
      description: "What happened to it, oldest first: MINTED or CLAIMED, then each GIFTED, MOVED_BY_ISSUER or RELEASED, from the contract's logs.",
      resolve: (c, _args, ctx) => collectibleHistory(ctx, c),
    }),
  }),
});

/** A contract address argument: EIP-55 or all one case, else BAD_USER_INPUT naming `field`. */
function addressArg(value: string, field: string): string {
  try {
    return parseAddress(value, field);
  } catch (err) {
    throw err instanceof OperationError ? apiError(err) : err;
  }
}

const MAX_UINT256 = (1n << 256n) - 1n;

/** A token id argument: a decimal uint256, else BAD_USER_INPUT naming `field`. */
function tokenIdArg(value: string, field: string): bigint {
  if (!/^[0-9]{1,78}$/.test(value) || BigInt(value) > MAX_UINT256) throw invalidInput(`${field} must be a token id: a decimal whole number (uint256)`, field);
  return BigInt(value);
}

/** The caller's institution's editions contract, when it has one (made with its first edition). */
async function ownContract(ctx: Context): Promise<{ contractAddress: string; deployBlock: number } | undefined> {
  const [row] = await ctx.db
    .select({ contractAddress: editionContracts.contractAddress, deployBlock: editionContracts.deployBlock })
    .from(editionContracts)
    .where(eq(editionContracts.institutionId, ctx.caller!.institutionId));
  return row;
}

builder.queryField("collectible", (t) =>
  t.field({
    type: CollectibleRef,
    nullable: true,
    description:
      "An item of the caller's institution's editions contract, by contract and token id, read from the chain with its history. NOT_FOUND for a token that does not exist and for any other contract (another institution's items are answered alike); BAD_USER_INPUT for a malformed address or token id.",
    authScopes: { scope: "read" },
    args: {
      contract: t.arg.string({ required: true, description: "The CollectibleEditions contract (`Edition.contractAddress`)." }),
      tokenId: t.arg.string({ required: true, description: "ERC-721 token id (decimal)." }),
    },
    resolve: async (_root, args, ctx) => {
      const contract = addressArg(args.contract, "contract");
      const tokenId = tokenIdArg(args.tokenId, "tokenId");
      const own = await ownContract(ctx);
      if (!own || getAddress(own.contractAddress) !== contract) throw notFound("collectible");
      const item = await readCollectible(providerOf(ctx), contract, tokenId).catch(chainUnavailable);
      if (!item) throw notFound("collectible");
      return { ...item, fromBlock: own.deployBlock };
    },
  }),
);

builder.objectField(EditionRef, "item", (t) =>
  t.field({
    type: CollectibleRef,
    nullable: true,
    description:
      "The edition's item with this serial number, read from the chain with its holder and history; null until it is minted (or while the edition is not CONFIRMED). BAD_USER_INPUT for a serial outside 1..maxSupply.",
    args: { serial: t.arg.int({ required: true, description: "Serial number, 1 to `maxSupply`." }) },
    resolve: async (e, { serial }, ctx) => {
      if (serial < 1 || serial > e.maxSupply) throw invalidInput(`serial must be between 1 and the edition's maxSupply (${e.maxSupply})`, "serial");
      if (e.status !== "CONFIRMED" || !e.contractId || !e.chainEditionId) return null;
      const contract = await loaders(ctx).editionContract.load(e.contractId);
      if (!contract) return null;
      const provider = providerOf(ctx);
      const tokenId = await tokenIdOfSerial(provider, contract.contractAddress, BigInt(e.chainEditionId), serial, contract.deployBlock).catch(chainUnavailable);
      if (tokenId === undefined) return null;
      const item = await readCollectible(provider, contract.contractAddress, tokenId).catch(chainUnavailable);
      return item ? { ...item, fromBlock: contract.deployBlock } : null;
    },
  }),
);
