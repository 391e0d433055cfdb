import { getAddress, id, toQuantity, type JsonRpcProvider } from "ethers";

/** A log as `eth_getLogs` returns it, before any formatting. */
export interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  transactionHash: string;
  logIndex: string;
}

export interface IssuedEvent {
  kind: "issued";
  address: string;
  requestId: string;
  tokenId: bigint;
  holder: string;
  uri: string;
  digest: string;
  validUntil: bigint;
  blockNumber: number;
  transactionHash: string;
}

export interface RevokedEvent {
  kind: "revoked";
  address: string;
  tokenId: bigint;
  reason: number;
  revokedBy: string;
  blockNumber: number;
  transactionHash: string;
}

export const CERTIFICATE_ISSUED_TOPIC = id("CertificateIssued(bytes32,uint256,address,string,bytes32,uint64)");
export const CERTIFICATE_REVOKED_TOPIC = id("CertificateRevoked(uint256,uint8,address)");

/**
 * The registry's issue and revoke events between two blocks, decoded by their fixed ABI layout. The indexer reads
 * every certificate's event through here; ethers' generic log formatting and `Interface.parseLog` (which hashes
 * each event signature to match a topic) cost more than everything else it does per certificate.
 */
export async function registryEvents(provider: JsonRpcProvider, addresses: string[], fromBlock: number, toBlock: number): Promise<(IssuedEvent | RevokedEvent)[]> {
  const logs = (await provider.send("eth_getLogs", [
    { address: addresses, topics: [[CERTIFICATE_ISSUED_TOPIC, CERTIFICATE_REVOKED_TOPIC]], fromBlock: toQuantity(fromBlock), toBlock: toQuantity(toBlock) },
  ])) as RawLog[];
  return logs.flatMap((log) => {
    const event = decodeRegistryLog(log);
    return event ? [event] : [];
  });
}

/** One log, or undefined for a log that is not a well-formed issue or revoke event. */
export function decodeRegistryLog(log: RawLog): IssuedEvent | RevokedEvent | undefined {
  const [topic, a, b, c] = log.topics;
  const data = log.data.slice(2);
  const common = { address: getAddress(log.address), blockNumber: Number(log.blockNumber), transactionHash: log.transactionHash };
  if (topic === CERTIFICATE_ISSUED_TOPIC && a && b && c && data.length >= 64 * 4) {
    // data: offset of uri | digest | validUntil | (at the offset) uri length, uri bytes
    const offset = Number.parseInt(data.slice(0, 64), 16) * 2;
    const length = Number.parseInt(data.slice(offset, offset + 64), 16) * 2;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset + 64 + length > data.length) return undefined;
    return {
      kind: "issued",
      ...common,
      requestId: a,
      tokenId: BigInt(b),
      holder: getAddress(`0x${c.slice(26)}`),
      uri: Buffer.from(data.slice(offset + 64, offset + 64 + length), "hex").toString("utf8"),
      digest: `0x${data.slice(64, 128)}`,
      validUntil: BigInt(`0x${data.slice(128, 192)}`),
    };
  }
  if (topic === CERTIFICATE_REVOKED_TOPIC && a && b && data.length >= 64) {
    return { kind: "revoked", ...common, tokenId: BigInt(a), reason: Number.parseInt(data.slice(0, 64), 16), revokedBy: getAddress(`0x${b.slice(26)}`) };
  }
  return undefined;
}
