import { getAddress, getCreateAddress, Interface, ZeroAddress, type Provider } from "ethers";
import { loadArtifact } from "./artifacts.ts";

/**
 * Contract creation as data. A creation is one transaction with no `to` whose data is the contract's creation
 * code: the compiled bytecode followed by its ABI-encoded constructor arguments. Built here, it goes through the
 * nonce-managed sender like any call (`sendOperation` with `to: null`), so it is stored signed, re-broadcast and
 * never re-signed, and a crash mid-deployment leaves one contract.
 *
 * Every constructor leaves its contract fully set up (issuer roles, issuer registry link, voucher signer), so a
 * deployment is exactly one transaction.
 */

export type CreatableContract = "CertificateRegistry" | "CertificateAnchor" | "CollectibleEditions" | "IssuerRegistry";

/** The creation code of `contract` with constructor `args` (in the constructor's order). */
export function creationCode(contract: CreatableContract, args: readonly unknown[]): string {
  const { abi, bytecode } = loadArtifact(contract);
  const encoded = new Interface(abi).encodeDeploy(args);
  return bytecode + encoded.slice(2);
}

/**
 * `CertificateRegistry(name, symbol, admin, issuers, issuerRegistry, contractURI)`; no issuer registry links none (it
 * can be linked later, once); `contractURIBase` (see {@link contractMetadataBase}) makes `contractURI()` name this
 * contract's own document, none leaves it empty until the admin sets one.
 */
export function certificateRegistryCreation(params: {
  name: string;
  symbol: string;
  admin: string;
  issuers: readonly string[];
  issuerRegistry?: string;
  contractURIBase?: string;
}): string {
  requireIssuers(params.issuers);
  return creationCode("CertificateRegistry", [
    params.name,
    params.symbol,
    params.admin,
    [...params.issuers],
    params.issuerRegistry ?? ZeroAddress,
    requireBase(params.contractURIBase),
  ]);
}

/** `CertificateAnchor(name, admin, issuers, issuerRegistry)`; no issuer registry links none. */
export function certificateAnchorCreation(params: { name: string; admin: string; issuers: readonly string[]; issuerRegistry?: string }): string {
  requireIssuers(params.issuers);
  return creationCode("CertificateAnchor", [params.name, params.admin, [...params.issuers], params.issuerRegistry ?? ZeroAddress]);
}

/** `CollectibleEditions(name, symbol, admin, issuers, voucherSigner, contractURI)`; no voucher signer grants none; `contractURIBase` as for a registry. */
export function collectibleEditionsCreation(params: {
  name: string;
  symbol: string;
  admin: string;
  issuers: readonly string[];
  voucherSigner?: string;
  contractURIBase?: string;
}): string {
  requireIssuers(params.issuers);
  return creationCode("CollectibleEditions", [
    params.name,
    params.symbol,
    params.admin,
    [...params.issuers],
    params.voucherSigner ?? ZeroAddress,
    requireBase(params.contractURIBase),
  ]);
}

/**
 * The ERC-7572 base a contract is created with on `chainId`: `<publicUrl>/contracts/<chainId>/`. The contract appends
 * its own address and `/contract.json` when read, so the creation needs no second transaction to name a document
 * its address was unknown for. Undefined without a public URL: the contract then has no `contractURI()` until its
 * admin sets one.
 */
export function contractMetadataBase(publicUrl: string | undefined, chainId: number): string | undefined {
  if (!publicUrl) return undefined;
  return `${publicUrl.replace(/\/+$/, "")}/contracts/${chainId}/`;
}

/** `IssuerRegistry(adminDelay, admin, operator)`; `adminDelay` in seconds, 2 days by default. */
export function issuerRegistryCreation(params: { admin: string; operator: string; adminDelay?: number }): string {
  return creationCode("IssuerRegistry", [params.adminDelay ?? 2 * 24 * 3600, params.admin, params.operator]);
}

/**
 * The address a creation signed by `signer` with `nonce` gets. Only meaningful for the transaction that was
 * mined: a creation re-sent under another nonce or by another key lands elsewhere, so record a contract with
 * {@link contractOf} (the mined transaction), not with this on the first transaction signed.
 */
export function createdAddress(signer: string, nonce: number): string {
  return getCreateAddress({ from: signer, nonce });
}

/** What {@link contractOf} needs of a stored transaction: a `chain_txs` row (`ChainTx`) is one. */
export interface CreationTx {
  txHash: string;
  signer: string;
  nonce: number;
  to: string | null;
}

/**
 * The contract the mined creation `tx` made, from its receipt: its address and block. Undefined while the
 * transaction is not mined; throws when it is not a creation or when it was mined but reverted (no contract).
 */
export async function contractOf(provider: Provider, tx: CreationTx): Promise<{ address: string; blockNumber: number } | undefined> {
  if (tx.to !== null) throw new Error(`transaction ${tx.txHash} is a call to ${tx.to}, not a contract creation`);
  const receipt = await provider.getTransactionReceipt(tx.txHash);
  if (!receipt) return undefined;
  if (receipt.status !== 1) throw new CreationRevertedError(tx.txHash);
  // The receipt's own answer; the formula gives the same for a mined creation and covers nodes that omit it.
  const address = receipt.contractAddress ? getAddress(receipt.contractAddress) : createdAddress(tx.signer, tx.nonce);
  return { address, blockNumber: receipt.blockNumber };
}

/** A creation was mined but its constructor reverted: no contract exists at its address. */
export class CreationRevertedError extends Error {
  readonly txHash: string;
  constructor(txHash: string) {
    super(`contract creation ${txHash} reverted`);
    this.txHash = txHash;
  }
}

function requireBase(base: string | undefined): string {
  // A base without its trailing slash would be returned as is, naming no contract's document.
  if (base && !base.endsWith("/")) throw new Error(`a contract URI base ends in "/": ${base}`);
  return base ?? "";
}

function requireIssuers(issuers: readonly string[]): void {
  // The constructors revert on these too; failing here costs no estimate and says which argument is wrong.
  if (!issuers.length) throw new Error("a contract needs at least one issuer key");
  for (const issuer of issuers) if (getAddress(issuer) === ZeroAddress) throw new Error("the zero address cannot be an issuer");
}
