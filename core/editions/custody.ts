import { Contract, getAddress, zeroPadValue, type Provider } from "ethers";
import { COLLECTIBLE_EDITIONS_ABI, TRANSFER_TOPIC } from "./abi.ts";

/**
 * The items of one edition that `custodian` holds in custody now, as the chain says: every token ever transferred to
 * the account (one log query), kept when it still owns it, the contract still marks it custodial (`inCustody`) and
 * it belongs to the edition. Ascending token ids. Nothing comes from Hallmark's database, so a release computed from
 * it never names an item already released or moved.
 */
export async function itemsInCustody(
  provider: Provider,
  contract: { address: string; fromBlock: number },
  chainEditionId: bigint,
  custodian: string,
): Promise<bigint[]> {
  const owner = getAddress(custodian);
  const logs = await provider.getLogs({ address: contract.address, topics: [TRANSFER_TOPIC, null, zeroPadValue(owner, 32)], fromBlock: contract.fromBlock });
  const editions = new Contract(contract.address, COLLECTIBLE_EDITIONS_ABI, provider);
  const candidates = [...new Set(logs.map((log) => BigInt(log.topics[3]!)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const kept = await Promise.all(
    candidates.map(async (tokenId) => {
      const [current, custodial, item] = await Promise.all([
        editions.ownerOf!(tokenId) as Promise<string>,
        editions.inCustody!(tokenId) as Promise<boolean>,
        editions.itemOf!(tokenId) as Promise<[bigint, bigint]>,
      ]);
      return getAddress(current) === owner && custodial && item[0] === chainEditionId ? tokenId : undefined;
    }),
  );
  return kept.filter((t): t is bigint => t !== undefined);
}
