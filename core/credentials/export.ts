import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import * as vc from "@digitalbazaar/vc";
import { eq } from "drizzle-orm";
import type { Database } from "../db/index.ts";
import { certificates, institutions } from "../db/schema.ts";
import { isHallmarkDocument, parseJson } from "../verification/certificate-document.ts";
import { readCertificate, type ChainProviders } from "../verification/chain-reader.ts";
import { checkIntegrity, cidOf } from "../verification/checks.ts";
import type { DocumentSource } from "../verification/document-source.ts";
import { ChainUnavailableError, CertificateNotFoundError } from "../verification/errors.ts";
import { resolveReference } from "../verification/reference.ts";
import { documentLoader } from "./document-loader.ts";
import { CredentialExportError } from "./errors.ts";
import type { SealingKeyring } from "../custody/sealing-keys.ts";
import { currentIssuerKey } from "./institution-keys.ts";
import { issuerDidOf } from "../identity/issuer-identity.ts";
import { buildOpenBadgeCredential } from "./open-badge.ts";
import { disclosuresFor, personalDataOf } from "../operations/personal-data.ts";
import { statusListIndexOf } from "../status-lists/indices.ts";
import { statusEntries } from "../status-lists/purposes.ts";

/**
 * What a cached export must be keyed on: the certificate, whether the request's token opens its personal data, and
 * the erasure state, so an erasure (which changes the last and voids the token) can never be answered from a cache.
 */
export async function credentialCacheKey(db: Database, certificateId: string, share: string | undefined): Promise<string> {
  const record = await personalDataOf(db, certificateId);
  const opened = disclosuresFor(record, share) ? "disclosed" : "withheld";
  return `${certificateId}:${opened}:${record?.erasedAt?.toISOString() ?? "-"}`;
}

export interface ExportDeps {
  db: Database;
  chains: ChainProviders;
  documents: DocumentSource;
  /** The sealing keys the institutions' signing keys are stored under. */
  keyring: SealingKeyring;
}

/**
 * The certificate as an Open Badges 3.0 credential signed (eddsa-rdfc-2022) by its institution's key. Only a
 * certificate that is valid on chain and whose document matches the chain is signed: the institution's signature
 * must never vouch for content the chain does not.
 */
export async function exportCredential(
  deps: ExportDeps,
  certificateId: string,
  opts: {
    verifyUrl: string;
    share?: string;
    /** Where this server is reached: the status lists' URLs start with it. */
    baseUrl: string;
    /** The origin platform-hosted DIDs are named after (PUBLIC_URL); absent, the verify URL's. */
    publicOrigin?: string;
  },
): Promise<Record<string, unknown>> {
  let resolved;
  try {
    resolved = await resolveReference(deps.db, certificateId);
  } catch (err) {
    if (err instanceof CertificateNotFoundError) throw new CredentialExportError("NOT_FOUND", err.message);
    throw err;
  }
  const [row] = await deps.db
    .select({
      institutionId: certificates.institutionId,
      institutionName: institutions.name,
      slug: institutions.slug,
      identity: institutions.identity,
      collectionId: certificates.collectionId,
      txHash: certificates.txHash,
    })
    .from(certificates)
    .innerJoin(institutions, eq(institutions.id, certificates.institutionId))
    .where(eq(certificates.id, certificateId));
  if (!row) throw new CredentialExportError("NOT_FOUND", `no certificate "${certificateId}"`);

  let facts;
  try {
    facts = (await readCertificate(deps.chains, resolved.reference)).facts;
  } catch (err) {
    if (err instanceof ChainUnavailableError) throw new CredentialExportError("UNAVAILABLE", err.message);
    throw err;
  }
  if (facts.status !== "VALID") throw new CredentialExportError("NOT_VALID", `the certificate is ${facts.status.toLowerCase()} on chain`);
  const cid = cidOf(facts.metadataUri);
  const bytes = cid ? await deps.documents.fetch(cid) : undefined;
  if (!cid || !bytes) throw new CredentialExportError("UNAVAILABLE", `the certificate document ${facts.metadataUri} is not available`);
  const integrity = await checkIntegrity(bytes, facts, "the certificate document");
  if (integrity.result !== "valid") throw new CredentialExportError("NOT_VALID", integrity.reason);
  const document = parseJson(bytes, "the certificate document");
  if (!isHallmarkDocument(document)) throw new CredentialExportError("NOT_VALID", "the pinned document is not a Hallmark certificate");

  // Signed by the current key of the institution's did:web document, which names it as the proof's verificationMethod.
  const did = issuerDidOf({ id: row.institutionId, slug: row.slug, identity: row.identity }, opts.publicOrigin ?? new URL(opts.verifyUrl).origin);
  const key = await currentIssuerKey(deps.db, row.institutionId, deps.keyring, did);
  // The holder's copy (their link's token) carries their personal data; an erased certificate exports without it.
  const disclosures = disclosuresFor(await personalDataOf(deps.db, certificateId), opts.share);
  // Drawn on the first export and kept: every copy of this certificate's credential points at the same bits.
  const index = await statusListIndexOf(deps.db, { id: certificateId, collectionId: row.collectionId });
  const credential = buildOpenBadgeCredential({
    disclosures,
    document,
    cid,
    chain: { chainId: facts.chainId, contract: facts.contract, tokenId: facts.tokenId!, owner: facts.owner!, txHash: facts.txHash ?? row.txHash },
    status: statusEntries(opts.baseUrl, row.collectionId, index),
    issuer: { did: key.did, name: row.institutionName },
    verifyUrl: opts.verifyUrl,
  });
  const suite = new DataIntegrityProof({ signer: key.keyPair.signer(), cryptosuite: eddsaRdfc2022 });
  return vc.issue({ credential, suite, documentLoader });
}
