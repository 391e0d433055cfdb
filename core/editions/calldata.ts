import type { Interface } from "ethers";

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * The calldata of `name(uint256 editionId, address[] holders)` (`airdrop`, `airdropToCustody`), byte for byte what
 * ethers' `Interface.encodeFunctionData` gives (test/core/editions/calldata.test.ts checks that), written straight
 * into one buffer: ethers' coder checksums every address on the way (a pure-JS keccak each), which for an airdrop's
 * tens of thousands of holders costs the worker more than the rest of a batch's encoding.
 *
 * Layout (Solidity ABI): selector; the edition id; the offset of the array (0x40); its length; each address
 * left-padded to a word.
 */
export function encodeHoldersCall(iface: Interface, name: "airdrop" | "airdropToCustody", editionId: bigint, holders: readonly string[]): string {
  const fn = iface.getFunction(name)!;
  if (fn.inputs.length !== 2 || fn.inputs[0]!.type !== "uint256" || fn.inputs[1]!.type !== "address[]") throw new Error(`${name} is not (uint256, address[])`);
  if (editionId < 0n || editionId >= 2n ** 256n) throw new RangeError(`edition id out of range: ${editionId}`);
  const out = Buffer.alloc(4 + 32 * (3 + holders.length));
  out.write(fn.selector.slice(2), 0, "hex");
  out.write(editionId.toString(16).padStart(64, "0"), 4, "hex");
  out.writeUInt32BE(0x40, 4 + 32 + 28);
  out.writeUInt32BE(holders.length, 4 + 64 + 28);
  holders.forEach((holder, i) => {
    if (!ADDRESS.test(holder)) throw new TypeError(`invalid holder address ${holder}`);
    out.write(holder.slice(2), 4 + 32 * (3 + i) + 12, "hex");
  });
  return `0x${out.toString("hex")}`;
}
