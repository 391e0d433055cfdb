import { getAddress, Wallet } from "ethers";

/**
 * A mixed-case address whose EIP-55 checksum is wrong: one letter of a fresh address with its case flipped. (Flipping
 * every letter is not enough: for an address whose letters all share one case it gives an all-lower or all-upper
 * address, which is valid.)
 */
export function wrongChecksumAddress(): string {
  for (;;) {
    const right = Wallet.createRandom().address;
    const letter = [...right].findIndex((c, i) => i > 1 && /[a-fA-F]/.test(c));
    if (letter < 0) continue;
    const c = right[letter]!;
    const flipped = `${right.slice(0, letter)}${c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()}${right.slice(letter + 1)}`;
    const body = flipped.slice(2);
    if (/[a-f]/.test(body) && /[A-F]/.test(body) && getAddress(flipped.toLowerCase()) !== flipped) return flipped;
  }
}
