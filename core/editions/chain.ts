import { Contract, getAddress, isCallException, toBeHex, toQuantity, zeroPadValue, type Provider } from "ethers";
import { checksumAddress } from "../chain/raw-tx.ts";
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

/** Token ids a log query filters on at once (an OR over topic 3): nodes cap the size of a filter. */
export const TOKENS_PER_QUERY = 200;

/**
 * Reads an edition from the contract: `edition(id)` for its record, `ItemMinted` logs for its items' token ids and
 * serials, and the contract's `Transfer` logs for their current holders (a log query per LOG_BLOCK_RANGE blocks since
 * the edition's creation, whatever its size, where `ownerOf` would be one call an item).
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
  const head = await askChain(() => provider.getBlockNumber());
  const items = new Map<bigint, EditionItem>();
  // Decoded from their topics and data rather than through the ABI: an edition has tens of thousands of them.
  const mintedTopics = [editions.interface.getEvent("ItemMinted")!.topicHash, zeroPadValue(toBeHex(editionId), 32)];
  // Holders move only by Transfer (gifts after lockup, issuer recovery): the latest Transfer of each token names its
  // holder. Every Transfer of the contract since the edition's creation, in block ranges: a filter on the edition's
  // token ids would take a query per TOKENS_PER_QUERY items, each scanning the same logs. Asked alongside the mints
  // (the node answers one while the other is read here), unless the record says nothing was minted.
  const transfers = record.minted > 0n ? logsInRanges(provider, { address, topics: [TRANSFER_TOPIC] }, fromBlock, head) : Promise.resolve([]);
  // Not left unhandled while the mints are read: awaited below, where its error is thrown.
  transfers.catch(() => {});
  for (const log of await logsInRanges(provider, { address, topics: mintedTopics }, fromBlock, head)) {
    const tokenId = BigInt(log.topics[2]!);
    items.set(tokenId, { tokenId, serial: Number(BigInt(log.data)), holder: addressOfTopic(log.topics[3]!) });
  }
  const moves = await transfers;
  if (items.size) {
    for (const log of moves) {
      const item = log.topics.length === 4 ? items.get(BigInt(log.topics[3]!)) : undefined;
      // A mint's Transfer names the holder ItemMinted named: only later moves are read.
      if (item && BigInt(log.topics[1]!) !== 0n) item.holder = addressOfTopic(log.topics[2]!);
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

/**
 * Blocks one `eth_getLogs` query of a gallery covers. Nodes cap a query's range (or its results); on a chain where
 * every block is full of one contract's mints, a range this long holds a few hundred thousand logs at most.
 */
export const LOG_BLOCK_RANGE = 10_000;

/** What a gallery reads of a log: its topics and data, in chain order. */
interface RawLog {
  topics: string[];
  data: string;
  blockNumber: number;
  index: number;
}

/**
 * The logs of `filter` from `fromBlock` to `toBlock`, in chain order, one query per LOG_BLOCK_RANGE blocks. Asked as
 * plain JSON-RPC when the provider speaks it: an edition's tens of thousands of logs are read for three fields, not
 * each made a full log object.
 */
async function logsInRanges(provider: Provider, filter: { address: string; topics: (string | null)[] }, fromBlock: number, toBlock: number): Promise<RawLog[]> {
  const rpc = provider as Provider & { send?: (method: string, params: unknown[]) => Promise<unknown> };
  const all: RawLog[] = [];
  for (let from = fromBlock; from <= toBlock; from += LOG_BLOCK_RANGE) {
    const to = Math.min(toBlock, from + LOG_BLOCK_RANGE - 1);
    let logs: RawLog[];
    if (typeof rpc.send === "function") {
      const raw = (await askChain(() => rpc.send!("eth_getLogs", [{ ...filter, fromBlock: toQuantity(from), toBlock: toQuantity(to) }]))) as { topics: string[]; data: string; blockNumber: string; logIndex: string; removed?: boolean }[];
      logs = raw.filter((l) => !l.removed).map((l) => ({ topics: l.topics, data: l.data, blockNumber: Number(l.blockNumber), index: Number(l.logIndex) }));
    } else {
      logs = (await askChain(() => provider.getLogs({ ...filter, fromBlock: from, toBlock: to }))).map((l) => ({ topics: [...l.topics], data: l.data, blockNumber: l.blockNumber, index: l.index }));
    }
    logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    for (const log of logs) all.push(log);
  }
  return all;
}

/** The address an indexed address topic holds, checksummed (natively: a gallery has one an item). */
function addressOfTopic(topic: string): string {
  return checksumAddress(`0x${topic.slice(26)}`);
}

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
