import { hexlify, randomBytes, toQuantity, Wallet, ZeroHash } from "ethers";
import { describe, expect, it } from "vitest";
import { certificateRegistryInterface } from "../../../core/chain/certificate-registry.ts";
import {
  CERTIFICATE_ISSUED_TOPIC,
  CERTIFICATE_METADATA_UPDATED_TOPIC,
  CERTIFICATE_REISSUED_TOPIC,
  CERTIFICATE_REVOKED_TOPIC,
  CERTIFICATE_SUSPENDED_TOPIC,
  CERTIFICATE_UNSUSPENDED_TOPIC,
  decodeRegistryLog,
  type RawLog,
} from "../../../core/chain/certificate-registry-events.ts";

const iface = certificateRegistryInterface();
const REGISTRY = Wallet.createRandom().address.toLowerCase();
const raw = (event: string, args: unknown[]): RawLog => {
  const { topics, data } = iface.encodeEventLog(event, args);
  return { address: REGISTRY, topics, data, blockNumber: toQuantity(77), transactionHash: hexlify(randomBytes(32)), logIndex: "0x0" };
};

describe("registry events decoded by their ABI layout", () => {
  it("uses the topics of the registry's own ABI", () => {
    expect(iface.getEvent("CertificateIssued")!.topicHash).toBe(CERTIFICATE_ISSUED_TOPIC);
    expect(iface.getEvent("CertificateRevoked")!.topicHash).toBe(CERTIFICATE_REVOKED_TOPIC);
    expect(iface.getEvent("CertificateSuspended")!.topicHash).toBe(CERTIFICATE_SUSPENDED_TOPIC);
    expect(iface.getEvent("CertificateUnsuspended")!.topicHash).toBe(CERTIFICATE_UNSUSPENDED_TOPIC);
    expect(iface.getEvent("CertificateReissued")!.topicHash).toBe(CERTIFICATE_REISSUED_TOPIC);
    expect(iface.getEvent("CertificateMetadataUpdated")!.topicHash).toBe(CERTIFICATE_METADATA_UPDATED_TOPIC);
  });

  it("decodes CertificateIssued exactly as ethers' Interface does, URIs of any length and script included", () => {
    for (const uri of ["ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", "", "ipfs://" + "x".repeat(500), "ipfs://證書-🎓"]) {
      const holder = Wallet.createRandom().address;
      const args = [hexlify(randomBytes(32)), 2n ** 40n + 7n, holder, uri, hexlify(randomBytes(32)), 1_900_000_000n];
      const log = raw("CertificateIssued", args);
      const parsed = iface.parseLog(log)!;
      expect(decodeRegistryLog(log)).toEqual({
        kind: "issued",
        address: expect.stringMatching(new RegExp(`^${REGISTRY}$`, "i")),
        requestId: parsed.args[0],
        tokenId: parsed.args[1],
        holder: parsed.args[2],
        uri: parsed.args[3],
        digest: parsed.args[4],
        validUntil: parsed.args[5],
        blockNumber: 77,
        transactionHash: log.transactionHash,
      });
    }
  });

  it("decodes CertificateRevoked, and ignores other or truncated logs", () => {
    const by = Wallet.createRandom().address;
    const log = raw("CertificateRevoked", [42n, 4, by]);
    expect(decodeRegistryLog(log)).toMatchObject({ kind: "revoked", tokenId: 42n, reason: 4, revokedBy: by, blockNumber: 77 });
    expect(decodeRegistryLog({ ...log, topics: [ZeroHash, ...log.topics.slice(1)] })).toBeUndefined();
    const issued = raw("CertificateIssued", [ZeroHash, 1n, by, "ipfs://x", ZeroHash, 0n]);
    expect(decodeRegistryLog({ ...issued, data: issued.data.slice(0, 2 + 64 * 4) })).toBeUndefined();
  });

  it("decodes CertificateSuspended, CertificateUnsuspended and CertificateReissued", () => {
    const by = Wallet.createRandom().address;
    expect(decodeRegistryLog(raw("CertificateSuspended", [9n, by]))).toMatchObject({ kind: "suspended", tokenId: 9n, by, blockNumber: 77 });
    expect(decodeRegistryLog(raw("CertificateUnsuspended", [9n, by]))).toMatchObject({ kind: "unsuspended", tokenId: 9n, by, blockNumber: 77 });
    const log = raw("CertificateReissued", [2n ** 40n + 1n, 2n ** 40n + 2n, by]);
    expect(decodeRegistryLog(log)).toEqual({
      kind: "reissued",
      address: expect.stringMatching(new RegExp(`^${REGISTRY}$`, "i")),
      previousTokenId: 2n ** 40n + 1n,
      tokenId: 2n ** 40n + 2n,
      holder: by,
      blockNumber: 77,
      transactionHash: log.transactionHash,
    });
  });

  it("decodes CertificateMetadataUpdated exactly as ethers' Interface does, and ignores a truncated one", () => {
    for (const uri of ["ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", "", "https://example.org/" + "y".repeat(300)]) {
      const log = raw("CertificateMetadataUpdated", [5n, uri, hexlify(randomBytes(32))]);
      const parsed = iface.parseLog(log)!;
      expect(decodeRegistryLog(log)).toMatchObject({ kind: "metadataUpdated", tokenId: parsed.args[0], uri: parsed.args[1], digest: parsed.args[2] });
      expect(decodeRegistryLog({ ...log, data: log.data.slice(0, 2 + 64 * 2) })).toBeUndefined();
    }
  });
});
