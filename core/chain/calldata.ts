import type { IssueRequest } from "./certificate-registry.ts";

/** `issueBatch((bytes32,address,string,bytes32,uint64)[])`'s selector. */
const ISSUE_BATCH_SELECTOR = "e7735a18";
const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * The calldata of `issueBatch(requests)`, byte for byte what ethers' `Interface.encodeFunctionData` gives
 * (test/core/chain/calldata.test.ts checks that), written straight into one buffer. ethers' coder goes through a
 * hex string per word and per value, which for a batch of a hundred certificates cost the batcher more than
 * anything else it does apart from signing; this is a few buffer copies.
 *
 * Layout (Solidity ABI): selector; offset of the array (0x20); its length n; n offsets of the tuples, counted from
 * the first of them; then each tuple: requestId, holder, offset of uri within the tuple (0xa0), digest,
 * validUntil, uri's length, uri's bytes padded to a whole word.
 */
export function encodeIssueBatch(requests: readonly IssueRequest[]): string {
  const uris = requests.map((r) => Buffer.from(r.uri, "utf8"));
  const tupleSizes = uris.map((u) => 32 * 6 + Math.ceil(u.length / 32) * 32);
  const body = 32 * 2 + 32 * requests.length + tupleSizes.reduce((a, b) => a + b, 0);
  const out = Buffer.alloc(4 + body);
  out.write(ISSUE_BATCH_SELECTOR, 0, "hex");
  let p = 4;
  const word = (n: number | bigint) => {
    const v = BigInt(n);
    out.writeBigUInt64BE(v >> 192n, p);
    out.writeBigUInt64BE((v >> 128n) & 0xffffffffffffffffn, p + 8);
    out.writeBigUInt64BE((v >> 64n) & 0xffffffffffffffffn, p + 16);
    out.writeBigUInt64BE(v & 0xffffffffffffffffn, p + 24);
    p += 32;
  };
  word(0x20);
  word(requests.length);
  let offset = 32 * requests.length;
  for (const size of tupleSizes) {
    word(offset);
    offset += size;
  }
  requests.forEach((r, i) => {
    if (!HEX32.test(r.requestId)) throw new TypeError(`invalid requestId ${r.requestId}`);
    if (!ADDRESS.test(r.holder)) throw new TypeError(`invalid holder address ${r.holder}`);
    if (!HEX32.test(r.digest)) throw new TypeError(`invalid digest ${r.digest}`);
    if (r.validUntil < 0n || r.validUntil > UINT64_MAX) throw new RangeError(`validUntil out of range: ${r.validUntil}`);
    out.write(r.requestId.slice(2), p, "hex");
    out.write(r.holder.slice(2), p + 32 + 12, "hex");
    p += 64;
    word(0xa0);
    out.write(r.digest.slice(2), p, "hex");
    p += 32;
    word(r.validUntil);
    const uri = uris[i]!;
    word(uri.length);
    uri.copy(out, p);
    p += Math.ceil(uri.length / 32) * 32;
  });
  return `0x${out.toString("hex")}`;
}
