import { holderAccount, holderCertificates, type CustodialHolder } from "../../core/custody/holder-accounts.ts";
import { claimCustody, requestHolderClaim, type ClaimMoves, type NewHolderClaim } from "../../core/custody/holder-claims.ts";
import { CollectibleReleaseRef, releasesByIds } from "./collectible-releases.ts";
import type { CertificateOperation } from "../../core/operations/certificate-operations.ts";
import { eq, inArray } from "drizzle-orm";
import type { Database } from "../../core/db/index.ts";
import { certificateOperations, custodialHolders } from "../../core/db/schema.ts";
import { idempotent } from "../../core/operations/idempotency.ts";
import { builder } from "../builder.ts";
import { keyScope } from "../context.ts";
import { CertificateStateError, ClaimCodeError, ConflictError, IdempotencyConflictError, InstitutionNotActiveError, withOperationErrors } from "../errors.ts";
import { CertificateRef } from "./certificate.ts";
import { OperationStatusEnum } from "./enums.ts";

/** An account shows at most this many certificates. */
const MAX_HELD = 100;

const HolderAccountRef = builder.objectRef<CustodialHolder>("HolderAccount").implement({
  // Institution data: a key of the institution reads it only with READ, wherever it is reached from.
  authScopes: { readData: true },
  description:
    "A holder the institution names by its own reference (student number, e-mail) rather than an address: their certificates are held in a custodial account until they claim them to a wallet of their own.",
  fields: (t) => ({
    custodialAddress: t.exposeString("custodialAddress", {
      description: "The custodial account (EIP-55) the platform derives for this institution and reference; the same every time, another for another institution.",
    }),
    claimedAddress: t.exposeString("claimedAddress", { nullable: true, description: "The holder's own wallet, once they have claimed; later issuances go straight to it." }),
    claimedAt: t.expose("claimedAt", { type: "DateTime", nullable: true, description: "When the holder claimed." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the first certificate or claim code for this reference was requested." }),
    certificates: t.field({
      type: [CertificateRef],
      description: `The institution's certificates held for this holder, in custody or in the claimed wallet, newest first (at most ${MAX_HELD}).`,
      resolve: (h, _args, ctx) => holderCertificates(ctx.db, h, MAX_HELD),
    }),
  }),
});

const HolderClaimRef = builder.objectRef<NewHolderClaim>("HolderClaim").implement({
  description: "A single-use claim code for a holder without a wallet, for the institution to hand over.",
  fields: (t) => ({
    claimCode: t.exposeString("code", {
      nullable: true,
      description: "The code, shown in this answer only (only its hash is kept); null when the idempotency key named an earlier request.",
    }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", description: "After this the code is refused with CLAIM_CODE_EXPIRED." }),
    created: t.exposeBoolean("created", { description: "False when the idempotency key named an earlier request." }),
    holderAccount: t.field({ type: HolderAccountRef, description: "The holder the code claims for.", resolve: (c) => c.holder }),
  }),
});

const CreateHolderClaimInput = builder.inputType("CreateHolderClaimInput", {
  description: "A claim code for a holder named by reference.",
  fields: (t) => ({
    holderReference: t.string({ required: true, description: "Your reference for the holder, as given at issuance." }),
    idempotencyKey: t.string({ required: true, description: "Your unique key for this request; repeating it answers the same claim (without the code)." }),
    expiresAt: t.field({ type: "DateTime", description: "When the code stops working; within a year. Default: in 30 days." }),
  }),
});

const CustodyClaimOperationRef = builder.objectRef<CertificateOperation>("CustodyClaimOperation").implement({
  description: "One certificate moving from custody to the holder's wallet: a recovery (reissue), QUEUED → PINNED → SUBMITTED → CONFIRMED.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The certificate operation (the institution reads it as `certificateOperation`)." }),
    certificateId: t.exposeID("certificateId", { description: "The certificate in custody; it becomes SUPERSEDED by the one reissued to the wallet." }),
    status: t.field({ type: OperationStatusEnum, description: "Where the move stood when the claim was accepted.", resolve: (o) => o.status }),
  }),
});

const ClaimCustodyPayload = builder.objectRef<{ holder: CustodialHolder; created: boolean } & ClaimMoves>("ClaimCustodyPayload").implement({
  description: "Result of claimCustody.",
  fields: (t) => ({
    created: t.exposeBoolean("created", { description: "False when the idempotency key named an earlier claim: its answer, as the operations stand now." }),
    address: t.string({ description: "The wallet the certificates move to: the signed-in holder's.", resolve: (p) => p.holder.claimedAddress! }),
    custodialAddress: t.string({ description: "The custodial account they leave.", resolve: (p) => p.holder.custodialAddress }),
    operations: t.field({
      type: [CustodyClaimOperationRef],
      description: "One recovery per certificate held in custody; once CONFIRMED the reissued certificates appear under `holder { certificates }`.",
      resolve: (p) => p.operations,
    }),
    collectibles: t.field({
      type: [CollectibleReleaseRef],
      description: "One release per edition of which collectibles were held in custody; once CONFIRMED the items appear under `holder { collectibles }`.",
      resolve: (p) => p.releases,
    }),
  }),
});

builder.queryField("holderAccount", (t) =>
  t.field({
    type: HolderAccountRef,
    nullable: true,
    description: "Your institution's holder under a reference (student number, e-mail); null when nothing was issued to it nor a claim code made.",
    authScopes: { scope: "read" },
    args: { holderReference: t.arg.string({ required: true, description: "Your reference for the holder, as given at issuance." }) },
    resolve: (_root, { holderReference }, ctx) => withOperationErrors(() => holderAccount(ctx.db, ctx.custody, ctx.caller!.institutionId, holderReference)),
  }),
);

builder.mutationField("createHolderClaim", (t) =>
  t.field({
    errors: { types: [IdempotencyConflictError, ConflictError, InstitutionNotActiveError] },
    type: HolderClaimRef,
    description:
      "Makes a single-use, expiring claim code for a holder named by reference. Hand it to the holder: after Sign-In with Ethereum they redeem it with `claimCustody`. ALREADY_CLAIMED once the holder has claimed.",
    authScopes: { scope: "issue" },
    args: { input: t.arg({ type: CreateHolderClaimInput, required: true, description: "The holder and the code's lifetime." }) },
    resolve: (_root, { input }, ctx) => withOperationErrors(() => requestHolderClaim(ctx.db, ctx.custody, ctx.caller!.institutionId, input)),
  }),
);

builder.mutationField("claimCustody", (t) =>
  t.field({
    errors: { types: [ClaimCodeError, ConflictError, IdempotencyConflictError, InstitutionNotActiveError, CertificateStateError] },
    type: ClaimCustodyPayload,
    description:
      "For a holder signed in with Ethereum (`Authorization: Bearer hs_…`): redeems a claim code from their institution. Every certificate held in custody for them is reissued to their wallet (serial, history and replaces/supersededBy links kept), and later issuances to their reference go to the wallet. CLAIM_CODE_INVALID, CLAIM_CODE_USED, CLAIM_CODE_EXPIRED, ALREADY_CLAIMED; CONFLICT while a certificate for them is still being issued.",
    authScopes: { holder: true },
    args: {
      code: t.arg.string({ required: true, description: "The claim code the institution handed over." }),
      idempotencyKey: t.arg.string({
        description: "Your unique key for this claim: a retry with it answers the first claim (instead of CLAIM_CODE_USED); with another code, IDEMPOTENCY_CONFLICT.",
      }),
    },
    resolve: (_root, { code, idempotencyKey }, ctx) =>
      withOperationErrors(async () => {
        const { value, replayed } = await idempotent(
          ctx.db,
          { scope: keyScope(ctx), key: idempotencyKey, operation: "claimCustody", request: { code: String(code).trim() } },
          async (tx) => {
            const claimed = await claimCustody(tx as unknown as Database, { code, wallet: ctx.holder! });
            return { value: claimed, result: { holderId: claimed.holder.id, operationIds: claimed.operations.map((o) => o.id), releaseIds: claimed.releases.map((r) => r.id) } };
          },
          async (result) => {
            const ids = result.operationIds as string[];
            const [holder] = await ctx.db.select().from(custodialHolders).where(eq(custodialHolders.id, String(result.holderId)));
            const operations = ids.length ? await ctx.db.select().from(certificateOperations).where(inArray(certificateOperations.id, ids)) : [];
            const releases = await releasesByIds(ctx.db, (result.releaseIds as string[] | undefined) ?? []);
            return { holder: holder!, operations: ids.map((id) => operations.find((o) => o.id === id)!), releases };
          },
        );
        return { ...value, created: !replayed };
      }),
  }),
);
