import { Wallet } from "ethers";
import { describe, expect, it } from "vitest";
import { collectibleEditionsInterface } from "../../../core/editions/abi.ts";
import { encodeHoldersCall } from "../../../core/editions/calldata.ts";

describe("encodeHoldersCall", () => {
  const iface = collectibleEditionsInterface();
  const holders = Array.from({ length: 178 }, () => Wallet.createRandom().address);

  it("is byte for byte ethers' encoding of airdrop and airdropToCustody, whatever the letter case of the holders", () => {
    for (const name of ["airdrop", "airdropToCustody"] as const) {
      for (const [id, list] of [
        [1n, holders],
        [2n ** 200n + 7n, holders.slice(0, 1)],
        [0n, []],
        [42n, holders.map((h) => h.toLowerCase())],
      ] as const) {
        expect(encodeHoldersCall(iface, name, id, list)).toBe(iface.encodeFunctionData(name, [id, list]));
      }
    }
  });

  it("refuses a holder that is not a 20-byte hex address, and an edition id out of range", () => {
    expect(() => encodeHoldersCall(iface, "airdrop", 1n, ["0x1234"])).toThrow(TypeError);
    expect(() => encodeHoldersCall(iface, "airdrop", 1n, [`${holders[0]}00`])).toThrow(TypeError);
    expect(() => encodeHoldersCall(iface, "airdrop", -1n, holders)).toThrow(RangeError);
    expect(() => encodeHoldersCall(iface, "airdrop", 2n ** 256n, holders)).toThrow(RangeError);
  });
});
