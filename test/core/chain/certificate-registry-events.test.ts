import { hexlify, randomBytes, toQuantity, Wallet, ZeroAddress, ZeroHash } from "ethers";
import { describe, expect, it } from "vitest";
import { certificateRegistryInterface, documentUri } from "../../../core/chain/certificate-registry.ts";
import {
  CERTIFICATE_METADATA_UPDATED_TOPIC,
  CERTIFICATE_REISSUED_TOPIC,
  CERTIFICATE_REVOKED_TOPIC,
  CERTIFICATE_SUSPENDED_TOPIC,
  CERTIFICATE_UNSUSPENDED_TOPIC,
  decodeRegistryLog,
  TRANSFER_TOPIC,
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
    expect(iface.getEvent("Transfer")!.topicHash).toBe(TRANSFER_TOPIC);
    expect(iface.getEvent("CertificateRevoked")!.topicHash).toBe(CERTIFICATE_REVOKED_TOPIC);
    expect(iface.getEvent("CertificateSuspended")!.topicHash).toBe(CERTIFICATE_SUSPENDED_TOPIC);
    expect(iface.getEvent("CertificateUnsuspended")!.topicHash).toBe(CERTIFICATE_UNSUSPENDED_TOPIC);
    expect(iface.getEvent("CertificateReissued")!.topicHash).toBe(CERTIFICATE_REISSUED_TOPIC);
    expect(iface.getEvent("CertificateMetadataUpdated")!.topicHash).toBe(CERTIFICATE_METADATA_UPDATED_TOPIC);
  });

  it("decodes a mint (Transfer from the zero address): the token id is the digest, the URI its raw CID", () => {
    const holder = Wallet.createRandom().address;
    const digest = hexlify(randomBytes(32));
    const log = raw("Transfer", [ZeroAddress, holder, BigInt(digest)]);
    expect(decodeRegistryLog(log)).toEqual({
      kind: "issued",
      address: expect.stringMatching(new RegExp(`^${REGISTRY}$`, "i")),
      tokenId: BigInt(digest),
      holder,
      uri: documentUri(digest),
      digest,
      blockNumber: 77,
      transactionHash: log.transactionHash,
    });
    // A digest with leading zero bytes keeps its 32 bytes.
    const small = raw("Transfer", [ZeroAddress, holder, 5n]);
    expect(decodeRegistryLog(small)).toMatchObject({ digest: `0x${"0".repeat(63)}5` });
    // A burn is a Transfer to the zero address: not a mint.
    expect(decodeRegistryLog(raw("Transfer", [holder, ZeroAddress, BigInt(digest)]))).toBeUndefined();
  });

  it("decodes CertificateRevoked, and ignores other or truncated logs", () => {
    const by = Wallet.createRandom().address;
    const log = raw("CertificateRevoked", [42n, 4, by]);
    expect(decodeRegistryLog(log)).toMatchObject({ kind: "revoked", tokenId: 42n, reason: 4, revokedBy: by, blockNumber: 77 });
    expect(decodeRegistryLog({ ...log, topics: [ZeroHash, ...log.topics.slice(1)] })).toBeUndefined();
    const updated = raw("CertificateMetadataUpdated", [1n, hexlify(randomBytes(32))]);
    expect(decodeRegistryLog({ ...updated, data: updated.data.slice(0, 2 + 62) })).toBeUndefined();
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

  it("decodes CertificateMetadataUpdated exactly as ethers' Interface does, the URI derived from the new digest", () => {
    const log = raw("CertificateMetadataUpdated", [5n, hexlify(randomBytes(32))]);
    const parsed = iface.parseLog(log)!;
    expect(decodeRegistryLog(log)).toMatchObject({ kind: "metadataUpdated", tokenId: parsed.args[0], uri: documentUri(parsed.args[1]), digest: parsed.args[1] });
  });
});
