import { Contract, isCallException } from "ethers";
import type { ChainProviders } from "./chain-reader.ts";
import { ChainUnavailableError } from "./errors.ts";

/**
 * Vouches that the institution behind a certificate registry was registered and active when it issued. A verifier
 * trusts one issuer registry, named in its configuration: a forger can deploy a certificate registry and link it to
 * an issuer registry of their own, so the one a certificate registry names is never taken on its word.
 */
export interface IssuerRegistry {
  wasActive(query: { chainId: number; contract: string; at: Date }): Promise<IssuerAnswer>;
  /** The institution a contract is bound to now, if any, and whether it is active (what a gallery says of its museum). */
  institutionBehind(query: { chainId: number; contract: string }): Promise<ContractInstitution>;
}

export type ContractInstitution =
  | { bound: false; where: string }
  | { bound: true; active: boolean; entry: NonNullable<IssuerAnswer["entry"]>; where: string };

export interface IssuerAnswer {
  active: boolean;
  reason: string;
  /** The entry that vouched, when active: what its identity proof is looked up by. */
  entry?: { chainId: number; issuerRegistry: string; chainInstitutionId: string; name: string; identity: string };
  /** The reason's parts, so the identity's proof can be told inside it. */
  where?: string;
  when?: string;
}

/** `InstitutionStatus.Active` in contracts/interfaces/IIssuerRegistry.sol. */
const INSTITUTION_ACTIVE = 1;

/** The issuer registry's published interface, written out so a verifier needs no build artifacts. */
const ISSUER_REGISTRY_ABI = [
  "function wasActive(address account, uint48 timestamp) view returns (bool)",
  "function institutionOf(address account) view returns (uint256)",
  "function institution(uint256 institutionId) view returns (tuple(string name, string identity, uint8 status, uint64 registeredAt))",
];

/**
 * The platform operator's on-chain issuer registry (contracts/IssuerRegistry.sol) at `address` on `chainId`
 * (absent: on whichever chain the certificate is, for a command line given only an endpoint).
 */
export function onChainIssuerRegistry(chains: ChainProviders, trusted: { chainId?: number; address: string }): IssuerRegistry {
  // One binding per chain, its code checked once: every verification asks.
  const bound = new Map<number, Contract>();
  const registryOn = async (chainId: number): Promise<{ registry: Contract; where: string }> => {
    const where = `the issuer registry ${trusted.address} on chain ${trusted.chainId ?? chainId}`;
    if (trusted.chainId !== undefined && chainId !== trusted.chainId) throw new Error(`${where} cannot vouch for a registry on chain ${chainId}`);
    let registry = bound.get(chainId);
    if (!registry) {
      const provider = chains(chainId);
      if (!provider) throw new ChainUnavailableError(`no JSON-RPC endpoint is configured for chain ${chainId}`);
      if ((await provider.getCode(trusted.address)) === "0x") throw new Error(`there is no contract at ${trusted.address} on chain ${chainId}`);
      registry = new Contract(trusted.address, ISSUER_REGISTRY_ABI, provider);
      bound.set(chainId, registry);
    }
    return { registry, where };
  };
  return {
    async institutionBehind({ chainId, contract }) {
      const { registry, where } = await registryOn(chainId);
      const institutionId = (await registry.institutionOf(contract)) as bigint;
      if (institutionId === 0n) return { bound: false, where };
      const named = await registry.institution(institutionId);
      const entry = { chainId, issuerRegistry: trusted.address, chainInstitutionId: institutionId.toString(), name: named.name as string, identity: named.identity as string };
      return { bound: true, active: Number(named.status) === INSTITUTION_ACTIVE, entry, where };
    },
    async wasActive({ chainId, contract, at }) {
      const { registry, where } = await registryOn(chainId);
      const seconds = Math.floor(at.getTime() / 1000);
      const [active, institutionId] = (await Promise.all([registry.wasActive(contract, seconds), registry.institutionOf(contract)])) as [boolean, bigint];
      const when = at.toISOString();
      if (!active) {
        return { active, reason: `the registry ${contract} was not bound to an active institution in ${where} when it issued (${when})` };
      }
      const named = institutionId === 0n ? undefined : await registry.institution(institutionId).catch((err: unknown) => (isCallException(err) ? undefined : Promise.reject(err)));
      const who = named ? `"${named.name as string}" (${named.identity as string})` : `an institution`;
      const entry = named ? { chainId, issuerRegistry: trusted.address, chainInstitutionId: institutionId.toString(), name: named.name as string, identity: named.identity as string } : undefined;
      return { active, reason: `issued by ${who}, registered and active in ${where} at issue time (${when})`, entry, where, when };
    },
  };
}
