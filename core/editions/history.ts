import { Contract, getAddress, id, isCallException, toBeHex, zeroPadValue, type Log, type Provider } from "ethers";
import { COLLECTIBLE_EDITIONS_ABI, TRANSFER_TOPIC } from "./abi.ts";
import { onChainPolicy, type OnChainPolicy } from "./transfer-policy.ts";
import { TOKENS_PER_QUERY } from "./chain.ts";
import { askChain, ChainReadError } from "./errors.ts";
import type { HeldItem } from "./holdings.ts";

/**
 * What can happen to a collectible, as the editions contract's events say:
 * - MINTED: `ItemMinted` (an airdrop, including a claim code Hallmark redeemed for the holder);
 * - CLAIMED: `ItemMinted` with `VoucherRedeemed` for the same token in a transaction the holder sent (the holder
 *   claimed on chain with a voucher);
 * - GIFTED: a `Transfer` between two accounts in a `GiftAfterLockup` edition, which only the holder can make;
 * - MOVED_BY_ISSUER: a `Transfer` between two accounts in an `IssuerMediated` edition, which only `issuerTransfer`
 *   can make (recovery). A `Locked` edition's items never move (but for a release). An edition's policy never changes;
 * - RELEASED: a `Transfer` with `CustodyReleased` for the same token in the same transaction: an item held in custody
 *   for a holder without a wallet moved to the wallet they claimed to, whatever the policy (neither gift nor recovery).
 */
export const COLLECTIBLE_EVENT_KINDS = ["MINTED", "CLAIMED", "GIFTED", "MOVED_BY_ISSUER", "RELEASED"] as const;
export type CollectibleEventKind = (typeof COLLECTIBLE_EVENT_KINDS)[number];

export interface CollectibleEvent {
  kind: CollectibleEventKind;
  /** The previous holder; null for a mint. */
  from: string | null;
  to: string;
  /** The block's timestamp. */
  at: Date;
  txHash: string;
  blockNumber: number;
  logIndex: number;
}

/** One item of an edition as the chain says now. */
export interface CollectibleOnChain extends Pick<HeldItem, "contract" | "tokenId" | "editionId" | "serial" | "maxSupply" | "editionName" | "policy"> {
  /** `ownerOf` now. */
  holder: string;
}

/** Which token's history to read, and what classifies its transfers. */
export interface HistoryRequest {
  tokenId: bigint;
  policy: OnChainPolicy;
}

const ITEM_MINTED_TOPIC = id("ItemMinted(uint256,uint256,address,uint32)");
const VOUCHER_REDEEMED_TOPIC = id("VoucherRedeemed(bytes32,uint256,address)");
const CUSTODY_RELEASED_TOPIC = id("CustodyReleased(uint256,address,address)");

const tokenTopic = (tokenId: bigint) => zeroPadValue(toBeHex(tokenId), 32);
const addressOf = (topic: string) => getAddress(`0x${topic.slice(26)}`);

/**
 * Reads an item from its contract (`itemOf`, `edition`, `ownerOf`: plain `eth_call`s); undefined when there is no
 * contract at the address or the token does not exist (the contract reverts).
 */
export async function readCollectible(provider: Provider, contract: string, tokenId: bigint): Promise<CollectibleOnChain | undefined> {
  const address = getAddress(contract);
  if ((await askChain(() => provider.getCode(address))) === "0x") return undefined;
  const editions = new Contract(address, COLLECTIBLE_EDITIONS_ABI, provider);
  const item = await askChain(() => editions.itemOf!(tokenId) as Promise<[bigint, bigint]>).catch((err: unknown) => (isCallException(err) ? undefined : Promise.reject(err)));
  if (!item) return undefined;
  const [editionId, serial] = item;
  const [record, holder] = await Promise.all([
    askChain(() => editions.edition!(editionId) as Promise<{ name: string; maxSupply: bigint; policy: bigint }>),
    askChain(() => editions.ownerOf!(tokenId) as Promise<string>),
  ]);
  return {
    contract: address,
    tokenId,
    editionId,
    serial: Number(serial),
    maxSupply: Number(record.maxSupply),
    editionName: record.name,
    policy: onChainPolicy(record.policy),
    holder: getAddress(holder),
  };
}

/**
 * The token id of an edition's item by serial, from the edition's `ItemMinted` logs (serials are not indexed, so one
 * log query over the edition); undefined when that serial was not minted yet.
 */
export async function tokenIdOfSerial(provider: Provider, contract: string, editionId: bigint, serial: number, fromBlock = 0): Promise<bigint | undefined> {
  const address = getAddress(contract);
  const editions = new Contract(address, COLLECTIBLE_EDITIONS_ABI, provider);
  const logs = await askChain(() => provider.getLogs({ address, fromBlock, toBlock: "latest", topics: [ITEM_MINTED_TOPIC, tokenTopic(editionId)] }));
  for (const log of logs) {
    const { args } = editions.interface.parseLog(log)!;
    if (Number(args.serial) === serial) return args.tokenId as bigint;
  }
  return undefined;
}

/**
 * The histories of items of one contract, oldest first, read with standard `eth_getLogs` filtered by the indexed
 * token id (two log queries per 200 tokens, whatever the number of events) and `eth_getBlockByNumber` for each
 * block's time. Nothing comes from Hallmark's database: the chain is the record.
 */
export async function readCollectibleHistories(
  provider: Provider,
  contract: string,
  requests: readonly HistoryRequest[],
  fromBlock = 0,
): Promise<Map<bigint, CollectibleEvent[]>> {
  const address = getAddress(contract);
  const policyOf = new Map(requests.map((r) => [r.tokenId, r.policy]));
  const tokenIds = [...policyOf.keys()];
  const logs: Log[] = [];
  /** `<tx hash>:<token id>` of each release from custody. */
  const releases = new Set<string>();
  for (let i = 0; i < tokenIds.length; i += TOKENS_PER_QUERY) {
    const topics = tokenIds.slice(i, i + TOKENS_PER_QUERY).map(tokenTopic);
    const [mints, transfers, released] = await Promise.all([
      askChain(() => provider.getLogs({ address, fromBlock, toBlock: "latest", topics: [[ITEM_MINTED_TOPIC, VOUCHER_REDEEMED_TOPIC], null, topics] })),
      askChain(() => provider.getLogs({ address, fromBlock, toBlock: "latest", topics: [TRANSFER_TOPIC, null, null, topics] })),
      askChain(() => provider.getLogs({ address, fromBlock, toBlock: "latest", topics: [CUSTODY_RELEASED_TOPIC, topics] })),
    ]);
    logs.push(...mints, ...transfers);
    for (const log of released) releases.add(`${log.transactionHash}:${BigInt(log.topics[1]!)}`);
  }
  logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);

  const blocks = new Map<number, Promise<Date>>();
  const timeOf = (n: number) => {
    if (!blocks.has(n)) {
      blocks.set(
        n,
        askChain(() => provider.getBlock(n)).then((b) => {
          if (!b) throw new ChainReadError(`the chain did not answer for block ${n}`);
          return new Date(b.timestamp * 1000);
        }),
      );
    }
    return blocks.get(n)!;
  };

  // Claims: a VoucherRedeemed in the same transaction as the token's ItemMinted, sent by the holder, makes the mint a
  // CLAIMED. The issuer redeeming a code for the holder (`redeemFor`) spends the voucher too, but sends it itself.
  const redeemed = logs.filter((l) => l.topics[0] === VOUCHER_REDEEMED_TOPIC);
  const senders = new Map(
    await Promise.all(
      [...new Set(redeemed.map((l) => l.transactionHash))].map(
        async (hash) => [hash, (await askChain(() => provider.getTransaction(hash)))?.from.toLowerCase()] as const,
      ),
    ),
  );
  const claimed = new Set(
    redeemed.filter((l) => senders.get(l.transactionHash) === addressOf(l.topics[3]!).toLowerCase()).map((l) => `${l.transactionHash}:${BigInt(l.topics[2]!)}`),
  );
  const pending: { tokenId: bigint; event: Omit<CollectibleEvent, "at"> }[] = [];
  for (const log of logs) {
    const topic = log.topics[0];
    const base = { txHash: log.transactionHash, blockNumber: log.blockNumber, logIndex: log.index };
    if (topic === ITEM_MINTED_TOPIC) {
      const tokenId = BigInt(log.topics[2]!);
      const kind = claimed.has(`${log.transactionHash}:${tokenId}`) ? "CLAIMED" : "MINTED";
      pending.push({ tokenId, event: { kind, from: null, to: addressOf(log.topics[3]!), ...base } });
    } else if (topic === TRANSFER_TOPIC) {
      const from = addressOf(log.topics[1]!);
      // The mint's own Transfer (from the zero address) is told by its ItemMinted.
      if (BigInt(from) === 0n) continue;
      const tokenId = BigInt(log.topics[3]!);
      const kind = releases.has(`${log.transactionHash}:${tokenId}`) ? "RELEASED" : policyOf.get(tokenId) === "IssuerMediated" ? "MOVED_BY_ISSUER" : "GIFTED";
      pending.push({ tokenId, event: { kind, from, to: addressOf(log.topics[2]!), ...base } });
    }
  }
  const histories = new Map<bigint, CollectibleEvent[]>(tokenIds.map((t) => [t, []]));
  const events = await Promise.all(pending.map(async (p) => ({ tokenId: p.tokenId, event: { ...p.event, at: await timeOf(p.event.blockNumber) } })));
  for (const { tokenId, event } of events) histories.get(tokenId)?.push(event);
  return histories;
}

/** A revert is the contract's answer; anything else (refused, timed out, bad gateway) means the chain was not reached. */
