import { Contract, isCallException, ZeroAddress, type Provider } from "ethers";
import { OnChainStatus, RevocationReason } from "../chain/certificate-registry.ts";
import { ChainUnavailableError } from "./errors.ts";
import type { ChainFacts, ChainReference } from "./types.ts";

/**
 * The registry's published interface, written out rather than loaded from build artifacts: a verifier should
 * depend on what the contract promises, and run where nothing has been compiled.
 */
const REGISTRY_ABI = [
  "function status(uint256 tokenId) view returns (uint8)",
  "function certificate(uint256 tokenId) view returns (tuple(bytes32 digest, uint64 issuedAt, uint64 validUntil, bool revoked, uint8 revocationReason))",
  "function tokenOfDocument(bytes32 digest) view returns (uint256)",
  "function tokenURI(uint256 tokenId) view returns (string)",
  "function ownerOf(uint256 tokenId) view returns (address)",
  "event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)",
];

/** A JSON-RPC endpoint for each chain the verifier may be asked about. */
export type ChainProviders = (chainId: number) => Provider | undefined;

export interface OnChainCertificate {
  /** `UNKNOWN` (never issued) leaves every other field but the reference absent. */
  facts: ChainFacts & { status: OnChainStatus };
}

/** Reads what the registry says about one token; every fact comes from the chain, none from Hallmark's database. */
export async function readCertificate(
  providers: ChainProviders,
  ref: ChainReference,
  opts: { fromBlock?: number } = {},
): Promise<OnChainCertificate> {
  const registry = await registryAt(providers, ref.chainId, ref.contract);
  const facts: ChainFacts = { chainId: ref.chainId, contract: ref.contract, tokenId: ref.tokenId.toString() };
  const status = OnChainStatus[Number(await call(() => registry.status(ref.tokenId)))] ?? "UNKNOWN";
  if (status === "UNKNOWN") return { facts: { ...facts, status } };

  const [record, uri, owner, issued] = await Promise.all([
    call(() => registry.certificate(ref.tokenId)),
    // A burned token has a record and a status but no owner or URI: those reads revert, and are left blank.
    orUndefinedOnRevert(call(() => registry.tokenURI(ref.tokenId))),
    orUndefinedOnRevert(call(() => registry.ownerOf(ref.tokenId))),
    // The issuing transaction is a convenience for people following the link to an explorer; its absence
    // (a node that prunes logs) changes no verdict.
    call(() => registry.queryFilter(registry.filters.Transfer!(ZeroAddress, null, ref.tokenId), opts.fromBlock ?? 0)).catch(() => []),
  ]);
  const event = issued[0];
  return {
    facts: {
      ...facts,
      status,
      owner: owner as string | undefined,
      metadataUri: uri as string | undefined,
      digest: record.digest as string,
      issuedAt: new Date(Number(record.issuedAt) * 1000).toISOString(),
      validUntil: record.validUntil ? new Date(Number(record.validUntil) * 1000).toISOString() : undefined,
      revocationReason: record.revoked ? RevocationReason[Number(record.revocationReason)] : undefined,
      txHash: event?.transactionHash,
      blockNumber: event?.blockNumber,
    },
  };
}

/**
 * The certificate of a document (0x-hex sha-256): the token whose id is the digest, or the one a correction gave
 * it; undefined when the registry has no certificate with this document.
 */
export async function tokenOfDocument(providers: ChainProviders, chainId: number, contract: string, digest: string): Promise<bigint | undefined> {
  const registry = await registryAt(providers, chainId, contract);
  const tokenId = (await call(() => registry.tokenOfDocument(digest))) as bigint;
  return tokenId === 0n ? undefined : tokenId;
}

/** No contract at the address: a definite answer from the chain, unlike an unreachable node. */
export class RegistryMissingError extends Error {
  override name = "RegistryMissingError";
}

async function registryAt(providers: ChainProviders, chainId: number, address: string): Promise<Contract> {
  const provider = providers(chainId);
  if (!provider) throw new ChainUnavailableError(`no JSON-RPC endpoint is configured for chain ${chainId}`);
  const code = await call(() => provider.getCode(address));
  if (code === "0x") throw new RegistryMissingError(`there is no contract at ${address} on chain ${chainId}`);
  return new Contract(address, REGISTRY_ABI, provider);
}

async function orUndefinedOnRevert<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (isCallException(err)) return undefined;
    throw err;
  }
}

/** A revert is the contract's answer; anything else (refused, timed out, bad gateway) means the chain was not reached. */
export async function call<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isCallException(err)) throw err;
    throw new ChainUnavailableError(`the chain did not answer: ${(err as Error).message?.split("\n")[0] ?? String(err)}`, { cause: err });
  }
}
