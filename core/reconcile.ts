import { and, eq } from "drizzle-orm";
import { isDeployed } from "./operations/collections.ts";
import { getAddress, Interface, ZeroAddress, type JsonRpcProvider, type Log } from "ethers";
import { certificateRegistryInterface, digestOfToken, documentUri, RevocationReason } from "./chain/certificate-registry.ts";
import type { Database } from "./db/index.ts";
import { certificates, collections, editionContracts, editions, issuances, revocations } from "./db/schema.ts";
import { COLLECTIBLE_EDITIONS_ABI } from "./editions/abi.ts";

export interface Mismatch {
  kind:
    | "confirmed-not-on-chain"
    | "on-chain-not-confirmed"
    | "failed-but-on-chain"
    | "token-mismatch"
    | "owner-mismatch"
    | "unknown-request-on-chain"
    | "status-mismatch"
    | "metadata-mismatch"
    | "edition-not-on-chain"
    | "edition-minted-mismatch"
    | "unknown-edition-on-chain"
    | "approvals-mismatch";
  /** The certificate collection, or for an edition the institution's editions contract (`edition_contracts` row). */
  collectionId: string;
  issuanceId?: string;
  editionId?: string;
  requestId?: string;
  detail: string;
}

export interface ReconcileReport {
  /** Issuances recorded in the database. */
  requested: number;
  /** Distinct Hallmark documents (and so request ids, which they name) minted on chain. */
  onChain: number;
  /** Extra mints of one document (token ids are the digests, so the contract cannot; counted to prove it). */
  duplicates: number;
  /** Issuances neither CONFIRMED nor FAILED. */
  stuck: number;
  mismatches: Mismatch[];
}

const CHUNK = 5_000;

/** Every log of `address` with one of `topics`, from `fromBlock` to `head`, in chain order. */
async function logsOf(provider: JsonRpcProvider, address: string, topics: string[], fromBlock: number, head: number): Promise<Log[]> {
  const out: Log[] = [];
  for (let from = fromBlock; from <= head; from += CHUNK) {
    out.push(...(await provider.getLogs({ address, topics: [topics], fromBlock: from, toBlock: Math.min(head, from + CHUNK - 1) })));
  }
  return out;
}

/** A certificate as its registry's events leave it. */
interface TokenOnChain {
  status: "VALID" | "REVOKED" | "SUSPENDED" | "SUPERSEDED" | "BURNED";
  uri: string;
  digest: string;
}

/** A mint is the ERC-721 Transfer from the zero address; its token id is the document digest. */
const CERTIFICATE_EVENTS = [
  "Transfer",
  "CertificateRevoked",
  "CertificateSuspended",
  "CertificateUnsuspended",
  "CertificateReissued",
  "CertificateMetadataUpdated",
  "CertificateBurned",
  "RevocationApproved",
] as const;

/**
 * Compares the database with the contracts' events, the chain being the authority: every CONFIRMED issuance has
 * exactly its token on chain, nothing else of ours is on chain, each certificate's status (revoked, suspended,
 * superseded) and current document agree with the events, each revocation approved under a policy names the same
 * approvals on chain (`RevocationApproved`) as in the database, and each edition created and minted as the database
 * says. Read-only.
 */
export async function reconcile(db: Database, provider: JsonRpcProvider, chainId: number): Promise<ReconcileReport> {
  const iface = certificateRegistryInterface();
  const topics = CERTIFICATE_EVENTS.map((name) => iface.getEvent(name)!.topicHash);
  const head = await provider.getBlockNumber();
  const report: ReconcileReport = { requested: 0, onChain: 0, duplicates: 0, stuck: 0, mismatches: [] };

  for (const collection of (await db.select().from(collections).where(and(eq(collections.chainId, chainId), eq(collections.kind, "CERTIFICATE")))).filter(isDeployed)) {
    /** Mints by document digest. */
    const minted = new Map<string, { tokenId: string; holder: string }[]>();
    const tokens = new Map<string, TokenOnChain>();
    const approvedOnChain = new Map<string, string>();
    for (const log of await logsOf(provider, collection.contractAddress, topics, collection.deployBlock, head)) {
      const parsed = iface.parseLog(log)!;
      const tokenId = (name: string) => parsed.args.getValue(name).toString() as string;
      const token = parsed.name === "Transfer" ? undefined : tokens.get(tokenId(parsed.name === "CertificateReissued" ? "previousTokenId" : "tokenId"));
      switch (parsed.name) {
        case "Transfer": {
          // A burn is a Transfer to the zero address; CertificateBurned marks it.
          if (parsed.args.getValue("from") !== ZeroAddress) break;
          const digest = digestOfToken(parsed.args.getValue("tokenId") as bigint);
          minted.set(digest, [...(minted.get(digest) ?? []), { tokenId: tokenId("tokenId"), holder: getAddress(parsed.args.getValue("to")) }]);
          tokens.set(tokenId("tokenId"), { status: "VALID", uri: documentUri(digest), digest });
          break;
        }
        case "CertificateRevoked":
          if (token) token.status = "REVOKED";
          break;
        case "CertificateSuspended":
          if (token) token.status = "SUSPENDED";
          break;
        case "CertificateUnsuspended":
          if (token) token.status = "VALID";
          break;
        case "CertificateReissued":
          if (token) token.status = "SUPERSEDED";
          break;
        case "CertificateMetadataUpdated":
          if (token) Object.assign(token, { uri: documentUri(parsed.args.getValue("digest")), digest: parsed.args.getValue("digest") });
          break;
        case "CertificateBurned":
          if (token) token.status = "BURNED";
          break;
        case "RevocationApproved":
          approvedOnChain.set(tokenId("tokenId"), String(parsed.args.getValue("approvalsHash")).toLowerCase());
          break;
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
      const digest = issuance.digest?.toLowerCase();
      if (digest) ours.add(digest);
      const mints = (digest && minted.get(digest)) || [];
      if (mints.length) report.onChain++;
      report.duplicates += Math.max(0, mints.length - 1);
      const ref = { issuanceId: issuance.id, requestId: issuance.requestId };
      if (issuance.status !== "CONFIRMED" && issuance.status !== "FAILED") report.stuck++;
      if (issuance.status === "CONFIRMED") {
        if (!mints.length) mismatch({ kind: "confirmed-not-on-chain", ...ref, detail: "CONFIRMED, but no token of its document digest was minted" });
        else if (!certificate) mismatch({ kind: "confirmed-not-on-chain", ...ref, detail: "CONFIRMED without a certificate row" });
        else {
          if (mints[0]!.tokenId !== certificate.tokenId) {
            mismatch({ kind: "token-mismatch", ...ref, detail: `database token ${certificate.tokenId}, chain token ${mints[0]!.tokenId}` });
          }
          if (mints[0]!.holder !== certificate.owner) {
            mismatch({ kind: "owner-mismatch", ...ref, detail: `database owner ${certificate.owner}, chain holder ${mints[0]!.holder}` });
          }
          const onChain = tokens.get(certificate.tokenId);
          if (onChain && certificate.status !== onChain.status) {
            mismatch({ kind: "status-mismatch", ...ref, detail: `token ${certificate.tokenId}: database ${certificate.status}, chain ${onChain.status}` });
          }
          if (onChain && (certificate.metadataUri !== onChain.uri || certificate.digest.toLowerCase() !== onChain.digest.toLowerCase())) {
            mismatch({ kind: "metadata-mismatch", ...ref, detail: `token ${certificate.tokenId}: database ${certificate.metadataUri}, chain ${onChain.uri}` });
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
    // A revocation approved under a policy names its approvals on chain; the chain and the database must agree.
    const revoked = await db
      .select({ revocation: revocations, tokenId: certificates.tokenId, issuanceId: certificates.issuanceId })
      .from(revocations)
      .innerJoin(certificates, eq(certificates.id, revocations.certificateId))
      .where(and(eq(certificates.collectionId, collection.id), eq(revocations.status, "CONFIRMED")));
    for (const { revocation, tokenId, issuanceId } of revoked) {
      const chainHash = approvedOnChain.get(tokenId);
      const dbHash = revocation.approvalsHash?.toLowerCase();
      if (chainHash !== dbHash) {
        mismatch({
          kind: "approvals-mismatch",
          issuanceId,
          detail: `token ${tokenId}: revocation ${revocation.id} approvals ${dbHash ?? "none"} in the database, ${chainHash ?? "none"} on chain`,
        });
      }
    }
    for (const [digest, mints] of minted) {
      if (!ours.has(digest)) {
        mismatch({ kind: "unknown-request-on-chain", detail: `token ${mints[0]!.tokenId} minted for a document (${digest}) the database does not know` });
      }
    }
  }
  await reconcileEditions(db, provider, chainId, head, report);
  return report;
}

/** Each institution's editions contract: the editions created and the items minted, against the database. */
async function reconcileEditions(db: Database, provider: JsonRpcProvider, chainId: number, head: number, report: ReconcileReport): Promise<void> {
  const iface = new Interface(COLLECTIBLE_EDITIONS_ABI);
  const created = iface.getEvent("EditionCreated")!.topicHash;
  const itemMinted = iface.getEvent("ItemMinted")!.topicHash;
  for (const contract of await db.select().from(editionContracts).where(eq(editionContracts.chainId, chainId))) {
    const onChain = new Map<string, { txHash: string; minted: number }>();
    for (const log of await logsOf(provider, contract.contractAddress, [created, itemMinted], contract.deployBlock, head)) {
      const parsed = iface.parseLog(log)!;
      const editionId = parsed.args.getValue("editionId").toString() as string;
      if (parsed.name === "EditionCreated") onChain.set(editionId, { txHash: log.transactionHash, minted: onChain.get(editionId)?.minted ?? 0 });
      else onChain.set(editionId, { txHash: onChain.get(editionId)?.txHash ?? "", minted: (onChain.get(editionId)?.minted ?? 0) + 1 });
    }
    const mismatch = (m: Omit<Mismatch, "collectionId">) => report.mismatches.push({ collectionId: contract.id, ...m });
    const known = new Set<string>();
    for (const edition of await db.select().from(editions).where(eq(editions.contractId, contract.id))) {
      if (edition.status !== "CONFIRMED") continue;
      const chain = edition.chainEditionId ? onChain.get(edition.chainEditionId) : undefined;
      if (!chain) {
        mismatch({ kind: "edition-not-on-chain", editionId: edition.id, detail: `CONFIRMED as edition ${edition.chainEditionId}, but no EditionCreated event names it` });
        continue;
      }
      known.add(edition.chainEditionId!);
      if (chain.minted !== edition.minted) {
        mismatch({ kind: "edition-minted-mismatch", editionId: edition.id, detail: `edition ${edition.chainEditionId}: database ${edition.minted} minted, chain ${chain.minted}` });
      }
    }
    for (const [editionId, chain] of onChain) {
      if (!known.has(editionId) && chain.txHash) {
        const [pending] = await db.select({ id: editions.id }).from(editions).where(eq(editions.txHash, chain.txHash));
        // An edition whose creation the worker has not confirmed yet is stuck, not unknown.
        if (!pending) mismatch({ kind: "unknown-edition-on-chain", detail: `edition ${editionId} created on chain by ${chain.txHash}, which the database does not know` });
      }
    }
  }
}
