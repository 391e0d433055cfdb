import { hexlify, randomBytes, Wallet } from "ethers";
import { describe, expect, it } from "vitest";
import { encodeIssueBatch } from "../../../core/chain/calldata.ts";
import { certificateRegistryInterface, type IssueRequest } from "../../../core/chain/certificate-registry.ts";

const iface = certificateRegistryInterface();
const request = (uri: string, validUntil = 0n): IssueRequest => ({
  requestId: hexlify(randomBytes(32)),
  holder: Wallet.createRandom().address,
  uri,
  digest: hexlify(randomBytes(32)),
  validUntil,
});

describe("issueBatch calldata", () => {
  it("is byte for byte ethers' encoding, URIs of any length and script included", () => {
    const uris = ["ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", "", "x".repeat(32), "ipfs://" + "y".repeat(500), "ipfs://證書-🎓"];
    for (const batch of [[], [request(uris[0]!)], uris.map((u, i) => request(u, i % 2 ? 0n : 2n ** 64n - 1n - BigInt(i)))]) {
      expect(encodeIssueBatch(batch)).toBe(iface.encodeFunctionData("issueBatch", [batch]));
    }
    const many = Array.from({ length: 150 }, (_, i) => request(`ipfs://bafkrei${i}`, BigInt(1_900_000_000 + i)));
    expect(encodeIssueBatch(many)).toBe(iface.encodeFunctionData("issueBatch", [many]));
  });

  it("accepts lower-case hex and refuses malformed values", () => {
    const r = request("ipfs://a");
    const lower = { ...r, holder: r.holder.toLowerCase(), requestId: r.requestId.toUpperCase().replace("0X", "0x") };
    expect(encodeIssueBatch([lower])).toBe(iface.encodeFunctionData("issueBatch", [[lower]]));
    expect(() => encodeIssueBatch([{ ...r, holder: "0x1234" }])).toThrow(/holder/);
    expect(() => encodeIssueBatch([{ ...r, requestId: "0x12" }])).toThrow(/requestId/);
    expect(() => encodeIssueBatch([{ ...r, digest: `${r.digest}00` }])).toThrow(/digest/);
    expect(() => encodeIssueBatch([{ ...r, validUntil: 2n ** 64n }])).toThrow(RangeError);
    expect(() => encodeIssueBatch([{ ...r, validUntil: -1n }])).toThrow(RangeError);
  });
});
