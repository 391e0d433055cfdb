import { hexlify, randomBytes, Wallet } from "ethers";
import { describe, expect, it } from "vitest";
import { encodeIssueBatch, ISSUE_ENTRY_SIZE, packIssueBatch } from "../../../core/chain/calldata.ts";
import { certificateRegistryInterface, type IssueRequest } from "../../../core/chain/certificate-registry.ts";

const iface = certificateRegistryInterface();
const request = (validUntil = 0n): IssueRequest => ({ digest: hexlify(randomBytes(32)), holder: Wallet.createRandom().address, validUntil });

describe("issueBatch calldata", () => {
  it("is byte for byte ethers' encoding of the packed entries, whatever their count", () => {
    for (const batch of [[], [request()], [request(2n ** 40n - 1n), request(1n), request(1_900_000_000n)]]) {
      expect(encodeIssueBatch(batch)).toBe(iface.encodeFunctionData("issueBatch", [packIssueBatch(batch)]));
    }
    const many = Array.from({ length: 150 }, (_, i) => request(BigInt(1_900_000_000 + i)));
    expect(encodeIssueBatch(many)).toBe(iface.encodeFunctionData("issueBatch", [packIssueBatch(many)]));
  });

  it("packs digest, holder and validUntil in 57 bytes an entry, no padding", () => {
    const r = request(0x0102030405n);
    const packed = packIssueBatch([r, r]);
    expect(packed.length).toBe(2 * ISSUE_ENTRY_SIZE);
    expect(`0x${packed.subarray(0, 32).toString("hex")}`).toBe(r.digest);
    expect(`0x${packed.subarray(32, 52).toString("hex")}`).toBe(r.holder.toLowerCase());
    expect(packed.subarray(52, 57).toString("hex")).toBe("0102030405");
  });

  it("accepts lower-case hex and refuses malformed values", () => {
    const r = request();
    const lower = { ...r, holder: r.holder.toLowerCase(), digest: r.digest.toUpperCase().replace("0X", "0x") };
    expect(encodeIssueBatch([lower])).toBe(encodeIssueBatch([r]));
    expect(() => encodeIssueBatch([{ ...r, holder: "0x1234" }])).toThrow(/holder/);
    expect(() => encodeIssueBatch([{ ...r, digest: "0x12" }])).toThrow(/digest/);
    expect(() => encodeIssueBatch([{ ...r, digest: `${r.digest}00` }])).toThrow(/digest/);
    expect(() => encodeIssueBatch([{ ...r, validUntil: 2n ** 40n }])).toThrow(RangeError);
    expect(() => encodeIssueBatch([{ ...r, validUntil: -1n }])).toThrow(RangeError);
  });
});
