import { certificateOperations, CERTIFICATE_OPERATION_KINDS } from "../../core/db/schema.ts";
import { requestCertificateOperation, type CertificateOperationRequest } from "../../core/operations/certificate-operations.ts";
import { actorOf } from "../auth/actor.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { CertificateStateError, ConflictError, IdempotencyConflictError, InstitutionNotActiveError, NotFoundError, withOperationErrors } from "../errors.ts";
import { CertificateRef, type CertificateRow } from "./certificate.ts";
import { describedValues, OperationStatusEnum } from "./enums.ts";
import { ownedRow, rawId } from "./ids.ts";
import { AttributeInput } from "./issuance.ts";
import { loaders, ownedRows } from "./loaders.ts";

type OperationRow = typeof certificateOperations.$inferSelect;

const CertificateOperationKindEnum = builder.enumType("CertificateOperationKind", {
  description: "What a certificate operation does on chain.",
  values: describedValues(CERTIFICATE_OPERATION_KINDS, {
    RECOVER: "Reissues the certificate to the holder's new address (reissue); the old one becomes SUPERSEDED.",
    CORRECT_METADATA: "Replaces the certificate's document with a corrected one (updateMetadata).",
    SUSPEND: "Suspends the certificate (suspend); it verifies as suspended until reinstated.",
    UNSUSPEND: "Lifts a suspension (unsuspend).",
  }),
});

export const CertificateOperationRef = builder.node(builder.objectRef<OperationRow>("CertificateOperation"), {
  description:
    "An operation on an existing certificate: QUEUED → PINNED (RECOVER and CORRECT_METADATA, once the new document is on IPFS) → SUBMITTED → CONFIRMED, or FAILED.",
  id: { resolve: (o) => o.id },
  loadMany: (ids, ctx) => ownedRows(ctx, certificateOperations, ids),
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier." }),
    kind: t.field({ type: CertificateOperationKindEnum, description: "What it does.", resolve: (o) => o.kind }),
    status: t.field({ type: OperationStatusEnum, description: "Where the operation stands.", resolve: (o) => o.status }),
    reason: t.exposeString("reason", { nullable: true, description: "The reason as the issuer wrote it (optional for corrections)." }),
    newHolder: t.exposeString("newHolder", { nullable: true, description: "RECOVER: the holder's new address (EIP-55)." }),
    metadataUri: t.string({
      nullable: true,
      description: "RECOVER and CORRECT_METADATA: `ipfs://<cid>` of the new document, once PINNED.",
      resolve: (o) => (o.metadataCid ? `ipfs://${o.metadataCid}` : null),
    }),
    digest: t.exposeString("digest", { nullable: true, description: "sha256 of the new document, once PINNED." }),
    txHash: t.exposeString("txHash", { nullable: true, description: "Hash of the transaction, once signed." }),
    error: t.exposeString("error", { nullable: true, description: "Why the operation failed, when FAILED." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the request was accepted." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "Last state change." }),
    certificate: t.field({
      type: CertificateRef,
      description: "The certificate it acts on (for RECOVER, the one being replaced).",
      resolve: async (o, _args, ctx) => (await loaders(ctx).certificate.load(o.certificateId))!,
    }),
    newCertificate: t.field({
      type: CertificateRef,
      nullable: true,
      description: "RECOVER: the certificate reissued to the new holder, once CONFIRMED.",
      resolve: (o, _args, ctx) => (o.resultCertificateId ? loaders(ctx).certificate.load(o.resultCertificateId) : null),
    }),
  }),
});

interface MetadataVersion {
  uri: string;
  digest: string;
  txHash: string | null;
  at: Date;
  current: boolean;
}

const MetadataVersionRef = builder.objectRef<MetadataVersion>("CertificateMetadataVersion").implement({
  description: "One document a certificate has pointed at on chain: the one it was issued with, then each confirmed correction.",
  fields: (t) => ({
    uri: t.exposeString("uri", { description: "`ipfs://<cid>` of the document; it stays served at `/ipfs/<cid>`." }),
    digest: t.exposeString("digest", { description: "sha256 of the document, as stored on chain then." }),
    txHash: t.exposeString("txHash", { nullable: true, description: "The transaction that set it (issue or updateMetadata)." }),
    at: t.expose("at", { type: "DateTime", description: "When Hallmark saw it confirmed." }),
    current: t.exposeBoolean("current", { description: "Whether the certificate points at it now." }),
  }),
});

builder.objectFields(CertificateRef, (t) => ({
  operations: t.field({
    type: [CertificateOperationRef],
    description: "Recoveries, corrections, suspensions and reinstatements requested for it, oldest first (failed ones included).",
    resolve: (c, _args, ctx) => loaders(ctx).operationsOfCertificate.load(c.id),
  }),
  replaces: t.field({
    type: CertificateRef,
    nullable: true,
    description: "The certificate this one replaced through a recovery.",
    resolve: (c, _args, ctx) => (c.replacesId ? loaders(ctx).certificate.load(c.replacesId) : null),
  }),
  supersededBy: t.field({
    type: CertificateRef,
    nullable: true,
    description: "The certificate that replaced this one through a recovery (its status is then SUPERSEDED).",
    resolve: (c, _args, ctx) => (c.supersededById ? loaders(ctx).certificate.load(c.supersededById) : null),
  }),
  metadataHistory: t.field({
    type: [MetadataVersionRef],
    description: "Every document it has pointed at, oldest first: as issued, then each confirmed correction; the last is current.",
    resolve: (c, _args, ctx) => metadataHistory(ctx, c),
  }),
}));

async function metadataHistory(ctx: Context, c: CertificateRow): Promise<MetadataVersion[]> {
  const load = loaders(ctx);
  const [issuance, operations] = await Promise.all([load.issuance.load(c.issuanceId), load.operationsOfCertificate.load(c.id)]);
  const versions: Omit<MetadataVersion, "current">[] = [
    {
      uri: issuance?.metadataCid ? `ipfs://${issuance.metadataCid}` : c.metadataUri,
      digest: issuance?.digest ?? c.digest,
      txHash: c.txHash,
      at: c.createdAt,
    },
    ...operations
      .filter((o) => o.kind === "CORRECT_METADATA" && o.status === "CONFIRMED" && o.metadataCid && o.digest)
      .sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime())
      .map((o) => ({ uri: `ipfs://${o.metadataCid}`, digest: o.digest!, txHash: o.txHash, at: o.updatedAt })),
  ];
  return versions.map((v, i) => ({ ...v, current: i === versions.length - 1 }));
}

const CertificateOperationPayload = builder.objectRef<{ operation: OperationRow; created: boolean }>("CertificateOperationPayload").implement({
  description: "Result of recoverCertificate, correctCertificateMetadata, suspendCertificate and unsuspendCertificate.",
  fields: (t) => ({
    operation: t.field({ type: CertificateOperationRef, description: "The operation; follow its `status`.", resolve: (p) => p.operation }),
    created: t.exposeBoolean("created", { description: "False when the idempotency key names an earlier request." }),
    certificate: t.field({
      type: CertificateRef,
      description: "The certificate it acts on; its status or document changes once the operation is CONFIRMED.",
      resolve: async (p, _args, ctx) => (await loaders(ctx).certificate.load(p.operation.certificateId))!,
    }),
  }),
});

const certificateIdField = (t: Parameters<Parameters<typeof builder.inputType>[1]["fields"]>[0]) =>
  t.id({ required: true, description: "The certificate's `id` or `nodeId`." });
const idempotencyKeyField = (t: Parameters<Parameters<typeof builder.inputType>[1]["fields"]>[0]) =>
  t.string({
    required: true,
    description: "Your unique key for this request; the same key with the same request returns the same operation, with another request IDEMPOTENCY_CONFLICT.",
  });

const RecoverCertificateInput = builder.inputType("RecoverCertificateInput", {
  description: "A certificate to reissue to its holder's new address (a lost wallet).",
  fields: (t) => ({
    certificateId: certificateIdField(t),
    newHolder: t.string({ required: true, description: "The holder's new address (lower-case or EIP-55 checksummed; not zero, not the current one)." }),
    reason: t.string({ required: true, description: "Why, in words (kept by Hallmark)." }),
    idempotencyKey: idempotencyKeyField(t),
  }),
});

const CorrectCertificateMetadataInput = builder.inputType("CorrectCertificateMetadataInput", {
  description: "The corrected fields of a certificate's document, replacing the current ones whole (validated as at issue); the expiry on chain stays.",
  fields: (t) => ({
    certificateId: certificateIdField(t),
    title: t.field({ type: "LocalizedText", description: "Certificate title, a string or a language map; defaults to the collection name." }),
    recipientName: t.string({ description: "Holder's name as printed on the certificate." }),
    description: t.field({ type: "LocalizedText", description: "Longer description, a string or a language map." }),
    attributes: t.field({ type: [AttributeInput], description: "Named fields shown on the certificate." }),
    data: t.field({ type: "JSON", description: "Institution-specific data (a JSON object, at most 16 KiB)." }),
    reason: t.string({ description: "Why, in words (kept by Hallmark)." }),
    idempotencyKey: idempotencyKeyField(t),
  }),
});

const SuspensionInput = builder.inputType("CertificateSuspensionInput", {
  description: "A certificate to suspend or reinstate.",
  fields: (t) => ({
    certificateId: certificateIdField(t),
    reason: t.string({ required: true, description: "Why, in words (kept by Hallmark)." }),
    idempotencyKey: idempotencyKeyField(t),
  }),
});

builder.queryField("certificateOperation", (t) =>
  t.field({
    type: CertificateOperationRef,
    nullable: true,
    description: "A certificate operation of the caller's institution, by id.",
    authScopes: { scope: "read" },
    args: { id: t.arg.id({ required: true, description: "Operation id (`id` or `nodeId`)." }) },
    resolve: (_root, { id }, ctx) => ownedRow(ctx, certificateOperations, id, "certificate operation"),
  }),
);

function run(ctx: Context, request: CertificateOperationRequest) {
  const certificateId = rawId(request.input.certificateId) ?? String(request.input.certificateId);
  return withOperationErrors(() =>
    requestCertificateOperation(ctx.db, ctx.caller!.institutionId, { ...request, input: { ...request.input, certificateId } } as CertificateOperationRequest, actorOf(ctx.caller!)),
  );
}

const ERRORS =
  "Refused with CERTIFICATE_REVOKED for a revoked certificate, CERTIFICATE_SUPERSEDED for a superseded one, CONFLICT while another operation on it is under way, NOT_FOUND for another institution's.";

builder.mutationField("recoverCertificate", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, CertificateStateError, ConflictError, InstitutionNotActiveError] },
    type: CertificateOperationPayload,
    description: `Reissues a certificate to its holder's new address: a new document (same fields, new recipient, naming the one it replaces) is pinned and reissued on chain; once CONFIRMED the old certificate is SUPERSEDED and \`supersededBy\` names the new one. ${ERRORS}`,
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: RecoverCertificateInput, required: true, description: "The certificate, the new address and why." }) },
    resolve: (_root, { input }, ctx) => run(ctx, { kind: "RECOVER", input: { ...input, certificateId: String(input.certificateId) } }),
  }),
);

builder.mutationField("correctCertificateMetadata", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, CertificateStateError, ConflictError, InstitutionNotActiveError] },
    type: CertificateOperationPayload,
    description: `Replaces a certificate's document with a corrected one: pinned, then set on chain with updateMetadata; earlier documents stay listed in \`metadataHistory\`. ${ERRORS}`,
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: CorrectCertificateMetadataInput, required: true, description: "The certificate and its corrected fields." }) },
    resolve: (_root, { input }, ctx) =>
      run(ctx, {
        kind: "CORRECT_METADATA",
        input: { ...input, certificateId: String(input.certificateId), data: input.data as unknown },
      }),
  }),
);

builder.mutationField("suspendCertificate", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, CertificateStateError, ConflictError] },
    type: CertificateOperationPayload,
    description: `Suspends a certificate on chain (reversible); its status turns SUSPENDED once CONFIRMED. CONFLICT when it is already suspended. ${ERRORS}`,
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: SuspensionInput, required: true, description: "The certificate and why." }) },
    resolve: (_root, { input }, ctx) => run(ctx, { kind: "SUSPEND", input: { ...input, certificateId: String(input.certificateId) } }),
  }),
);

builder.mutationField("unsuspendCertificate", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, CertificateStateError, ConflictError] },
    type: CertificateOperationPayload,
    description: `Lifts a certificate's suspension on chain; its status turns VALID once CONFIRMED. CONFLICT when it is not suspended. ${ERRORS}`,
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: SuspensionInput, required: true, description: "The certificate and why." }) },
    resolve: (_root, { input }, ctx) => run(ctx, { kind: "UNSUSPEND", input: { ...input, certificateId: String(input.certificateId) } }),
  }),
);
