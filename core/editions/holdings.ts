import type { Localizable } from "../i18n/language-map.ts";
import { Contract, getAddress, isCallException, zeroPadValue, type Provider } from "ethers";
import { COLLECTIBLE_EDITIONS_ABI, TRANSFER_TOPIC } from "./abi.ts";
import { onChainPolicy, type OnChainPolicy } from "./transfer-policy.ts";
import { cidOfIpfsUri } from "./metadata.ts";
import { fetchEditionMetadata } from "./metadata.ts";
import type { IpfsStore } from "../ipfs/index.ts";

/** One collectible an account holds now, as the chain says. */
export interface HeldItem {
  contract: string;
  tokenId: bigint;
  editionId: bigint;
  serial: number;
  maxSupply: number;
  /** The metadata's name (a string or a language map) when it could be read, else the name on chain. */
  editionName: Localizable;
  /** CID of the edition's lead image, when its metadata could be read. */
  imageCid?: string;
  imageLabel?: Localizable;
  /** The edition's transfer policy (what a move of the item can be). */
  policy: OnChainPolicy;
  /** The block the contract's logs are read from (its deploy block when known, else 0). */
  fromBlock: number;
}

/** An editions contract, by address, or with the block it was deployed in (its logs start there). */
export type EditionsContractRef = string | { address: string; fromBlock?: number };


/**
 * The items of the given editions contracts that `holder` holds now: every token ever transferred to it (one log
 * query per contract), kept when `ownerOf` still names it (a gift may have moved it on), with its edition's name,
 * serial and lead image. Nothing comes from Hallmark's database.
 */
export async function readHoldings(deps: { provider: Provider; ipfs: IpfsStore }, contracts: readonly EditionsContractRef[], holder: string, limit = 50): Promise<HeldItem[]> {
  const owner = getAddress(holder);
  const refs = contracts.map((c) => ({ address: getAddress(typeof c === "string" ? c : c.address), fromBlock: typeof c === "string" ? 0 : (c.fromBlock ?? 0) }));
  if (!refs.length) return [];
  // One log query for every contract at once (nodes take a list of addresses): most hold nothing for this account.
  const logs = await deps.provider.getLogs({
    address: refs.map((r) => r.address),
    topics: [TRANSFER_TOPIC, null, zeroPadValue(owner, 32)],
    fromBlock: Math.min(...refs.map((r) => r.fromBlock)),
  });
  const tokensOf = new Map<string, Set<bigint>>();
  for (const log of logs) {
    const address = getAddress(log.address);
    if (log.blockNumber < (refs.find((r) => r.address === address)?.fromBlock ?? 0)) continue;
    tokensOf.set(address, (tokensOf.get(address) ?? new Set()).add(BigInt(log.topics[3]!)));
  }
  // The contracts, and their tokens, are read side by side: one round trip's wait for the lot rather than two for each.
  const perContract = await Promise.all(
    refs
      .filter((r) => tokensOf.has(r.address))
      .map(async ({ address, fromBlock }) => {
        const editions = new Contract(address, COLLECTIBLE_EDITIONS_ABI, deps.provider);
        const editionCache = new Map<bigint, Promise<{ name: Localizable; maxSupply: number; policy: OnChainPolicy; imageCid?: string; imageLabel?: Localizable }>>();
        return Promise.all(
          [...tokensOf.get(address)!].map(async (tokenId): Promise<HeldItem | undefined> => {
            const current = await editions.ownerOf!(tokenId).catch((err: unknown) => (isCallException(err) ? undefined : Promise.reject(err)));
            if (!current || getAddress(current as string) !== owner) return undefined;
            const [editionId, serial] = (await editions.itemOf!(tokenId)) as [bigint, bigint];
            if (!editionCache.has(editionId)) editionCache.set(editionId, describeEdition(deps.ipfs, editions, editionId));
            const edition = await editionCache.get(editionId)!;
            return {
              contract: address,
              tokenId,
              editionId,
              serial: Number(serial),
              maxSupply: edition.maxSupply,
              editionName: edition.name,
              imageCid: edition.imageCid,
              imageLabel: edition.imageLabel,
              policy: edition.policy,
              fromBlock,
            };
          }),
        );
      }),
  );
  return perContract.flat().filter((item): item is HeldItem => !!item).slice(0, limit);
}

async function describeEdition(ipfs: IpfsStore, editions: Contract, editionId: bigint) {
  const record = (await editions.edition!(editionId)) as { name: string; uri: string; maxSupply: bigint; policy: bigint };
  // The image is a nicety: a holding is listed even when its metadata cannot be read.
  const metadata = await fetchEditionMetadata(ipfs, record.uri).then((m) => m.metadata, () => undefined);
  const lead = metadata?.images[0];
  return {
    name: metadata?.name ?? record.name,
    maxSupply: Number(record.maxSupply),
    policy: onChainPolicy(record.policy),
    imageCid: metadata ? cidOfIpfsUri(metadata.image) : undefined,
    imageLabel: lead?.label,
  };
}
