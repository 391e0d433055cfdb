import { isLanguageMap, pickLanguage, type Localizable } from "../../core/i18n/language-map.ts";
import { DEFAULT_LOCALE } from "../../core/i18n/locales.ts";
import { CertificateNotFoundError, DocumentFormatError, type Check, type ChainFacts, type CertificateSummary, type VerificationResult } from "../../core/verification/index.ts";
import { OnChainStatus } from "../../core/chain/certificate-registry.ts";
import { builder } from "../builder.ts";
import { describedValues } from "./enums.ts";
import { invalidInput, notFound } from "../errors.ts";

const CertificateStatusOnChainEnum = builder.enumType("OnChainStatus", {
  description: "The registry's status(): UNKNOWN (never issued), VALID, SUSPENDED, REVOKED, EXPIRED, SUPERSEDED.",
  values: describedValues(OnChainStatus, {
    UNKNOWN: "The registry never issued this token.",
    VALID: "Issued and in force.",
    SUSPENDED: "Suspended by the issuer; may be reinstated.",
    REVOKED: "Revoked for good.",
    EXPIRED: "Past its expiry.",
    SUPERSEDED: "Replaced by a newer certificate.",
  }),
});

const VerdictEnum = builder.enumType("VerificationVerdict", {
  description: "VALID: every check passed. INVALID: at least one failed; do not accept it. UNKNOWN: something could not be checked (e.g. the chain was unreachable); never read as valid.",
  values: describedValues(["VALID", "INVALID", "UNKNOWN"], {
    VALID: "Every check passed.",
    INVALID: "At least one check failed; do not accept the certificate.",
    UNKNOWN: "Something could not be checked (e.g. the chain was unreachable); never read it as valid.",
  }),
});

const CheckNameEnum = builder.enumType("VerificationCheckName", {
  description:
    "integrity: the document hashes to its CID and to the digest on chain. status: issued, not revoked, expired or superseded, read from the chain. issuer: the institution was registered and active when it issued. signature: an exported credential's proof.",
  values: describedValues(["integrity", "status", "issuer", "signature"], {
    integrity: "The document hashes to its CID and to the digest on chain.",
    status: "Issued and not revoked, expired or superseded, read from the chain.",
    issuer: "The institution was registered and active when it issued.",
    signature: "An exported credential's proof verifies.",
  }),
});

const CheckResultEnum = builder.enumType("VerificationCheckResult", {
  description: "valid, invalid, or skipped (could not be or was not checked; `reason` says why).",
  values: describedValues(["valid", "invalid", "skipped"], {
    valid: "The check passed.",
    invalid: "The check failed.",
    skipped: "Could not be or was not checked; `reason` says why.",
  }),
});

const CheckRef = builder.objectRef<Check>("VerificationCheck").implement({
  description: "One check and its outcome.",
  fields: (t) => ({
    name: t.field({ type: CheckNameEnum, description: "Which check.", resolve: (c) => c.name }),
    result: t.field({ type: CheckResultEnum, description: "Its outcome.", resolve: (c) => c.result }),
    reason: t.exposeString("reason", { description: "Why, in words a person can act on." }),
  }),
});

const AttributeRef = builder.objectRef<{ name: string; value: Localizable; label?: Localizable }>("VerifiedAttribute").implement({
  description: "A named field of the certificate, as its document states it.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "Field name, e.g. `Degree`: its key (personal-data paths and templates name it)." }),
    value: t.string({
      description: "Field value (in English when it was written in several languages and English is one, else the first; see `valueLanguages`).",
      resolve: (a) => pickLanguage(a.value, DEFAULT_LOCALE).text,
    }),
    valueLanguages: t.field({
      type: "JSON",
      nullable: true,
      description: "The value in each language it was written in (a language map); null for a value in one unstated language.",
      resolve: (a) => (isLanguageMap(a.value) ? a.value : null),
    }),
    label: t.string({
      description: "How the field is shown: its label (chosen as `value` is) when the issuer gave one, else its name.",
      resolve: (a) => (a.label === undefined ? a.name : pickLanguage(a.label, DEFAULT_LOCALE).text),
    }),
    labelLanguages: t.field({
      type: "JSON",
      nullable: true,
      description: "The label in each language it was written in (a language map); null otherwise.",
      resolve: (a) => (isLanguageMap(a.label) ? a.label : null),
    }),
  }),
});

const DisclosureStatusEnum = builder.enumType("DisclosureStatus", {
  description: "Whether a personal field of the certificate is shown, and whether what is shown is what the issuer committed to.",
  values: describedValues(["PUBLIC", "MATCHES", "DOES_NOT_MATCH", "NOT_DISCLOSED"], {
    PUBLIC: "Written in clear in the document (certificates issued before personal data was withheld).",
    MATCHES: "Disclosed (the holder's link, or the collection shows names publicly), and it matches the salted digest in the certificate.",
    DOES_NOT_MATCH: "A disclosure was given and does not match the certificate: it is not shown, and must not be believed.",
    NOT_DISCLOSED: "The certificate commits to a value that was not disclosed (or was erased).",
  }),
});

const PersonalFieldRef = builder.objectRef<{ name: string; status: string }>("VerifiedPersonalField").implement({
  description: "A personal attribute the document commits to; when it MATCHES, its value is among `attributes`.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "Attribute name." }),
    status: t.field({ type: DisclosureStatusEnum, description: "Whether it was disclosed and matches.", resolve: (p) => p.status as never }),
  }),
});

export const DisclosureInput = builder.inputType("DisclosureInput", {
  description: "A personal value and its salt, as an exported credential or the institution's `PersonalData.disclosures` give them.",
  fields: (t) => ({
    path: t.string({ required: true, description: "`recipientName`, or `attributes/<name>`." }),
    salt: t.string({ required: true, description: "The salt." }),
    value: t.string({ required: true, description: "The value." }),
  }),
});

const SummaryRef = builder.objectRef<CertificateSummary>("VerifiedCertificate").implement({
  description: "The certificate's fields as its document states them; believe them only when the verdict is VALID.",
  fields: (t) => ({
    id: t.exposeString("id", { nullable: true, description: "The certificate's identifier, as the document states it." }),
    title: t.string({
      nullable: true,
      description: "Certificate title (in English when it was written in several languages and English is one, else the first; see `titleLanguages`).",
      resolve: (c) => (c.title === undefined ? null : pickLanguage(c.title, DEFAULT_LOCALE).text),
    }),
    titleLanguages: t.field({
      type: "JSON",
      nullable: true,
      description: 'The title in each language it was written in (a language map, e.g. `{ "zh-CN": "…", "en": "…" }`); null for a title in one unstated language.',
      resolve: (c) => (isLanguageMap(c.title) ? c.title : null),
    }),
    description: t.string({
      nullable: true,
      description: "Longer description (chosen as `title` is; see `descriptionLanguages`).",
      resolve: (c) => (c.description === undefined ? null : pickLanguage(c.description, DEFAULT_LOCALE).text),
    }),
    descriptionLanguages: t.field({
      type: "JSON",
      nullable: true,
      description: "The description in each language it was written in (a language map); null for one in one unstated language.",
      resolve: (c) => (isLanguageMap(c.description) ? c.description : null),
    }),
    recipientName: t.exposeString("recipientName", { nullable: true, description: "Holder's name: only when disclosed and matching the certificate (see `recipientNameStatus`), or written in clear in an older document." }),
    recipientNameStatus: t.field({
      type: DisclosureStatusEnum,
      nullable: true,
      description: "Whether the holder's name is shown and matches; null when the certificate names no one.",
      resolve: (c) => c.recipientNameStatus ?? null,
    }),
    personalFields: t.field({ type: [PersonalFieldRef], description: "Personal attributes the document commits to.", resolve: (c) => c.personal ?? [] }),
    recipientAddress: t.exposeString("recipientAddress", { nullable: true, description: "Holder's Ethereum address." }),
    issuerName: t.exposeString("issuerName", { nullable: true, description: "Issuing institution's name." }),
    issuerId: t.exposeString("issuerId", { nullable: true, description: "Issuing institution's identifier (a DID or URL)." }),
    collectionName: t.exposeString("collectionName", { nullable: true, description: "Name of the collection it belongs to." }),
    issuedAt: t.exposeString("issuedAt", { nullable: true, description: "ISO-8601, as the document states it." }),
    validUntil: t.exposeString("validUntil", { nullable: true, description: "ISO-8601; null when it never expires." }),
    attributes: t.field({ type: [AttributeRef], description: "Named fields shown on the certificate.", resolve: (c) => c.attributes }),
  }),
});

const ChainFactsRef = builder.objectRef<ChainFacts>("ChainFacts").implement({
  description: "What the registry contract says, read over JSON-RPC when the check ran.",
  fields: (t) => ({
    chainId: t.exposeInt("chainId", { description: "EVM chain id." }),
    contract: t.exposeString("contract", { description: "Registry contract address." }),
    tokenId: t.exposeString("tokenId", { nullable: true, description: "ERC-721 token id (decimal)." }),
    owner: t.exposeString("owner", { nullable: true, description: "Holder address." }),
    status: t.field({ type: CertificateStatusOnChainEnum, nullable: true, description: "The registry's status() of the token.", resolve: (c) => c.status ?? null }),
    metadataUri: t.exposeString("metadataUri", { nullable: true, description: "The token's metadata URI (`ipfs://<cid>`)." }),
    digest: t.exposeString("digest", { nullable: true, description: "sha256 of the certificate document, as stored on chain." }),
    issuedAt: t.exposeString("issuedAt", { nullable: true, description: "Block time of issue (ISO-8601)." }),
    validUntil: t.exposeString("validUntil", { nullable: true, description: "Expiry on chain (ISO-8601); null when none." }),
    revocationReason: t.exposeString("revocationReason", { nullable: true, description: "RFC 5280 reason recorded with a revocation." }),
    txHash: t.exposeString("txHash", { nullable: true, description: "Issuing transaction." }),
    blockNumber: t.exposeInt("blockNumber", { nullable: true, description: "Block that includes the issuing transaction." }),
  }),
});

const VerificationRef = builder.objectRef<VerificationResult>("Verification").implement({
  description: "The outcome of verifying a certificate against the chain and IPFS.",
  fields: (t) => ({
    verdict: t.field({ type: VerdictEnum, description: "The overall answer.", resolve: (r) => r.verdict }),
    checks: t.field({ type: [CheckRef], description: "Each check and its outcome.", resolve: (r) => r.checks }),
    certificate: t.field({ type: SummaryRef, description: "The certificate's fields as its document states them.", resolve: (r) => r.certificate }),
    chain: t.field({ type: ChainFactsRef, nullable: true, description: "What the chain says; null when it could not be read.", resolve: (r) => r.chain ?? null }),
    checkedAt: t.exposeString("checkedAt", { description: "When the checks ran (ISO-8601)." }),
  }),
});

builder.queryField("verify", (t) =>
  t.field({
    type: VerificationRef,
    description: "Verifies a certificate by id (or `chainId:contract:tokenId`). Public: no API key needed.",
    args: {
      id: t.arg.id({ required: true, description: "Certificate id, or `chainId:contract:tokenId`." }),
      share: t.arg.string({ description: "The token of the holder's link (`?share=`): shows the holder's name, checked against the certificate." }),
      disclosures: t.arg({ type: [DisclosureInput], description: "Personal values with their salts, each checked against the certificate's commitments." }),
    },
    resolve: async (_root, { id, share, disclosures }, ctx) => {
      try {
        return await ctx.verifier.verifyId(String(id), { share: share ?? undefined, disclosures: disclosures ?? undefined });
      } catch (err) {
        if (err instanceof CertificateNotFoundError) throw notFound("certificate");
        throw err;
      }
    },
  }),
);

builder.queryField("verifyDocument", (t) =>
  t.field({
    type: VerificationRef,
    description: "Verifies a certificate document or an exported credential someone was handed. Public: no API key needed.",
    args: {
      document: t.arg({ type: "JSON", required: true, description: "The document or credential, as JSON." }),
      disclosures: t.arg({ type: [DisclosureInput], description: "Personal values with their salts, each checked against the document's commitments." }),
    },
    resolve: async (_root, { document, disclosures }, ctx) => {
      try {
        return await ctx.verifier.verifyFile(new TextEncoder().encode(JSON.stringify(document)), { disclosures: disclosures ?? undefined });
      } catch (err) {
        if (err instanceof DocumentFormatError) throw invalidInput(err.message, "document");
        throw err;
      }
    },
  }),
);
