import { eq } from "drizzle-orm";
import { ISSUER_KEY_STATUSES, institutions } from "../../core/db/schema.ts";
import { issuerKeyMethod, issuerKeysOf, markIssuerKeyCompromised, rotateIssuerKey, type IssuerKey } from "../../core/credentials/institution-keys.ts";
import { domainOfIdentity, didWebUrl, platformDidPath } from "../../core/identity/did-web.ts";
import { confirmInstitutionDomain, dnsProofRecord, DNS_PROOF_PREFIX, latestDomainProof, type DomainProof } from "../../core/identity/domain-proof.ts";
import { buildDidDocument, issuerDidOf, isPlatformHosted } from "../../core/identity/issuer-identity.ts";
import { isId } from "../../core/db/ids.ts";
import { OperationError } from "../../core/operations/errors.ts";
import { parseIdempotencyKey } from "../../core/operations/validate.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { ConflictError, IdempotencyConflictError, InstitutionNotActiveError, InvalidInputError, NotFoundError, withOperationErrors } from "../errors.ts";
import { describedValues } from "./enums.ts";
import { InstitutionRef, type InstitutionRow } from "./institution.ts";

const IssuerKeyStatusEnum = builder.enumType("IssuerKeyStatus", {
  description: "Where a key of an institution's DID document stands.",
  values: describedValues(ISSUER_KEY_STATUSES, {
    CURRENT: "Signs exported credentials now.",
    RETIRED: "Replaced by a rotation; still listed in the DID document (and its assertionMethod), so what it signed still verifies.",
    COMPROMISED: "Left out of the DID document: what it signed no longer verifies.",
  }),
});

const IssuerKeyRef = builder.objectRef<IssuerKey & { did: string }>("IssuerKey").implement({
  authScopes: { readData: true },
  description: "An Ed25519 key of the institution's DID document (never its secret).",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier (for markIssuerKeyCompromised)." }),
    publicKeyMultibase: t.exposeString("publicKeyMultibase", { description: "The public key, multibase (z6Mk…)." }),
    verificationMethod: t.string({ description: "Its id in the DID document, which proofs name as `verificationMethod`.", resolve: (k) => issuerKeyMethod(k.did, k) }),
    status: t.field({ type: IssuerKeyStatusEnum, description: "Current, retired or compromised.", resolve: (k) => k.status }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was made." }),
    retiredAt: t.expose("retiredAt", { type: "DateTime", nullable: true, description: "When a rotation replaced it." }),
    compromisedAt: t.expose("compromisedAt", { type: "DateTime", nullable: true, description: "When it was marked compromised." }),
  }),
});

const DomainProofRef = builder.objectRef<DomainProof>("DomainProof").implement({
  authScopes: { readData: true },
  description: `A check of the DNS TXT record at \`${DNS_PROOF_PREFIX}.<domain>\` that binds the institution's domain to its issuer registry entry, as the operator ran it.`,
  fields: (t) => ({
    domain: t.exposeString("domain", { description: "The domain its identity names." }),
    method: t.exposeString("method", { description: "How it was checked: DNS_TXT." }),
    proven: t.exposeBoolean("proven", { description: "Whether the record was found as expected." }),
    record: t.exposeString("record", { nullable: true, description: "The TXT record that proved it." }),
    reason: t.exposeString("reason", { description: "What was found, or why it does not prove the domain." }),
    chainId: t.exposeInt("chainId", { description: "The chain the record had to name." }),
    issuerRegistry: t.exposeString("issuerRegistry", { description: "The issuer registry the record had to name." }),
    chainInstitutionId: t.exposeString("chainInstitutionId", { description: "The entry of that registry the record had to name." }),
    checkedAt: t.expose("checkedAt", { type: "DateTime", description: "When it was checked." }),
  }),
});

builder.objectFields(InstitutionRef, (t) => ({
  issuerDid: t.string({
    description:
      "The DID its exported credentials name as issuer: the did:web on its own domain when its identity is one (did:web:example.edu), else did:web:<public host>:institutions:<slug>, hosted by Hallmark.",
    resolve: (i, _args, ctx) => issuerDidOf(i, ctx.identity.publicOrigin),
  }),
  didDocumentUrl: t.string({
    description: "Where its DID document must be found: Hallmark's /institutions/<slug>/did.json, or https://<domain>/.well-known/did.json, where the institution publishes `didDocument`.",
    resolve: (i, _args, ctx) => (isPlatformHosted(i) ? new URL(platformDidPath(i.slug), ctx.identity.publicOrigin).href : didWebUrl(issuerDidOf(i, ctx.identity.publicOrigin)).href),
  }),
  didDocument: t.field({
    type: "JSON",
    description: "Its DID document as it must be published (every key not compromised, in verificationMethod and assertionMethod). Publish it again after each rotation when it is on your own domain. Public keys only, like the document itself.",
    resolve: async (i, _args, ctx) => buildDidDocument(issuerDidOf(i, ctx.identity.publicOrigin), await issuerKeysOf(ctx.db, i.id, ctx.custody.keyring())),
  }),
  issuerKeys: t.field({
    type: [IssuerKeyRef],
    description: "The keys of its DID document, oldest first, compromised ones included (never their secrets).",
    resolve: async (i, _args, ctx) => {
      const did = issuerDidOf(i, ctx.identity.publicOrigin);
      return (await issuerKeysOf(ctx.db, i.id, ctx.custody.keyring())).map((k) => ({ ...k, did }));
    },
  }),
  domainProof: t.field({
    type: DomainProofRef,
    nullable: true,
    description: "The latest check of its domain's DNS proof (confirmInstitutionDomain); null when never checked.",
    resolve: async (i, _args, ctx) => (await latestDomainProof(ctx.db, i.id)) ?? null,
  }),
  dnsProofRecord: t.string({
    nullable: true,
    description: `The TXT record to publish at \`${DNS_PROOF_PREFIX}.<domain>\` to prove its domain; null until it is registered on chain, or when its identity names no domain or no issuer registry is configured.`,
    resolve: (i, _args, ctx) => expectedRecord(i, ctx),
  }),
  dnsProofName: t.string({
    nullable: true,
    description: "The DNS name the TXT record is published at; null when its identity names no domain.",
    resolve: (i) => {
      const domain = domainOfIdentity(i.identity);
      return domain ? `${DNS_PROOF_PREFIX}.${domain}` : null;
    },
  }),
}));

function expectedRecord(i: InstitutionRow, ctx: Context): string | null {
  if (!domainOfIdentity(i.identity) || !i.chainInstitutionId || !ctx.identity.issuerRegistry) return null;
  return dnsProofRecord({ chainId: ctx.identity.chainId, issuerRegistry: ctx.identity.issuerRegistry, chainInstitutionId: i.chainInstitutionId });
}

async function ownInstitution(ctx: Context): Promise<InstitutionRow> {
  const [row] = await ctx.db.select().from(institutions).where(eq(institutions.id, ctx.caller!.institutionId));
  return row!;
}

const RotateIssuerKeyInput = builder.inputType("RotateIssuerKeyInput", {
  description: "A rotation of the key exported credentials are signed with.",
  fields: (t) => ({
    compromised: t.boolean({
      defaultValue: false,
      description: "Whether the key being replaced is compromised: it then leaves the DID document and what it signed stops verifying. Otherwise it is retired and stays listed.",
    }),
    idempotencyKey: t.string({ required: true, description: "Your unique key for this request: sent again, it answers the key the first made." }),
  }),
});

const RotateIssuerKeyPayload = builder.objectRef<{ key: IssuerKey & { did: string }; created: boolean }>("RotateIssuerKeyPayload").implement({
  description: "Result of rotateIssuerKey.",
  fields: (t) => ({
    key: t.field({ type: IssuerKeyRef, description: "The new current key.", resolve: (p) => p.key }),
    created: t.exposeBoolean("created", { description: "False when the idempotency key names an earlier rotation." }),
  }),
});

builder.mutationField("rotateIssuerKey", (t) =>
  t.field({
    errors: { types: [InvalidInputError, IdempotencyConflictError] },
    type: RotateIssuerKeyPayload,
    description:
      "Makes a new key for signing exported credentials and retires the current one, which stays in the DID document so earlier credentials still verify (or, `compromised: true`, leaves it). An institution on its own domain publishes its `didDocument` again. Needs ADMIN.",
    authScopes: { scope: "admin" },
    args: { input: t.arg({ type: RotateIssuerKeyInput, required: true, description: "The rotation." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(async () => {
        const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
        const institution = await ownInstitution(ctx);
        const { key, created } = await rotateIssuerKey(ctx.db, { institutionId: institution.id, compromised: input.compromised ?? false, idempotencyKey }, ctx.custody.keyring());
        return { key: { ...key, did: issuerDidOf(institution, ctx.identity.publicOrigin) }, created };
      }),
  }),
);

builder.mutationField("markIssuerKeyCompromised", (t) =>
  t.field({
    errors: { types: [NotFoundError, ConflictError] },
    type: IssuerKeyRef,
    description: "Marks a retired key compromised: it leaves the DID document, and what it signed no longer verifies. The current key is replaced with rotateIssuerKey(compromised: true). Marking again changes nothing. Needs ADMIN.",
    authScopes: { scope: "admin" },
    args: { issuerKeyId: t.arg.id({ required: true, description: "The key (`IssuerKey.id`)." }) },
    resolve: (_root, { issuerKeyId }, ctx) =>
      withOperationErrors(async () => {
        const institution = await ownInstitution(ctx);
        const id = String(issuerKeyId);
        const key = isId(id) ? await markIssuerKeyCompromised(ctx.db, { institutionId: institution.id, keyId: id }) : undefined;
        if (!key) throw new OperationError("NOT_FOUND", "issuer key not found", "issuerKeyId");
        return { ...key, did: issuerDidOf(institution, ctx.identity.publicOrigin) };
      }),
  }),
);

builder.mutationField("confirmInstitutionDomain", (t) =>
  t.field({
    errors: { types: [NotFoundError, InvalidInputError, InstitutionNotActiveError, ConflictError] },
    type: DomainProofRef,
    description: `Checks the DNS proof of the domain an institution's identity names (a TXT record at \`${DNS_PROOF_PREFIX}.<domain>\`, see Institution.dnsProofRecord) and records the check, proven or not; call again to re-check. The verification's issuer check tells the latest (platform operator).`,
    authScopes: { operator: true },
    args: { institutionId: t.arg.id({ required: true, description: "The institution, registered on chain." }) },
    resolve: (_root, { institutionId }, ctx) =>
      withOperationErrors(() =>
        confirmInstitutionDomain(ctx.db, ctx.identity.dnsLookup, { institutionId: String(institutionId), chainId: ctx.identity.chainId, issuerRegistry: ctx.identity.issuerRegistry }),
      ),
  }),
);
