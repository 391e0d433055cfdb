import { and, eq, getTableColumns } from "drizzle-orm";
import { editionOperations, editions, EDITION_OPERATION_KINDS } from "../../core/db/schema.ts";
import {
  ownedEdition,
  requestAirdrop,
  requestClaimCodes,
  requestCreateEdition,
  requestRedeemClaimCode,
  type ClaimVoucher,
  type EditionOperationRow,
  type EditionRow,
  type NewClaimCode,
} from "../../core/editions/operations.ts";
import { TRANSFER_POLICIES } from "../../core/editions/transfer-policy.ts";
import { DUBLIN_CORE_FIELDS, parseEditionMetadata, plainText, type DublinCoreField, type EditionMetadata } from "../../core/editions/metadata.ts";
import { OperationError } from "../../core/operations/errors.ts";
import { isId } from "../../core/db/ids.ts";
import { actorOf } from "../auth/actor.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { ClaimCodeError, EditionUnavailableError, IdempotencyConflictError, InstitutionNotActiveError, NotFoundError, QuotaExceededError, withOperationErrors } from "../errors.ts";
import { describedValues, OperationStatusEnum } from "./enums.ts";
import { rawId } from "./ids.ts";
import { loaders, ownedRows } from "./loaders.ts";
import { connectionFields, paginate, SortOrderEnum } from "./pagination.ts";

const DUBLIN_CORE_DESCRIPTIONS: Record<DublinCoreField, string> = {
  title: "A name given to the object (dc:title).",
  creator: "Who made the object (dc:creator).",
  date: "A point or period of time of the object's making (dc:date).",
  subject: "Topics of the object (dc:subject).",
  description: "An account of the object (dc:description).",
  rights: "Rights held in and over the object or its images, e.g. a licence URL (dc:rights).",
  identifier: "The museum's reference for the object, e.g. an accession number (dc:identifier).",
  type: "Nature or genre, e.g. StillImage or PhysicalObject (dc:type).",
  format: "File format, physical medium or dimensions (dc:format).",
  source: "A related resource the object is derived from (dc:source).",
  language: "Languages of the object (dc:language).",
  coverage: "Spatial or temporal topic, e.g. a place or era (dc:coverage).",
};

export const EditionTransferPolicyEnum = builder.enumType("EditionTransferPolicy", {
  description: "How the items of an edition may move after they are minted. There is never a sale or approval path.",
  values: describedValues(TRANSFER_POLICIES, {
    LOCKED: "Never (soulbound).",
    GIFT_AFTER_LOCKUP: "The holder may give an item away after holding it `lockupSeconds`, at most `maxGifts` times over the item's life.",
    ISSUER_MEDIATED: "Only the institution moves items (recovery).",
  }),
});

const EditionOperationKindEnum = builder.enumType("EditionOperationKind", {
  description: "What an edition operation mints, or moves out of custody.",
  values: describedValues(EDITION_OPERATION_KINDS, {
    AIRDROP: "One item to each holder of an airdrop, in order.",
    CLAIM: "One item to the holder who redeemed a claim code.",
    RELEASE: "The edition's items a holder without a wallet held in custody, moved to the wallet they claimed to (`releaseFromCustody`); `minted` counts items released.",
  }),
});

const DublinCoreRef = builder.objectRef<Partial<Record<DublinCoreField, string[]>>>("DublinCore").implement({
  description: "The museum object's record in Dublin Core elements; each element may repeat.",
  fields: (t) =>
    Object.fromEntries(
      DUBLIN_CORE_FIELDS.map((f) => [f, t.stringList({ description: DUBLIN_CORE_DESCRIPTIONS[f], resolve: (dc) => dc[f] ?? [] })]),
    ) as never,
});

const DublinCoreInput = builder.inputType("DublinCoreInput", {
  description: "The museum object's record in Dublin Core elements. `title` and `description` default to the edition's.",
  fields: (t) => Object.fromEntries(DUBLIN_CORE_FIELDS.map((f) => [f, t.stringList({ description: DUBLIN_CORE_DESCRIPTIONS[f] })])) as never,
});

interface ImageView {
  cid: string;
  label: string;
  width: number | null;
  height: number | null;
  mediaType: string | null;
}

const EditionImageRef = builder.objectRef<ImageView>("EditionImage").implement({
  description: "An image of the edition, stored on IPFS.",
  fields: (t) => ({
    cid: t.exposeString("cid", { description: "CID of the image." }),
    uri: t.string({ description: "`ipfs://<cid>`.", resolve: (i) => `ipfs://${i.cid}` }),
    label: t.exposeString("label", { description: "What the image shows, in words (its alt text)." }),
    width: t.int({ nullable: true, description: "Width in pixels.", resolve: (i) => i.width }),
    height: t.int({ nullable: true, description: "Height in pixels.", resolve: (i) => i.height }),
    mediaType: t.string({ nullable: true, description: "image/png, image/jpeg, image/gif or image/webp.", resolve: (i) => i.mediaType }),
  }),
});

const metadataCache = new WeakMap<EditionRow, EditionMetadata>();
function metadataOf(e: EditionRow): EditionMetadata {
  let doc = metadataCache.get(e);
  if (!doc) metadataCache.set(e, (doc = parseEditionMetadata(new TextEncoder().encode(e.metadataJson))));
  return doc;
}

async function contractOf(ctx: Context, e: EditionRow): Promise<string | null> {
  if (!e.contractId) return null;
  return (await loaders(ctx).editionContract.load(e.contractId))?.contractAddress ?? null;
}

/** `<public base>/<kind>/<contract>/<editionId>`, once the edition is on chain. */
async function publicPath(ctx: Context, e: EditionRow, path: (contract: string, id: string) => string): Promise<string | null> {
  const contract = await contractOf(ctx, e);
  if (!contract || !e.chainEditionId || e.status !== "CONFIRMED") return null;
  return `${ctx.siwe.origin.replace(/\/+$/, "")}${path(contract, e.chainEditionId)}`;
}

export const EditionRef = builder.node(builder.objectRef<EditionRow>("Edition"), {
  // Institution data: a key of the institution reads it only with READ, wherever it is reached from.
  authScopes: { readData: true },
  id: { resolve: (e) => e.id },
  loadMany: (ids, ctx) => ownedRows(ctx, editions, ids),
  description:
    "A limited edition of serial-numbered collectibles (#12/1000) of the caller's institution. Its creation is an operation: QUEUED → PINNED (metadata on IPFS) → SUBMITTED (createEdition sent) → CONFIRMED (EditionCreated seen) | FAILED.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier." }),
    status: t.field({ type: OperationStatusEnum, description: "Where the edition's creation stands.", resolve: (e) => e.status }),
    idempotencyKey: t.exposeString("idempotencyKey", { description: "The key sent with createEdition." }),
    name: t.exposeString("name", { description: "The edition's name, exactly as given (also its name on chain)." }),
    description: t.string({
      description: "One or two sentences (in English when written in several languages and English is one, else the first; the metadata document has them all).",
      resolve: (e) => plainText(metadataOf(e).description),
    }),
    story: t.string({
      nullable: true,
      description: "The edition's longer story (paragraphs separated by blank lines), chosen as `description` is.",
      resolve: (e) => (metadataOf(e).story === undefined ? null : plainText(metadataOf(e).story!)),
    }),
    images: t.field({
      type: [EditionImageRef],
      description: "Its images, the lead image first.",
      resolve: (e) =>
        metadataOf(e).images.map((img) => ({
          cid: img.uri.replace(/^ipfs:\/\//, ""),
          label: plainText(img.label),
          width: img.width ?? null,
          height: img.height ?? null,
          mediaType: img.mediaType ?? null,
        })),
    }),
    dublinCore: t.field({ type: DublinCoreRef, description: "The museum object record (Dublin Core).", resolve: (e) => metadataOf(e).dublinCore }),
    maxSupply: t.exposeInt("maxSupply", { description: "How many items the edition can ever have." }),
    minted: t.exposeInt("minted", { description: "Items minted, as the chain's ItemMinted events say (airdrops and claims)." }),
    remaining: t.int({ description: "Items not yet promised to an airdrop or a claim code.", resolve: (e) => Math.max(0, e.maxSupply - e.reserved) }),
    transferPolicy: t.field({ type: EditionTransferPolicyEnum, description: "How its items may move.", resolve: (e) => e.transferPolicy }),
    lockupSeconds: t.exposeInt("lockupSeconds", { description: "GIFT_AFTER_LOCKUP: how long a holder keeps an item before giving it away." }),
    maxGifts: t.exposeInt("maxGifts", { description: "GIFT_AFTER_LOCKUP: how often an item may be given away over its life." }),
    metadataCid: t.exposeString("metadataCid", { nullable: true, description: "CID of the pinned metadata document, once PINNED." }),
    metadataUri: t.string({ nullable: true, description: "`ipfs://<cid>` of the metadata: the edition's URI on chain.", resolve: (e) => (e.metadataCid ? `ipfs://${e.metadataCid}` : null) }),
    contractAddress: t.string({ nullable: true, description: "The institution's CollectibleEditions contract, once the edition was sent to it.", resolve: (e, _a, ctx) => contractOf(ctx, e) }),
    chainEditionId: t.string({ nullable: true, description: "The edition's id in the contract (decimal), once CONFIRMED.", resolve: (e) => e.chainEditionId }),
    txHash: t.exposeString("txHash", { nullable: true, description: "The createEdition transaction, once signed." }),
    error: t.exposeString("error", { nullable: true, description: "Why the creation failed, when FAILED." }),
    galleryUrl: t.string({
      nullable: true,
      description: "The public gallery page (read from the chain and IPFS), once CONFIRMED.",
      resolve: (e, _a, ctx) => publicPath(ctx, e, (c, id) => `/gallery/${c}/${id}`),
    }),
    manifestUrl: t.string({
      nullable: true,
      description: "The IIIF Presentation 3 manifest, once CONFIRMED.",
      resolve: (e, _a, ctx) => publicPath(ctx, e, (c, id) => `/iiif/${c}/${id}/manifest.json`),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the request was accepted." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "Last change." }),
  }),
});

/** An operation as the API shows it: never its holders (up to 10,000 addresses), which no field exposes. */
type EditionOperationView = Omit<EditionOperationRow, "holders">;
const { holders: _holders, ...operationViewColumns } = getTableColumns(editionOperations);

export const EditionOperationRef = builder.node(builder.objectRef<EditionOperationView>("EditionOperation"), {
  id: { resolve: (o) => o.id },
  loadMany: (ids, ctx) => ownedRows(ctx, editionOperations, ids),
  description:
    "Items minted to holders: an airdrop or a redeemed claim code. QUEUED → SUBMITTED (a batch sent) → CONFIRMED (every item seen in ItemMinted) | FAILED. Or a RELEASE of items held in custody to the wallet their holder claimed to, CONFIRMED once none is left in custody.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier." }),
    kind: t.field({ type: EditionOperationKindEnum, description: "Airdrop, claim or release from custody.", resolve: (o) => o.kind }),
    status: t.field({ type: OperationStatusEnum, description: "Where the operation stands (never PINNED).", resolve: (o) => o.status }),
    idempotencyKey: t.exposeString("idempotencyKey", { description: "The key sent with the request." }),
    total: t.exposeInt("total", { description: "Items to mint (one per holder)." }),
    sent: t.exposeInt("sent", { description: "Items sent to the chain in batches so far." }),
    minted: t.exposeInt("minted", { description: "Items seen minted on chain." }),
    progress: t.float({ description: "minted / total, from 0 to 1.", resolve: (o) => (o.total ? o.minted / o.total : 1) }),
    error: t.exposeString("error", { nullable: true, description: "Why it failed, when FAILED." }),
    txHashes: t.stringList({
      description: "Its airdrop transactions, in order (each under the per-transaction gas cap).",
      resolve: async (o, _a, ctx) => (await loaders(ctx).mintBatchesOfOperation.load(o.id)).map((b) => b.txHash),
    }),
    edition: t.field({ type: EditionRef, description: "The edition.", resolve: async (o, _a, ctx) => (await loaders(ctx).edition.load(o.editionId))! }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the request was accepted." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "Last change." }),
  }),
});

const ClaimVoucherRef = builder.objectRef<ClaimVoucher>("ClaimVoucher").implement({
  description:
    "An EIP-712 voucher (domain: the contract's name, version \"1\", chainId, verifyingContract) a holder passes to the contract's `claim(Voucher{editionId, code, deadline}, signature)` to claim on chain themselves.",
  fields: (t) => ({
    contract: t.exposeString("contract", { description: "The CollectibleEditions contract (verifyingContract)." }),
    chainId: t.exposeInt("chainId", { description: "The chain id of the EIP-712 domain." }),
    editionId: t.exposeString("editionId", { description: "Voucher.editionId (decimal)." }),
    code: t.exposeString("code", { description: "Voucher.code (bytes32): keccak256 of the claim code." }),
    deadline: t.exposeInt("deadline", { description: "Voucher.deadline: the code's expiry in Unix seconds." }),
    signature: t.exposeString("signature", { description: "The issuer's EIP-712 signature." }),
  }),
});

const ClaimCodeRef = builder.objectRef<NewClaimCode>("ClaimCode").implement({
  description: "A single-use claim code: it mints one item to whoever redeems it before it expires.",
  fields: (t) => ({
    id: t.id({ description: "Stable identifier.", resolve: (c) => c.row.id }),
    code: t.string({ nullable: true, description: "The code: shown only in the answer that made it (only its hash is kept).", resolve: (c) => c.code ?? null }),
    expiresAt: t.field({ type: "DateTime", description: "When it stops working.", resolve: (c) => c.row.expiresAt }),
    redeemedAt: t.field({ type: "DateTime", nullable: true, description: "When it was redeemed, if it was.", resolve: (c) => c.row.redeemedAt }),
    voucher: t.field({ type: ClaimVoucherRef, nullable: true, description: "The same code as a signed on-chain voucher; shown once, like the code.", resolve: (c) => c.voucher ?? null }),
  }),
});

const EditionImageInput = builder.inputType("EditionImageInput", {
  description: "An image uploaded with `POST /media`.",
  fields: (t) => ({
    cid: t.string({ required: true, description: "The CID `POST /media` answered." }),
    label: t.field({ type: "LocalizedText", required: true, description: "What the image shows, in words (alt text, IIIF label); a string or a language map." }),
  }),
});

const CreateEditionInput = builder.inputType("CreateEditionInput", {
  description: "A new edition.",
  fields: (t) => ({
    name: t.field({
      type: "LocalizedText",
      required: true,
      description:
        "The edition's name (kept verbatim; at most 200 characters), a string or a language map; on chain and in `Edition.name`, the English one when given, else the first.",
    }),
    description: t.field({ type: "LocalizedText", description: "One or two sentences, a string or a language map." }),
    story: t.field({ type: "LocalizedText", description: "A longer story: paragraphs separated by blank lines; a string or a language map." }),
    images: t.field({ type: [EditionImageInput], required: true, description: "1 to 20 images uploaded with `POST /media`; the first leads." }),
    dublinCore: t.field({ type: DublinCoreInput, description: "The museum object record." }),
    maxSupply: t.int({ required: true, description: "How many items the edition can ever have (at least 1)." }),
    transferPolicy: t.field({ type: EditionTransferPolicyEnum, required: true, description: "How items may move." }),
    lockupSeconds: t.int({ description: "GIFT_AFTER_LOCKUP only: seconds a holder keeps an item before giving it away (default 0)." }),
    maxGifts: t.int({ description: "GIFT_AFTER_LOCKUP only: times an item may be given away, 1 to 255 (default 1)." }),
    idempotencyKey: t.string({ required: true, description: "Your unique key; repeating the request with it answers the same edition." }),
  }),
});

const AirdropInput = builder.inputType("AirdropInput", {
  description: "An airdrop: one item to each holder, serials in the holders' order.",
  fields: (t) => ({
    editionId: t.id({ required: true, description: "The edition's `id`." }),
    holders: t.stringList({ description: "Holder addresses (EIP-55 or lower case, never zero); an address may repeat. With `holderReferences`, 1 to 10,000 holders in all." }),
    holderReferences: t.stringList({
      description:
        "Holders without a wallet, by your reference (an e-mail address lets them sign in and see the item): each item goes to the custodial account of the reference, where its certificates are held too (or to the wallet it was claimed to). Minted after the addresses, in order.",
    }),
    idempotencyKey: t.string({ required: true, description: "Your unique key; repeating the request with it answers the same operation." }),
  }),
});

const CreateClaimCodesInput = builder.inputType("CreateClaimCodesInput", {
  description: "Single-use claim codes for a CONFIRMED edition; each reserves one item.",
  fields: (t) => ({
    editionId: t.id({ required: true, description: "The edition's `id`." }),
    count: t.int({ required: true, description: "How many codes, 1 to 1,000." }),
    expiresAt: t.field({ type: "DateTime", required: true, description: "When the codes (and their vouchers) stop working; in the future." }),
    idempotencyKey: t.string({ required: true, description: "Your unique key; a repeat answers the same codes, without the codes themselves." }),
  }),
});

const RedeemClaimCodeInput = builder.inputType("RedeemClaimCodeInput", {
  description: "A claim code redeemed for a holder.",
  fields: (t) => ({
    code: t.string({ required: true, description: "The claim code." }),
    holder: t.string({ description: "The address that receives the item; or give `holderReference`." }),
    holderReference: t.string({ description: "A holder without a wallet, by your reference (e.g. their e-mail address): the item goes to its custodial account, or the wallet it was claimed to." }),
    idempotencyKey: t.string({ required: true, description: "Your unique key; repeating the request with it answers the same operation." }),
  }),
});

const CreateEditionPayload = builder.objectRef<{ edition: EditionRow; created: boolean }>("CreateEditionPayload").implement({
  description: "Result of createEdition.",
  fields: (t) => ({
    edition: t.field({ type: EditionRef, description: "The edition, QUEUED when just created.", resolve: (p) => p.edition }),
    created: t.exposeBoolean("created", { description: "False when the idempotency key named an earlier request." }),
  }),
});

const EditionOperationPayload = builder.objectRef<{ operation: EditionOperationRow; created: boolean }>("EditionOperationPayload").implement({
  description: "Result of airdrop and redeemClaimCode.",
  fields: (t) => ({
    operation: t.field({ type: EditionOperationRef, description: "The operation, QUEUED when just created.", resolve: (p) => p.operation }),
    created: t.exposeBoolean("created", { description: "False when the idempotency key named an earlier request." }),
  }),
});

const CreateClaimCodesPayload = builder.objectRef<{ codes: NewClaimCode[]; created: boolean }>("CreateClaimCodesPayload").implement({
  description: "Result of createClaimCodes.",
  fields: (t) => ({
    codes: t.field({ type: [ClaimCodeRef], description: "The codes, with code and voucher only when just created.", resolve: (p) => p.codes }),
    created: t.exposeBoolean("created", { description: "False when the idempotency key named an earlier request (codes are then not shown)." }),
  }),
});

/** An edition's or operation's database id, from its `id` or its global `nodeId`. */
const id = (value: string | number, typename: "Edition" | "EditionOperation" = "Edition") => rawId(value, typename) ?? String(value);

builder.queryField("edition", (t) =>
  t.field({
    type: EditionRef,
    nullable: true,
    description: "An edition of the caller's institution; NOT_FOUND for any other.",
    authScopes: { scope: "read" },
    args: { id: t.arg.id({ required: true, description: "Edition id." }) },
    resolve: (_root, args, ctx) => withOperationErrors(() => ownedEdition(ctx.db, ctx.caller!.institutionId, id(args.id))),
  }),
);

builder.queryField("editions", (t) =>
  t.connection(
    {
      type: EditionRef,
      description: "The caller's institution's editions, a page at a time (newest first unless `orderBy: ASC`).",
      authScopes: { scope: "read" },
      args: { orderBy: t.arg({ type: SortOrderEnum, defaultValue: "DESC", description: "By request time, then id." }) },
      resolve: (_root, args, ctx) =>
        paginate<EditionRow>({ db: ctx.db, table: editions, where: eq(editions.institutionId, ctx.caller!.institutionId), order: args.orderBy ?? "DESC", args }),
    },
    { name: "EditionConnection", description: "A page of editions.", fields: connectionFields },
    { name: "EditionEdge", description: "An edition and its cursor." },
  ),
);

builder.queryField("editionOperation", (t) =>
  t.field({
    type: EditionOperationRef,
    nullable: true,
    description: "An airdrop or claim of the caller's institution, with its progress; NOT_FOUND for any other.",
    authScopes: { scope: "read" },
    args: { id: t.arg.id({ required: true, description: "Operation id." }) },
    resolve: (_root, args, ctx) =>
      withOperationErrors(async () => {
        const key = id(args.id, "EditionOperation");
        const [row] = isId(key)
          ? await ctx.db.select(operationViewColumns).from(editionOperations).where(and(eq(editionOperations.id, key), eq(editionOperations.institutionId, ctx.caller!.institutionId)))
          : [];
        if (!row) throw new OperationError("NOT_FOUND", "edition operation not found", "id");
        return row;
      }),
  }),
);

builder.mutationField("createEdition", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, QuotaExceededError, InstitutionNotActiveError] },
    type: CreateEditionPayload,
    description:
      "Accepts an edition: its metadata (Dublin Core, images uploaded with `POST /media`) is built and checked now, pinned by the worker, and created on chain in the institution's editions contract (deployed on first use). Returns at once with the edition QUEUED.",
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: CreateEditionInput, required: true, description: "The edition." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(() =>
        requestCreateEdition(ctx, ctx.caller!.institutionId, {
          ...input,
          dublinCore: input.dublinCore as Partial<Record<DublinCoreField, string[] | null>> | null | undefined,
        }, actorOf(ctx.caller!)),
      ),
  }),
);

builder.mutationField("airdrop", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, EditionUnavailableError, InstitutionNotActiveError] },
    type: EditionOperationPayload,
    description:
      "Mints one item to each holder (up to 10,000), by address or by holder reference (held in custody until the holder claims it to a wallet), as one operation sent in batches under the per-transaction gas cap. EDITION_SOLD_OUT, before anything is queued, when the edition has fewer items left.",
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: AirdropInput, required: true, description: "Edition and holders." }) },
    resolve: (_root, { input }, ctx) => withOperationErrors(() => requestAirdrop(ctx, ctx.caller!.institutionId, { ...input, editionId: id(input.editionId) }, actorOf(ctx.caller!))),
  }),
);

builder.mutationField("createClaimCodes", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, EditionUnavailableError, InstitutionNotActiveError] },
    type: CreateClaimCodesPayload,
    description:
      "Makes single-use claim codes for a CONFIRMED edition (EDITION_NOT_READY before), each reserving one item (EDITION_SOLD_OUT when too few are left). Codes and their signed vouchers are shown once; only hashes are kept.",
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: CreateClaimCodesInput, required: true, description: "Edition, count and expiry." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(() => requestClaimCodes(ctx.db, ctx.caller!.institutionId, { ...input, editionId: id(input.editionId) }, ctx.siwe.chainId, ctx.custody.keyring())),
  }),
);

builder.mutationField("redeemClaimCode", (t) =>
  t.field({
    errors: { types: [ClaimCodeError, IdempotencyConflictError, InstitutionNotActiveError] },
    type: EditionOperationPayload,
    description:
      "Redeems a claim code for a holder: the worker mints one item with the contract's redeemFor, which spends the code's voucher on chain in the same call (the code never mints twice). CLAIM_CODE_INVALID (unknown, or another institution's), CLAIM_CODE_USED (also when its voucher was claimed on chain first), CLAIM_CODE_EXPIRED.",
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: RedeemClaimCodeInput, required: true, description: "Code and holder." }) },
    resolve: (_root, { input }, ctx) => withOperationErrors(() => requestRedeemClaimCode(ctx.db, ctx.caller!.institutionId, input, new Date(), ctx.custody)),
  }),
);



