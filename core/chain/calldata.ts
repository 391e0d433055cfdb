import type { IssueRequest } from "./certificate-registry.ts";

/** `issueBatch(bytes)`'s selector. */
const ISSUE_BATCH_SELECTOR = "6f315a2a";
const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const UINT40_MAX = 2n ** 40n - 1n;
/** Bytes of one packed entry: digest (32), holder (20), validUntil (5, big-endian). */
export const ISSUE_ENTRY_SIZE = 57;

/** The packed entries `issueBatch(bytes)` takes: per certificate its digest, holder and validUntil, no padding. */
export function packIssueBatch(requests: readonly IssueRequest[]): Buffer {
  const out = Buffer.alloc(ISSUE_ENTRY_SIZE * requests.length);
  requests.forEach((r, i) => {
    if (!HEX32.test(r.digest)) throw new TypeError(`invalid digest ${r.digest}`);
    if (!ADDRESS.test(r.holder)) throw new TypeError(`invalid holder address ${r.holder}`);
    if (r.validUntil < 0n || r.validUntil > UINT40_MAX) throw new RangeError(`validUntil out of range: ${r.validUntil}`);
    const p = i * ISSUE_ENTRY_SIZE;
    out.write(r.digest.slice(2), p, "hex");
    out.write(r.holder.slice(2), p + 32, "hex");
    out.writeUIntBE(Number(r.validUntil), p + 52, 5);
  });
  return out;
}

/**
 * The calldata of `issueBatch(packed)`, byte for byte what ethers' `Interface.encodeFunctionData` gives
 * (test/core/chain/calldata.test.ts checks that), written straight into one buffer: ethers' coder goes through
 * hex strings, which for a batch of a hundred certificates cost the batcher more than anything else it does apart
 * from signing.
 *
 * Layout (Solidity ABI): selector; offset of the bytes (0x20); their length; the packed entries, zero-padded to a
 * whole word. The entries are packed rather than ABI tuples because calldata is paid by the byte and an ABI tuple
 * of these three values is 96 bytes, 39 of them padding.
 */
export function encodeIssueBatch(requests: readonly IssueRequest[]): string {
  const packed = packIssueBatch(requests);
  const out = Buffer.alloc(4 + 64 + Math.ceil(packed.length / 32) * 32);
  out.write(ISSUE_BATCH_SELECTOR, 0, "hex");
  out.writeUInt32BE(0x20, 4 + 28);
  out.writeUInt32BE(packed.length, 4 + 32 + 28);
  packed.copy(out, 4 + 64);
  return `0x${out.toString("hex")}`;
}
