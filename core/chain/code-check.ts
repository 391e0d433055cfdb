import type { JsonRpcProvider } from "ethers";

/**
 * EVM init code that never deploys anything: run by `eth_call` without a `to`, it reads the 32-byte words appended
 * after it (addresses, ABI-encoded) and returns a word of 1 as soon as one of them has code (EXTCODESIZE), 0 when
 * none has. One call asks about a whole batch of addresses, where `eth_getCode` is a request each (on a node that
 * answers each request of a batch on its own, that costs more than the check). Assembled by hand (51 bytes):
 *
 *   00 PUSH1 0x33                    ptr = the first word after the code
 *   02 JUMPDEST                      loop:
 *   03 DUP1 CODESIZE GT ISZERO       if !(CODESIZE > ptr)
 *   07 PUSH1 0x28 JUMPI                goto none
 *   0a PUSH1 32 DUP2 PUSH1 0 CODECOPY  mem[0..32] = code[ptr..ptr+32]
 *   10 PUSH1 0 MLOAD EXTCODESIZE     if the address there has code
 *   14 PUSH1 0x1d JUMPI                goto some
 *   17 PUSH1 32 ADD PUSH1 0x02 JUMP  ptr += 32; goto loop
 *   1d JUMPDEST PUSH1 1 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN   some: return 1
 *   28 JUMPDEST PUSH1 0 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN   none: return 0
 */
const ANY_HAS_CODE = "0x6033" + "5b80381115602857" + "602081600039" + "6000513b601d57" + "6020016002" + "56" + "5b60016000526020" + "6000f3" + "5b60006000526020" + "6000f3";

/**
 * Whether any of `addresses` has code now (a contract, or an account delegating to one), in one `eth_call`. A
 * contract may refuse what is sent to it (an ERC-721 receiver check); an account without code cannot.
 */
export async function anyHasCode(provider: JsonRpcProvider, addresses: string[]): Promise<boolean> {
  if (!addresses.length) return false;
  const words = addresses.map((a) => a.toLowerCase().replace(/^0x/, "").padStart(64, "0")).join("");
  const answer = (await provider.send("eth_call", [{ data: ANY_HAS_CODE + words }, "latest"])) as string;
  if (!/^0x[0-9a-f]{64}$/i.test(answer)) throw new Error(`the code check answered ${answer.slice(0, 80)}`);
  return BigInt(answer) !== 0n;
}
