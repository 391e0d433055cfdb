import { Contract, Interface, id, toBeHex, type ContractRunner } from "ethers";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";
import { loadArtifact } from "./artifacts.ts";
import { decodeContractError, type ContractError } from "./contract-errors.ts";

/** Mirrors `ICertificateRegistry.Status`. */
export const OnChainStatus = ["UNKNOWN", "VALID", "SUSPENDED", "REVOKED", "EXPIRED", "SUPERSEDED"] as const;
export type OnChainStatus = (typeof OnChainStatus)[number];

/** Mirrors `ICertificateRegistry.RevocationReason` (RFC 5280 CRLReason order). */
export const RevocationReason = [
  "UNSPECIFIED",
  "KEY_COMPROMISE",
  "CA_COMPROMISE",
  "AFFILIATION_CHANGED",
  "SUPERSEDED",
  "CESSATION_OF_OPERATION",
  "CERTIFICATE_HOLD",
  "UNUSED",
  "REMOVE_FROM_CRL",
  "PRIVILEGE_WITHDRAWN",
  "AA_COMPROMISE",
] as const;
export type RevocationReason = (typeof RevocationReason)[number];

/**
 * One certificate to issue: its document's sha-256 (which is its token id, and whose document names the request
 * id), its holder and its expiry (unix seconds, 0 for none).
 */
export interface IssueRequest {
  digest: string;
  holder: string;
  validUntil: bigint;
}

let registryInterface: Interface | undefined;

/** Built once: an Interface hashes every fragment's selector and topic when constructed. */
export function certificateRegistryInterface(): Interface {
  return (registryInterface ??= new Interface(loadArtifact("CertificateRegistry").abi));
}

export function certificateRegistryAt(address: string, runner: ContractRunner): Contract {
  return new Contract(address, loadArtifact("CertificateRegistry").abi, runner);
}

/** The custom error a failed call or transaction reverted with, decoded against the registry ABI. */
export function decodeRegistryError(err: unknown): ContractError | undefined {
  return decodeContractError(err, certificateRegistryInterface());
}

/** The certificate registry's role ids: `keccak256("<ROLE>_ROLE")`, as the contract declares them. */
export function chainRoleId(role: "ISSUER" | "MINTER" | "PAUSER"): string {
  return id(`${role}_ROLE`);
}

/**
 * Token ids are document digests. The database, URLs and the API write them in decimal (`tokenId.toString()`, up
 * to 78 digits), as they did the counter's small ids; on chain and in documents the digest is 0x-hex.
 */
export function digestOfToken(tokenId: bigint): string {
  return toBeHex(tokenId, 32);
}

/** The token id of a document digest (0x-hex sha-256). */
export function tokenOfDigest(digest: string): bigint {
  return BigInt(digest);
}

/** The CIDv1 (raw codec, sha2-256) of a document digest: what the platform pins it as and what `tokenURI` derives. */
export function documentCid(digest: string): string {
  return CID.createV1(raw.code, Digest.create(0x12, Buffer.from(digest.slice(2), "hex"))).toString();
}

/** The metadata URI `tokenURI` answers for a document digest. */
export function documentUri(digest: string): string {
  return `ipfs://${documentCid(digest)}`;
}

/**
 * A document's `validUntil` (ISO-8601, or none) as the registry stores it: whole unix seconds, 0 for none. The
 * batcher issues with it and the indexer records it from the same document, so the two always agree.
 */
export function validUntilSeconds(validUntil: string | null | undefined): bigint {
  return validUntil ? BigInt(Math.floor(new Date(validUntil).getTime() / 1000)) : 0n;
}
