import { createContextCache } from "@pothos/core";
import DataLoader from "dataloader";
import { and, eq, gte, inArray, isNotNull, isNull, lt, or, type SQL } from "drizzle-orm";
import { certificateStatusAt, type ApiCertificateStatus } from "../../core/certificate-status.ts";
import { certificates, collections } from "../../core/db/schema.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";

import { CertificateStatusEnum, describedValues, RevocationReasonEnum } from "./enums.ts";
import { ownedRow } from "./ids.ts";
import { CollectionRef, InstitutionRef } from "./institution.ts";
import { loaders, ownedRows, readAheadOfCertificates } from "./loaders.ts";
import { connectionFields, holderAddress, paginate, selectsField, SortOrderEnum } from "./pagination.ts";

export type CertificateRow = typeof certificates.$inferSelect;

export const CertificateRef = builder.node(builder.objectRef<CertificateRow>("Certificate"), {
  // Institution data: a key of the institution reads it only with READ, wherever it is reached from.
  authScopes: { readData: true },
  description: "A certificate as recorded on chain: a non-transferable ERC-721 token (ERC-5192 locked).",
  id: { resolve: (c) => c.id },
  loadMany: (ids, ctx) => ownedRows(ctx, certificates, ids),
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier; pass it as `certificateId` to revoke." }),
    tokenId: t.exposeString("tokenId", { description: "ERC-721 token id (uint256, as a decimal string)." }),
    owner: t.exposeString("owner", { description: "Holder address (EIP-55 checksummed)." }),
    metadataUri: t.exposeString("metadataUri", { description: "`ipfs://<cid>` of the certificate document." }),
    metadataCid: t.string({
      description: "CID of the certificate document; its bytes are served at `/ipfs/<cid>`.",
      resolve: (c) => c.metadataUri.replace(/^ipfs:\/\//, ""),
    }),
    digest: t.exposeString("digest", { description: "sha256 of the certificate document, as stored on chain." }),
    txHash: t.exposeString("txHash", { description: "Hash of the transaction that issued it." }),
    blockNumber: t.exposeInt("blockNumber", { description: "Block that includes the issuing transaction." }),
    status: t.field({
      type: CertificateStatusEnum,
      description: "Current status: as last recorded from the chain, and EXPIRED once `validUntil` is past.",
      resolve: (c) => certificateStatusAt(c),
    }),
    validUntil: t.expose("validUntil", { type: "DateTime", nullable: true, description: "Expiry; null when it never expires." }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true, description: "Block time of the revocation." }),
    revocationReason: t.field({
      type: RevocationReasonEnum,
      nullable: true,
      description: "Reason recorded on chain with the revocation.",
      resolve: (c) => (c.revocationReason as never) ?? null,
    }),
    revokedTxHash: t.exposeString("revokedTxHash", { nullable: true, description: "Hash of the revoking transaction." }),
    issuedAt: t.expose("createdAt", { type: "DateTime", description: "When Hallmark recorded the confirmation." }),
    collection: t.field({
      type: CollectionRef,
      description: "The collection (registry contract) it belongs to.",
      resolve: async (c, _args, ctx) => (await loaders(ctx).collection.load(c.collectionId))!,
    }),
    issuanceId: t.exposeID("issuanceId", { description: "The issuance operation that produced it." }),
    history: t.field({
      type: [CertificateEventRef],
      description: "The events of its life, oldest first: ISSUED, then whatever followed (SUSPENDED, RECOVERED, REVOKED, …).",
      resolve: (c, _args, ctx) => histories(ctx).load(c),
    }),
  }),
});

const CERTIFICATE_EVENT_KINDS = ["ISSUED", "REVOKED", "SUSPENDED", "UNSUSPENDED", "RECOVERED", "METADATA_CORRECTED", "GIFTED"] as const;

const CertificateEventKindEnum = builder.enumType("CertificateEventKind", {
  description:
    "What happened to a certificate. Hallmark records ISSUED, REVOKED, SUSPENDED, UNSUSPENDED, RECOVERED and METADATA_CORRECTED; GIFTED is reserved for the operation that will produce it.",
  values: describedValues(CERTIFICATE_EVENT_KINDS, {
    ISSUED: "Issued on chain to its holder.",
    REVOKED: "Revoked for good on chain.",
    SUSPENDED: "Suspended by the issuer; it may be reinstated.",
    UNSUSPENDED: "Reinstated after a suspension.",
    RECOVERED: "Moved to a new holder address by the issuer (lost key recovery).",
    METADATA_CORRECTED: "Its document was replaced by a corrected one.",
    GIFTED: "Given to a new holder by the issuer's leave.",
  }),
});

interface CertificateEvent {
  kind: (typeof CERTIFICATE_EVENT_KINDS)[number];
  at: Date;
  /** The institution that did it when it is the certificate's own (read only when `institution` is asked for); else null. */
  institutionId: string | null;
  apiKeyName: string | null;
  txHash: string | null;
  blockNumber: number | null;
  revocationReason: string | null;
}

const CertificateEventRef = builder.objectRef<CertificateEvent>("CertificateEvent").implement({
  description: "One event of a certificate's life: what, when, who and in which transaction.",
  fields: (t) => ({
    kind: t.field({ type: CertificateEventKindEnum, description: "What happened.", resolve: (e) => e.kind }),
    at: t.expose("at", { type: "DateTime", description: "When Hallmark saw it confirmed on chain (block time for revocations)." }),
    institution: t.field({
      type: InstitutionRef,
      nullable: true,
      description: "The institution that did it.",
      resolve: async (e, _args, ctx) => (e.institutionId ? loaders(ctx).institution.load(e.institutionId) : null),
    }),
    apiKeyName: t.exposeString("apiKeyName", {
      nullable: true,
      description: "Name of the API key that requested it, when Hallmark recorded one (not yet recorded for issuances and revocations: null).",
    }),
    txHash: t.exposeString("txHash", { nullable: true, description: "Hash of the transaction that did it." }),
    blockNumber: t.exposeInt("blockNumber", { nullable: true, description: "Block that includes the transaction, when known." }),
    revocationReason: t.field({
      type: RevocationReasonEnum,
      nullable: true,
      description: "For REVOKED: the reason recorded on chain.",
      resolve: (e) => (e.revocationReason as never) ?? null,
    }),
  }),
});

const OPERATION_EVENTS = { RECOVER: "RECOVERED", CORRECT_METADATA: "METADATA_CORRECTED", SUSPEND: "SUSPENDED", UNSUSPEND: "UNSUSPENDED" } as const;

/**
 * The histories of every certificate a request asks for, built together: a page of 100 certificates costs one query
 * for their revocations, one for their operations and, only when some are confirmed, one for their transactions,
 * and a single pass over the rows (not a chain of promises per certificate, which the profile of a page read showed).
 */
const histories = createContextCache(
  // Batching only: what it reads is remembered by the loaders below, which a subscription clears between events.
  (ctx: Context) => new DataLoader<CertificateRow, CertificateEvent[]>((rows) => historiesOf(ctx, rows), { cache: false }),
);

/** Each certificate's events from the rows that exist today: its confirmation, its confirmed revocations and certificate operations. */
async function historiesOf(ctx: Context, rows: readonly CertificateRow[]): Promise<CertificateEvent[][]> {
  const load = loaders(ctx);
  const ids = rows.map((c) => c.id);
  const [revocationLists, operationLists] = await Promise.all([load.revocationsOfCertificate.loadMany(ids), load.operationsOfCertificate.loadMany(ids)]);
  const listOf = <T>(list: T[] | Error): T[] => {
    if (list instanceof Error) throw list;
    return list;
  };
  const revocationsOf = revocationLists.map((l) => listOf(l).filter((r) => r.status === "CONFIRMED"));
  const operationsOf = operationLists.map((l) => listOf(l).filter((o) => o.status === "CONFIRMED"));
  const txIds = [...revocationsOf.flat(), ...operationsOf.flat()].map((x) => x.chainTxId).filter((id): id is string => !!id);
  const txs = new Map<string, number | null>();
  if (txIds.length) {
    const found = await load.chainTx.loadMany([...new Set(txIds)]);
    for (const tx of found) if (tx && !(tx instanceof Error)) txs.set(tx.id, tx.blockNumber);
  }
  const blockOf = (chainTxId: string | null) => (chainTxId ? (txs.get(chainTxId) ?? null) : null);
  return rows.map((c, i) => {
    const own = (institutionId: string) => (institutionId === c.institutionId ? institutionId : null);
    const operated = operationsOf[i]!.map(
      (o): CertificateEvent => ({
        kind: OPERATION_EVENTS[o.kind],
        at: o.updatedAt,
        institutionId: own(o.institutionId),
        apiKeyName: null,
        txHash: o.txHash,
        blockNumber: blockOf(o.chainTxId),
        revocationReason: null,
      }),
    );
    const revoked = revocationsOf[i]!.map(
      (r): CertificateEvent => ({
        kind: "REVOKED",
        at: c.revokedAt ?? r.updatedAt,
        institutionId: own(r.institutionId),
        apiKeyName: null,
        txHash: r.txHash ?? c.revokedTxHash,
        blockNumber: blockOf(r.chainTxId),
        revocationReason: r.reasonCode,
      }),
    );
    const issued: CertificateEvent = {
      kind: "ISSUED",
      at: c.createdAt,
      institutionId: c.institutionId,
      apiKeyName: null,
      txHash: c.txHash,
      blockNumber: c.blockNumber,
      revocationReason: null,
    };
    const later = [...revoked, ...operated];
    if (later.length > 1) later.sort((a, b) => a.at.getTime() - b.at.getTime());
    return [issued, ...later];
  });
}

const CertificateFilter = builder.inputType("CertificateFilter", {
  description: "Narrows a list of certificates; every field given must hold.",
  fields: (t) => ({
    status: t.field({ type: CertificateStatusEnum, description: "Only certificates with this status now (EXPIRED: past `validUntil`; VALID and SUSPENDED: not past it)." }),
    holder: t.string({ description: "Only certificates held by this address (any letter case)." }),
    collectionId: t.id({ description: "Only certificates of this collection (its `id` or `nodeId`); NOT_FOUND when it is not the caller's." }),
    from: t.field({ type: "DateTime", description: "Only certificates issued at or after this instant." }),
    to: t.field({ type: "DateTime", description: "Only certificates issued before this instant." }),
  }),
});

builder.queryField("certificates", (t) =>
  t.connection(
    {
      type: CertificateRef,
      description: "The caller's institution's certificates, a page at a time, in issue order (newest first unless `orderBy: ASC`).",
      authScopes: { scope: "read" },
      args: {
        filter: t.arg({ type: CertificateFilter, description: "Which certificates; all when omitted." }),
        orderBy: t.arg({ type: SortOrderEnum, defaultValue: "DESC", description: "By issue time, then id." }),
      },
      resolve: async (_root, args, ctx, info) => {
        const f = args.filter;
        const where: (SQL | undefined)[] = [eq(certificates.institutionId, ctx.caller!.institutionId)];
        if (f?.status) where.push(statusIs(f.status, new Date()));
        if (f?.holder) where.push(eq(certificates.owner, holderAddress(f.holder)));
        if (f?.collectionId != null) where.push(eq(certificates.collectionId, (await ownedRow(ctx, collections, f.collectionId, "collection")).id));
        if (f?.from) where.push(gte(certificates.createdAt, f.from));
        if (f?.to) where.push(lt(certificates.createdAt, f.to));
        const page = await paginate<CertificateRow>({
          db: ctx.db,
          table: certificates,
          where: and(...where),
          order: args.orderBy ?? "DESC",
          args,
          withTotal: selectsField(info, "totalCount"),
        });
        await readAheadOfCertificates(
          ctx,
          page.edges.map((e) => e.node),
          { collection: selectsField(info, "edges", "node", "collection"), history: selectsField(info, "edges", "node", "history") },
        );
        return page;
      },
    },
    { name: "CertificateConnection", description: "A page of certificates.", fields: connectionFields },
    { name: "CertificateEdge", description: "A certificate and its cursor." },
  ),
);

/** The rows whose {@link certificateStatusAt} is `status` at `now`: the same precedence, as SQL. */
function statusIs(status: ApiCertificateStatus, now: Date): SQL | undefined {
  const notExpired = or(isNull(certificates.validUntil), gte(certificates.validUntil, now));
  switch (status) {
    case "EXPIRED":
      return and(inArray(certificates.status, ["VALID", "SUSPENDED"]), isNotNull(certificates.validUntil), lt(certificates.validUntil, now));
    case "VALID":
    case "SUSPENDED":
      return and(eq(certificates.status, status), notExpired);
    default:
      return eq(certificates.status, status);
  }
}

builder.queryField("certificate", (t) =>
  t.field({
    type: CertificateRef,
    nullable: true,
    description: "A certificate of the caller's institution, by id.",
    authScopes: { scope: "read" },
    args: { id: t.arg.id({ required: true, description: "Certificate id (`id` or `nodeId`)." }) },
    resolve: (_root, { id }, ctx) => ownedRow(ctx, certificates, id, "certificate"),
  }),
);

