import { getAddress, hexlify, keccak256, randomBytes, Transaction, Wallet } from "ethers";
import { describe, expect, it } from "vitest";
import { checksumAddress, keccak256Bytes, signRawTransaction, type UnsignedTx } from "../../../core/chain/raw-tx.ts";

const wallet = Wallet.createRandom();
const to = Wallet.createRandom().address;

describe("raw transactions", () => {
  it("keccak256 is Ethereum's", () => {
    for (const n of [0, 1, 135, 136, 137, 60_000]) {
      const bytes = randomBytes(n);
      expect(`0x${keccak256Bytes(bytes).toString("hex")}`).toBe(keccak256(bytes));
    }
  });

  it("gives an address its EIP-55 form as ethers' getAddress does, whatever the letter case given", () => {
    for (let i = 0; i < 300; i++) {
      const address = hexlify(randomBytes(20));
      expect(checksumAddress(address)).toBe(getAddress(address));
      expect(checksumAddress(address.toUpperCase().replace("0X", "0x"))).toBe(getAddress(address));
    }
    expect(checksumAddress("0x0000000000000000000000000000000000000000")).toBe(getAddress("0x0000000000000000000000000000000000000000"));
    expect(() => checksumAddress("0x1234")).toThrow(/address/);
  });

  it("signs and serializes byte for byte as ethers' Wallet, EIP-1559 and legacy (EIP-155) alike", async () => {
    const cases: UnsignedTx[] = [];
    for (const data of ["0x", "0x00", "0x7f", "0x80", hexlify(randomBytes(55)), hexlify(randomBytes(56)), hexlify(randomBytes(300)), hexlify(randomBytes(70_000))]) {
      for (const nonce of [0, 1, 127, 128, 70_000]) {
        cases.push({ type: 2, chainId: 31337, nonce, to, data, gasLimit: 11_600_000n, maxFeePerGas: 1_875_000_000n, maxPriorityFeePerGas: 1_000_000_000n });
        cases.push({ type: 2, chainId: 1n, nonce, to, data, gasLimit: 21_000n, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n });
        cases.push({ type: 0, chainId: 31337, nonce, to, data, gasLimit: 100_000n, gasPrice: 8_000_000_000n });
        cases.push({ type: 0, chainId: 2n ** 40n, nonce, to: to.toLowerCase(), data, gasLimit: 1n, gasPrice: 0n });
        // Contract creations: no destination.
        cases.push({ type: 2, chainId: 1337, nonce, to: null, data, gasLimit: 5_000_000n, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n });
        cases.push({ type: 0, chainId: 1337, nonce, to: null, data, gasLimit: 5_000_000n, gasPrice: 0n });
      }
    }
    for (const tx of cases) {
      const { raw, hash } = signRawTransaction(wallet.signingKey, tx);
      expect(raw).toBe(await wallet.signTransaction({ ...tx }));
      expect(hash).toBe(keccak256(raw));
      const parsed = Transaction.from(raw);
      expect(parsed.from).toBe(wallet.address);
      expect(parsed.data).toBe(tx.data.toLowerCase());
      expect(parsed.nonce).toBe(tx.nonce);
      expect(parsed.to).toBe(tx.to === null ? null : getAddress(tx.to));
    }
  });

  it("refuses malformed calldata and addresses", () => {
    const base: UnsignedTx = { type: 2, chainId: 1, nonce: 0, to, data: "0x", gasLimit: 1n, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n };
    expect(() => signRawTransaction(wallet.signingKey, { ...base, data: "0x123" })).toThrow(/calldata/);
    expect(() => signRawTransaction(wallet.signingKey, { ...base, data: "12" })).toThrow(/calldata/);
    expect(() => signRawTransaction(wallet.signingKey, { ...base, to: "0x12" })).toThrow(/address/);
  });
});
