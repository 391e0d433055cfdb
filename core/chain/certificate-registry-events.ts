import { id, toQuantity, type JsonRpcProvider } from "ethers";
import { checksumAddress } from "./raw-tx.ts";

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

export interface SuspensionEvent {
  kind: "suspended" | "unsuspended";
  address: string;
  tokenId: bigint;
  /** The account that suspended or reinstated it. */
  by: string;
  blockNumber: number;
  transactionHash: string;
}

export interface ReissuedEvent {
  kind: "reissued";
  address: string;
  previousTokenId: bigint;
  tokenId: bigint;
  holder: string;
  blockNumber: number;
  transactionHash: string;
}

export interface MetadataUpdatedEvent {
  kind: "metadataUpdated";
  address: string;
  tokenId: bigint;
  uri: string;
  digest: string;
  blockNumber: number;
  transactionHash: string;
}

/** `RevocationApproved`: the revocation in the same transaction was approved by the members the hash names. */
export interface RevocationApprovedEvent {
  kind: "revocationApproved";
  address: string;
  tokenId: bigint;
  approvalsHash: string;
  blockNumber: number;
  transactionHash: string;
}

export type RegistryEvent = IssuedEvent | RevokedEvent | SuspensionEvent | ReissuedEvent | MetadataUpdatedEvent | RevocationApprovedEvent;

export const CERTIFICATE_ISSUED_TOPIC = id("CertificateIssued(bytes32,uint256,address,string,bytes32,uint64)");
export const CERTIFICATE_REVOKED_TOPIC = id("CertificateRevoked(uint256,uint8,address)");
export const CERTIFICATE_SUSPENDED_TOPIC = id("CertificateSuspended(uint256,address)");
export const CERTIFICATE_UNSUSPENDED_TOPIC = id("CertificateUnsuspended(uint256,address)");
export const CERTIFICATE_REISSUED_TOPIC = id("CertificateReissued(uint256,uint256,address)");
export const CERTIFICATE_METADATA_UPDATED_TOPIC = id("CertificateMetadataUpdated(uint256,string,bytes32)");
export const REVOCATION_APPROVED_TOPIC = id("RevocationApproved(uint256,bytes32)");

const TOPICS = [
  CERTIFICATE_ISSUED_TOPIC,
  CERTIFICATE_REVOKED_TOPIC,
  CERTIFICATE_SUSPENDED_TOPIC,
  CERTIFICATE_UNSUSPENDED_TOPIC,
  CERTIFICATE_REISSUED_TOPIC,
  CERTIFICATE_METADATA_UPDATED_TOPIC,
  REVOCATION_APPROVED_TOPIC,
];

/**
 * The registry's issue, revoke, suspension, reissue and metadata events between two blocks, decoded by their fixed ABI layout. The indexer reads
 * every certificate's event through here; ethers' generic log formatting and `Interface.parseLog` (which hashes
 * each event signature to match a topic) cost more than everything else it does per certificate.
 */
export async function registryEvents(provider: JsonRpcProvider, addresses: string[], fromBlock: number, toBlock: number): Promise<RegistryEvent[]> {
  const logs = (await provider.send("eth_getLogs", [
    { address: addresses, topics: [TOPICS], fromBlock: toQuantity(fromBlock), toBlock: toQuantity(toBlock) },
  ])) as RawLog[];
  return logs.flatMap((log) => {
    const event = decodeRegistryLog(log);
    return event ? [event] : [];
  });
}

/** One log, or undefined for a log that is not a well-formed registry event of the kinds above. */
export function decodeRegistryLog(log: RawLog): RegistryEvent | undefined {
  const [topic, a, b, c] = log.topics;
  const data = log.data.slice(2);
  const common = { address: checksumAddress(log.address), blockNumber: Number(log.blockNumber), transactionHash: log.transactionHash };
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
      holder: checksumAddress(`0x${c.slice(26)}`),
      uri: Buffer.from(data.slice(offset + 64, offset + 64 + length), "hex").toString("utf8"),
      digest: `0x${data.slice(64, 128)}`,
      validUntil: BigInt(`0x${data.slice(128, 192)}`),
    };
  }
  if (topic === CERTIFICATE_REVOKED_TOPIC && a && b && data.length >= 64) {
    return { kind: "revoked", ...common, tokenId: BigInt(a), reason: Number.parseInt(data.slice(0, 64), 16), revokedBy: checksumAddress(`0x${b.slice(26)}`) };
  }
  if (topic === REVOCATION_APPROVED_TOPIC && a && data.length >= 64) {
    return { kind: "revocationApproved", ...common, tokenId: BigInt(a), approvalsHash: `0x${data.slice(0, 64)}` };
  }
  if ((topic === CERTIFICATE_SUSPENDED_TOPIC || topic === CERTIFICATE_UNSUSPENDED_TOPIC) && a && b) {
    const kind = topic === CERTIFICATE_SUSPENDED_TOPIC ? "suspended" : "unsuspended";
    return { kind, ...common, tokenId: BigInt(a), by: checksumAddress(`0x${b.slice(26)}`) };
  }
  if (topic === CERTIFICATE_REISSUED_TOPIC && a && b && c) {
    return { kind: "reissued", ...common, previousTokenId: BigInt(a), tokenId: BigInt(b), holder: checksumAddress(`0x${c.slice(26)}`) };
  }
  if (topic === CERTIFICATE_METADATA_UPDATED_TOPIC && a && data.length >= 64 * 3) {
    // data: offset of uri | digest | (at the offset) uri length, uri bytes
    const offset = Number.parseInt(data.slice(0, 64), 16) * 2;
    const length = Number.parseInt(data.slice(offset, offset + 64), 16) * 2;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset + 64 + length > data.length) return undefined;
    return {
      kind: "metadataUpdated",
      ...common,
      tokenId: BigInt(a),
      uri: Buffer.from(data.slice(offset + 64, offset + 64 + length), "hex").toString("utf8"),
      digest: `0x${data.slice(64, 128)}`,
    };
  }
  return undefined;
}
