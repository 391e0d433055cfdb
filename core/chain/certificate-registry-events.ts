import { id, toQuantity, type JsonRpcProvider } from "ethers";
import { digestOfToken, documentUri } from "./certificate-registry.ts";
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

/**
 * A mint: the ERC-721 `Transfer` from the zero address. The token id is the document digest and the URI derives
 * from it; the request id and validUntil are in the document (and so in the issuance row the digest leads to).
 */
export interface IssuedEvent {
  kind: "issued";
  address: string;
  tokenId: bigint;
  holder: string;
  uri: string;
  digest: string;
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

export const TRANSFER_TOPIC = id("Transfer(address,address,uint256)");
export const CERTIFICATE_REVOKED_TOPIC = id("CertificateRevoked(uint256,uint8,address)");
export const CERTIFICATE_SUSPENDED_TOPIC = id("CertificateSuspended(uint256,address)");
export const CERTIFICATE_UNSUSPENDED_TOPIC = id("CertificateUnsuspended(uint256,address)");
export const CERTIFICATE_REISSUED_TOPIC = id("CertificateReissued(uint256,uint256,address)");
export const CERTIFICATE_METADATA_UPDATED_TOPIC = id("CertificateMetadataUpdated(uint256,bytes32)");
export const REVOCATION_APPROVED_TOPIC = id("RevocationApproved(uint256,bytes32)");

const TOPICS = [
  TRANSFER_TOPIC,
  CERTIFICATE_REVOKED_TOPIC,
  CERTIFICATE_SUSPENDED_TOPIC,
  CERTIFICATE_UNSUSPENDED_TOPIC,
  CERTIFICATE_REISSUED_TOPIC,
  CERTIFICATE_METADATA_UPDATED_TOPIC,
  REVOCATION_APPROVED_TOPIC,
];

/**
 * The registry's mints (`Transfer` from the zero address), revoke, suspension, reissue and metadata events between two blocks, decoded by their fixed ABI layout. The indexer reads
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
  // Mints only: a burn (a Transfer to the zero address) is not indexed, the certificate keeps its last status.
  if (topic === TRANSFER_TOPIC && a && b && c && BigInt(a) === 0n) {
    const tokenId = BigInt(c);
    const digest = digestOfToken(tokenId);
    return { kind: "issued", ...common, tokenId, holder: checksumAddress(`0x${b.slice(26)}`), uri: documentUri(digest), digest };
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
  if (topic === CERTIFICATE_METADATA_UPDATED_TOPIC && a && data.length >= 64) {
    const digest = `0x${data.slice(0, 64)}`;
    return { kind: "metadataUpdated", ...common, tokenId: BigInt(a), uri: documentUri(digest), digest };
  }
  return undefined;
}
