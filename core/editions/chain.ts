import { Contract, getAddress, isCallException, toBeHex, zeroPadValue, type Log, type Provider } from "ethers";
import { COLLECTIBLE_EDITIONS_ABI, TRANSFER_TOPIC } from "./abi.ts";
import { onChainPolicy, type OnChainPolicy } from "./transfer-policy.ts";
import { askChain, EditionNotFoundError } from "./errors.ts";

export interface EditionItem {
  tokenId: bigint;
  /** 1-based, within the edition. */
  serial: number;
  /** The current holder (every item has one: the contract has no burn). */
  holder: string;
}

/** What the chain says about an edition; nothing here comes from Hallmark's database. */
export interface EditionOnChain {
  contract: string;
  editionId: bigint;
  name: string;
  /** The metadata document's URI, `ipfs://<cid>` for editions Hallmark creates. */
  uri: string;
  maxSupply: number;
  minted: number;
  policy: OnChainPolicy;
  /** Minted items in serial order, each with its current holder. */
  items: EditionItem[];
  /** Block of the `EditionCreated` event, when the node still has the log. */
  createdBlock?: number;
}

/** Token ids per `eth_getLogs` filter (an OR over topic 3): nodes cap the size of a filter. */
/** Token ids a log query filters on at once (topics of one query). */
export const TOKENS_PER_QUERY = 200;

/**
 * Reads an edition from the contract: `edition(id)` for its record, `ItemMinted` logs for its items' token ids and
 * serials, and `Transfer` logs of those tokens for their current holders (two or three log queries whatever the
 * edition's size, where `ownerOf` would be one call an item).
 */
export async function readEditionFromChain(provider: Provider, contract: string, editionId: bigint): Promise<EditionOnChain> {
  const address = getAddress(contract);
  const code = await askChain(() => provider.getCode(address));
  if (code === "0x") throw new EditionNotFoundError(`there is no contract at ${address}`);
  const editions = new Contract(address, COLLECTIBLE_EDITIONS_ABI, provider);
  let record: { name: string; uri: string; maxSupply: bigint; minted: bigint; policy: bigint };
  try {
    record = await askChain(() => editions.edition!(editionId));
  } catch (err) {
    // The contract's own answer: no such edition (or not an editions contract at all).
    if (isCallException(err)) throw new EditionNotFoundError(`edition ${editionId} does not exist at ${address}`, { cause: err });
    throw err;
  }

  const created = await askChain(() => editions.queryFilter(editions.filters.EditionCreated!(editionId), 0));
  const fromBlock = created[0]?.blockNumber ?? 0;
  const minted = await askChain(() => editions.queryFilter(editions.filters.ItemMinted!(editionId), fromBlock));
  const items = new Map<bigint, EditionItem>();
  for (const log of minted) {
    const { args } = editions.interface.parseLog(log)!;
    items.set(args.tokenId as bigint, { tokenId: args.tokenId as bigint, serial: Number(args.serial), holder: getAddress(args.holder as string) });
  }

  // Holders move only by Transfer (gifts after lockup, issuer recovery): the latest Transfer of each token names its holder.
  const tokenIds = [...items.keys()];
  for (let i = 0; i < tokenIds.length; i += TOKENS_PER_QUERY) {
    const topics = tokenIds.slice(i, i + TOKENS_PER_QUERY).map((t) => zeroPadValue(toBeHex(t), 32));
    const logs: Log[] = await askChain(() => provider.getLogs({ address, fromBlock, toBlock: "latest", topics: [TRANSFER_TOPIC, null, null, topics] }));
    logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    for (const log of logs) {
      const item = items.get(BigInt(log.topics[3]!));
      if (item) item.holder = getAddress(`0x${log.topics[2]!.slice(26)}`);
    }
  }

  return {
    contract: address,
    editionId,
    name: record.name,
    uri: record.uri,
    maxSupply: Number(record.maxSupply),
    minted: Number(record.minted),
    policy: onChainPolicy(record.policy),
    items: [...items.values()].sort((a, b) => a.serial - b.serial),
    createdBlock: created[0]?.blockNumber,
  };
}

/** A revert is the contract's answer; anything else (refused, timed out, bad gateway) means the chain was not reached. */

/** An edition as its creation announced it: enough to list an institution's editions (a IIIF Collection). */
export interface EditionListing {
  editionId: bigint;
  name: string;
  maxSupply: number;
}

/**
 * Every edition of an editions contract, in creation order, from its `EditionCreated` events; `name()` is the
 * contract's own. EditionNotFoundError when there is no contract at the address.
 */
export async function listEditionsFromChain(provider: Provider, contract: string): Promise<{ contract: string; name: string; editions: EditionListing[] }> {
  const address = getAddress(contract);
  const code = await askChain(() => provider.getCode(address));
  if (code === "0x") throw new EditionNotFoundError(`there is no contract at ${address}`);
  const editions = new Contract(address, COLLECTIBLE_EDITIONS_ABI, provider);
  let name: string;
  try {
    name = await askChain(() => editions.name!());
  } catch (err) {
    if (isCallException(err)) throw new EditionNotFoundError(`${address} is not an editions contract`, { cause: err });
    throw err;
  }
  const created = await askChain(() => editions.queryFilter(editions.filters.EditionCreated!(), 0));
  const listed = created.map((log) => {
    const { args } = editions.interface.parseLog(log)!;
    return { editionId: args.editionId as bigint, name: args.name as string, maxSupply: Number(args.maxSupply) };
  });
  return { contract: address, name, editions: listed.sort((a, b) => (a.editionId < b.editionId ? -1 : a.editionId > b.editionId ? 1 : 0)) };
}
