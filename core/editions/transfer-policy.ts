/**
 * How an edition's items may move: the one definition of the transfer policy. Each policy has Hallmark's name (the
 * database column, the GraphQL enum, a request), the name `ICollectibleEditions.TransferPolicy` gives it (what the
 * chain readers report), its index in that enum (what `createEdition` takes), and the sentence a gallery page shows.
 */

/** Hallmark's names, in the contract's enum order: a policy's index is its position. */
export const TRANSFER_POLICIES = ["LOCKED", "GIFT_AFTER_LOCKUP", "ISSUER_MEDIATED"] as const;
export type TransferPolicy = (typeof TRANSFER_POLICIES)[number];

const POLICY = {
  LOCKED: { onChain: "Locked", shown: "Items never move: each stays with the person it was given to." },
  GIFT_AFTER_LOCKUP: {
    onChain: "GiftAfterLockup",
    shown: "A holder may give an item away after a waiting period, a limited number of times; it is never sold.",
  },
  ISSUER_MEDIATED: { onChain: "IssuerMediated", shown: "Only the museum moves items, to recover them for their holders." },
} as const satisfies Record<TransferPolicy, { onChain: string; shown: string }>;

/** `ICollectibleEditions.TransferPolicy`'s member names. */
export type OnChainPolicy = (typeof POLICY)[TransferPolicy]["onChain"];
/** The contract's member names, in its enum order. */
export const ON_CHAIN_POLICIES: readonly OnChainPolicy[] = TRANSFER_POLICIES.map((p) => POLICY[p].onChain);

function policyOf(policy: TransferPolicy | OnChainPolicy): TransferPolicy | undefined {
  return policy in POLICY ? (policy as TransferPolicy) : TRANSFER_POLICIES.find((p) => POLICY[p].onChain === policy);
}

/** Hallmark's name of a policy in either spelling; one this code does not know reads as the strictest. */
export function transferPolicyOf(policy: TransferPolicy | OnChainPolicy): TransferPolicy {
  return policyOf(policy) ?? "LOCKED";
}

/** The contract's enum index of a policy (what `createEdition` takes). */
export function policyIndex(policy: TransferPolicy | OnChainPolicy): number {
  return TRANSFER_POLICIES.indexOf(policyOf(policy)!);
}

/** A policy as the contract returns it (its enum index); an index this code does not know reads as the strictest. */
export function onChainPolicy(index: bigint | number): OnChainPolicy {
  return ON_CHAIN_POLICIES[Number(index)] ?? "Locked";
}

/** Hallmark's name of a policy the chain reported; one this code does not know reads as the strictest. */
export function policyNamed(onChain: OnChainPolicy): TransferPolicy {
  return policyOf(onChain) ?? "LOCKED";
}

/** What a page tells a visitor about moving an item of an edition with this policy. */
export function policyShownAs(policy: TransferPolicy | OnChainPolicy): string {
  return POLICY[policyOf(policy) ?? "LOCKED"].shown;
}
