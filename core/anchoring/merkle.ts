import { concat, getBytes, keccak256 } from "ethers";

/**
 * A Merkle tree over certificate digests, hashed as OpenZeppelin's `MerkleProof` expects: each parent is the
 * keccak256 of its two children sorted, so a proof is just the siblings, bottom up. Leaves are the documents'
 * sha256 digests themselves: a verifier always recomputes a leaf from document bytes, so an inner node (a keccak
 * output) can never be passed off as a leaf, and the on-chain revocation list names certificates by the same digest
 * their documents carry.
 */
export interface MerkleTree {
  root: string;
  /** The proof for the leaf at `index` (the order the digests were given in). */
  proof(index: number): string[];
}

export function hashPair(a: string, b: string): string {
  return a.toLowerCase() < b.toLowerCase() ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

export function buildMerkleTree(leaves: readonly string[]): MerkleTree {
  if (leaves.length === 0) throw new Error("a Merkle tree needs at least one leaf");
  for (const leaf of leaves) {
    if (getBytes(leaf).length !== 32) throw new Error(`a leaf must be 32 bytes: ${leaf}`);
  }
  // levels[0] are the leaves; an odd node out is carried up unpaired, so no leaf is ever duplicated.
  const levels: string[][] = [leaves.map((l) => l.toLowerCase())];
  while (levels.at(-1)!.length > 1) {
    const below = levels.at(-1)!;
    const above: string[] = [];
    for (let i = 0; i < below.length; i += 2) above.push(i + 1 < below.length ? hashPair(below[i]!, below[i + 1]!) : below[i]!);
    levels.push(above);
  }
  return {
    root: levels.at(-1)![0]!,
    proof(index) {
      if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new RangeError(`no leaf ${index}`);
      const proof: string[] = [];
      let i = index;
      for (const level of levels.slice(0, -1)) {
        const sibling = i % 2 === 0 ? i + 1 : i - 1;
        if (sibling < level.length) proof.push(level[sibling]!);
        i = Math.floor(i / 2);
      }
      return proof;
    },
  };
}

/** The root a leaf and its proof lead to; compare it with the anchored root. */
export function rootFromProof(leaf: string, proof: readonly string[]): string {
  return proof.reduce((node, sibling) => hashPair(node, sibling), leaf.toLowerCase());
}
