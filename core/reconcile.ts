import { eq } from "drizzle-orm";
import { getAddress, type JsonRpcProvider } from "ethers";
import { certificateRegistryInterface, RevocationReason } from "./chain/registry.ts";
import type { Database } from "./db/index.ts";
import { certificates, collections, issuances } from "./db/schema.ts";

export interface Mismatch {
  kind:
    | "confirmed-not-on-chain"
    | "on-chain-not-confirmed"
    | "failed-but-on-chain"
    | "token-mismatch"
    | "owner-mismatch"
    | "unknown-request-on-chain"
    | "revocation-mismatch";
  collectionId: string;
  issuanceId?: string;
  requestId?: string;
  detail: string;
}

export interface ReconcileReport {
  /** Issuances recorded in the database. */
  requested: number;
  /** Distinct Hallmark request ids minted on chain. */
  onChain: number;
  /** Extra mints of one request id (the contract forbids them; counted to prove it). */
  duplicates: number;
  /** Issuances neither CONFIRMED nor FAILED. */
  stuck: number;
  mismatches: Mismatch[];
}

const CHUNK = 5_000;

/**
 * Compares the database with the registries' events, the chain being the authority: every CONFIRMED issuance
 * has exactly its token on chain, nothing else of ours is on chain, and revocations agree. Read-only.
 */
export async function reconcile(db: Database, provider: JsonRpcProvider, chainId: number): Promise<ReconcileReport> {
  const iface = certificateRegistryInterface();
  const issuedTopic = iface.getEvent("CertificateIssued")!.topicHash;
  const revokedTopic = iface.getEvent("CertificateRevoked")!.topicHash;
  const head = await provider.getBlockNumber();
  const report: ReconcileReport = { requested: 0, onChain: 0, duplicates: 0, stuck: 0, mismatches: [] };

  for (const collection of await db.select().from(collections).where(eq(collections.chainId, chainId))) {
    const minted = new Map<string, { tokenId: string; holder: string }[]>();
    const revokedOnChain = new Map<string, string>();
    for (let from = collection.deployBlock; from <= head; from += CHUNK) {
      const logs = await provider.getLogs({
        address: collection.contractAddress,
        topics: [[issuedTopic, revokedTopic]],
        fromBlock: from,
        toBlock: Math.min(head, from + CHUNK - 1),
      });
      for (const log of logs) {
        const parsed = iface.parseLog(log)!;
        if (parsed.name === "CertificateIssued") {
          const requestId = String(parsed.args[0]);
          minted.set(requestId, [...(minted.get(requestId) ?? []), { tokenId: parsed.args[1].toString(), holder: getAddress(parsed.args[2]) }]);
        } else {
          revokedOnChain.set(parsed.args[0].toString(), RevocationReason[Number(parsed.args[1])] ?? "UNSPECIFIED");
        }
      }
    }
    const rows = await db
      .select({ issuance: issuances, certificate: certificates })
      .from(issuances)
      .leftJoin(certificates, eq(certificates.issuanceId, issuances.id))
      .where(eq(issuances.collectionId, collection.id));
    const ours = new Set<string>();
    const mismatch = (m: Omit<Mismatch, "collectionId">) => report.mismatches.push({ collectionId: collection.id, ...m });
    for (const { issuance, certificate } of rows) {
      report.requested++;
      ours.add(issuance.requestId);
      const mints = minted.get(issuance.requestId) ?? [];
      if (mints.length) report.onChain++;
      report.duplicates += Math.max(0, mints.length - 1);
      const ref = { issuanceId: issuance.id, requestId: issuance.requestId };
      if (issuance.status !== "CONFIRMED" && issuance.status !== "FAILED") report.stuck++;
      if (issuance.status === "CONFIRMED") {
        if (!mints.length) mismatch({ kind: "confirmed-not-on-chain", ...ref, detail: "CONFIRMED, but no CertificateIssued event carries its request id" });
        else if (!certificate) mismatch({ kind: "confirmed-not-on-chain", ...ref, detail: "CONFIRMED without a certificate row" });
        else {
          if (mints[0]!.tokenId !== certificate.tokenId) {
            mismatch({ kind: "token-mismatch", ...ref, detail: `database token ${certificate.tokenId}, chain token ${mints[0]!.tokenId}` });
          }
          if (mints[0]!.holder !== certificate.owner) {
            mismatch({ kind: "owner-mismatch", ...ref, detail: `database owner ${certificate.owner}, chain holder ${mints[0]!.holder}` });
          }
          const revoked = revokedOnChain.get(certificate.tokenId);
          if ((certificate.status === "REVOKED") !== (revoked !== undefined)) {
            mismatch({ kind: "revocation-mismatch", ...ref, detail: `database ${certificate.status}, chain ${revoked ? "revoked" : "not revoked"}` });
          }
        }
      } else if (mints.length) {
        mismatch({
          kind: issuance.status === "FAILED" ? "failed-but-on-chain" : "on-chain-not-confirmed",
          ...ref,
          detail: `${issuance.status} in the database, minted as token ${mints[0]!.tokenId}`,
        });
      }
    }
    for (const [requestId, mints] of minted) {
      if (!ours.has(requestId)) {
        mismatch({ kind: "unknown-request-on-chain", requestId, detail: `token ${mints[0]!.tokenId} minted for a request id the database does not know` });
      }
    }
  }
  return report;
}
