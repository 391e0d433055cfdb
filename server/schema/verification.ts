import { GraphQLError } from "graphql";
import { CertificateNotFoundError, DocumentFormatError, type Check, type ChainFacts, type CertificateSummary, type VerificationResult } from "../../core/verification/index.ts";
import { OnChainStatus } from "../../core/chain/registry.ts";
import { builder } from "../builder.ts";
import { notFound } from "../errors.ts";

const CertificateStatusOnChainEnum = builder.enumType("OnChainStatus", {
  description: "The registry's status(): UNKNOWN (never issued), VALID, SUSPENDED, REVOKED, EXPIRED, SUPERSEDED.",
  values: OnChainStatus,
});

const VerdictEnum = builder.enumType("VerificationVerdict", {
  description: "VALID: every check passed. INVALID: at least one failed; do not accept it. UNKNOWN: something could not be checked (e.g. the chain was unreachable); never read as valid.",
  values: ["VALID", "INVALID", "UNKNOWN"] as const,
});

const CheckNameEnum = builder.enumType("VerificationCheckName", {
  description:
    "integrity: the document hashes to its CID and to the digest on chain. status: issued, not revoked, expired or superseded, read from the chain. issuer: the institution was registered and active when it issued. signature: an exported credential's proof.",
  values: ["integrity", "status", "issuer", "signature"] as const,
});

const CheckResultEnum = builder.enumType("VerificationCheckResult", {
  description: "valid, invalid, or skipped (could not be or was not checked; `reason` says why).",
  values: ["valid", "invalid", "skipped"] as const,
});

const CheckRef = builder.objectRef<Check>("VerificationCheck").implement({
  description: "One check and its outcome.",
  fields: (t) => ({
    name: t.field({ type: CheckNameEnum, resolve: (c) => c.name }),
    result: t.field({ type: CheckResultEnum, resolve: (c) => c.result }),
    reason: t.exposeString("reason", { description: "Why, in words a person can act on." }),
  }),
});

const AttributeRef = builder.objectRef<{ name: string; value: string }>("VerifiedAttribute").implement({
  fields: (t) => ({ name: t.exposeString("name"), value: t.exposeString("value") }),
});

const SummaryRef = builder.objectRef<CertificateSummary>("VerifiedCertificate").implement({
  description: "The certificate's fields as its document states them; believe them only when the verdict is VALID.",
  fields: (t) => ({
    id: t.exposeString("id", { nullable: true }),
    title: t.exposeString("title", { nullable: true }),
    description: t.exposeString("description", { nullable: true }),
    recipientName: t.exposeString("recipientName", { nullable: true }),
    recipientAddress: t.exposeString("recipientAddress", { nullable: true }),
    issuerName: t.exposeString("issuerName", { nullable: true }),
    issuerId: t.exposeString("issuerId", { nullable: true }),
    collectionName: t.exposeString("collectionName", { nullable: true }),
    issuedAt: t.exposeString("issuedAt", { nullable: true, description: "ISO-8601, as the document states it." }),
    validUntil: t.exposeString("validUntil", { nullable: true, description: "ISO-8601; null when it never expires." }),
    attributes: t.field({ type: [AttributeRef], resolve: (c) => c.attributes }),
  }),
});

const ChainFactsRef = builder.objectRef<ChainFacts>("ChainFacts").implement({
  description: "What the registry contract says, read over JSON-RPC when the check ran.",
  fields: (t) => ({
    chainId: t.exposeInt("chainId"),
    contract: t.exposeString("contract", { description: "Registry contract address." }),
    tokenId: t.exposeString("tokenId", { nullable: true, description: "ERC-721 token id (decimal)." }),
    owner: t.exposeString("owner", { nullable: true, description: "Holder address." }),
    status: t.field({ type: CertificateStatusOnChainEnum, nullable: true, resolve: (c) => c.status ?? null }),
    metadataUri: t.exposeString("metadataUri", { nullable: true }),
    digest: t.exposeString("digest", { nullable: true }),
    issuedAt: t.exposeString("issuedAt", { nullable: true, description: "Block time of issue (ISO-8601)." }),
    validUntil: t.exposeString("validUntil", { nullable: true, description: "Expiry on chain (ISO-8601); null when none." }),
    revocationReason: t.exposeString("revocationReason", { nullable: true }),
    txHash: t.exposeString("txHash", { nullable: true, description: "Issuing transaction." }),
    blockNumber: t.exposeInt("blockNumber", { nullable: true }),
  }),
});

const VerificationRef = builder.objectRef<VerificationResult>("Verification").implement({
  description: "The outcome of verifying a certificate against the chain and IPFS.",
  fields: (t) => ({
    verdict: t.field({ type: VerdictEnum, resolve: (r) => r.verdict }),
    checks: t.field({ type: [CheckRef], resolve: (r) => r.checks }),
    certificate: t.field({ type: SummaryRef, resolve: (r) => r.certificate }),
    chain: t.field({ type: ChainFactsRef, nullable: true, resolve: (r) => r.chain ?? null }),
    checkedAt: t.exposeString("checkedAt", { description: "When the checks ran (ISO-8601)." }),
  }),
});

builder.queryField("verify", (t) =>
  t.field({
    type: VerificationRef,
    description: "Verifies a certificate by id (or `chainId:contract:tokenId`). Public: no API key needed.",
    args: { id: t.arg.id({ required: true, description: "Certificate id, or `chainId:contract:tokenId`." }) },
    resolve: async (_root, { id }, ctx) => {
      try {
        return await ctx.verifier.verifyId(String(id));
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
    args: { document: t.arg({ type: "JSON", required: true, description: "The document or credential, as JSON." }) },
    resolve: async (_root, { document }, ctx) => {
      try {
        return await ctx.verifier.verifyFile(new TextEncoder().encode(JSON.stringify(document)));
      } catch (err) {
        if (err instanceof DocumentFormatError) throw new GraphQLError(err.message, { extensions: { code: "BAD_USER_INPUT", field: "document" } });
        throw err;
      }
    },
  }),
);
