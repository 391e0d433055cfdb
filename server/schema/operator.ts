import { desc, eq } from "drizzle-orm";
import { getAddress } from "ethers";
import { GraphQLError } from "graphql";
import { certificateRegistryAt, certificateRegistryInterface, chainRoleId } from "../../core/chain/certificate-registry.ts";
import { isId } from "../../core/db/ids.ts";
import { collections, institutions, INSTITUTION_STATUSES, registryOperations, REGISTRY_OPERATION_KINDS } from "../../core/db/schema.ts";
import {
  CHAIN_ROLES,
  requestRegisterInstitution,
  requestRoleChange,
  requestStatusChange,
  type ChainRole,
  type Institution,
  type RegistryOperation,
} from "../../core/operations/operator-requests.ts";
import { isDeployed } from "../../core/operations/collections.ts";
import { builder } from "../builder.ts";
import { CollectionNotReadyError, ConflictError, IdempotencyConflictError, InstitutionNotActiveError, InvalidInputError, NotFoundError, notFound, withOperationErrors } from "../errors.ts";
import { firstOwnerKeys, type ApiKeyRow } from "../auth/api-keys.ts";
import { ApiKeyRef } from "./access.ts";
import { describedValues, OperationStatusEnum } from "./enums.ts";
import { CollectionRef, InstitutionRef } from "./institution.ts";

const InstitutionStatusEnum = builder.enumType("InstitutionStatus", {
  description: "An institution's standing in the platform operator's issuer registry, as last confirmed from the chain.",
  values: describedValues(INSTITUTION_STATUSES, {
    PENDING: "Recorded; its registration on chain is not yet confirmed. It cannot issue.",
    ACTIVE: "Registered and active: it may issue.",
    SUSPENDED: "Suspended by the operator: its keys can read, issuing fails with INSTITUTION_SUSPENDED.",
  }),
});

const RegistryOperationKindEnum = builder.enumType("RegistryOperationKind", {
  description: "What an operator's operation changes on chain.",
  values: describedValues(REGISTRY_OPERATION_KINDS, {
    REGISTER_INSTITUTION: "IssuerRegistry.registerInstitution, binding the institution's certificate registries.",
    SUSPEND_INSTITUTION: "IssuerRegistry.suspendInstitution.",
    REACTIVATE_INSTITUTION: "IssuerRegistry.reactivateInstitution.",
    GRANT_ROLE: "CertificateRegistry.grantRole.",
    REVOKE_ROLE: "CertificateRegistry.revokeRole.",
  }),
});

const ChainRoleEnum = builder.enumType("ChainRole", {
  description: "A role of a certificate registry contract.",
  values: describedValues(CHAIN_ROLES, {
    ISSUER: "ISSUER_ROLE: issues, revokes, suspends and updates certificates.",
    MINTER: "MINTER_ROLE: issues and revokes (a worker's key).",
    PAUSER: "PAUSER_ROLE: pauses and unpauses issuance.",
  }),
});

builder.objectFields(InstitutionRef, (t) => ({
  status: t.field({ type: InstitutionStatusEnum, description: "Standing in the issuer registry, as confirmed from the chain.", resolve: (i) => i.status }),
  identity: t.exposeString("identity", { nullable: true, description: "DNS domain or DID bound to it in the issuer registry." }),
  chainInstitutionId: t.exposeString("chainInstitutionId", { nullable: true, description: "Its id in the issuer registry, once registered." }),
  suspendedReason: t.exposeString("suspendedReason", { nullable: true, description: "Why the operator suspended it, while SUSPENDED." }),
  createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was recorded." }),
}));

export const RegistryOperationRef = builder.objectRef<RegistryOperation>("RegistryOperation").implement({
  description: "A platform operator's change on chain: QUEUED → SUBMITTED → CONFIRMED (read back from the chain), or FAILED.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable identifier." }),
    kind: t.field({ type: RegistryOperationKindEnum, description: "What it changes.", resolve: (o) => o.kind }),
    status: t.field({ type: OperationStatusEnum, description: "Where it stands (never PINNED).", resolve: (o) => o.status }),
    institution: t.field({
      type: InstitutionRef,
      description: "The institution concerned (for roles, the collection's).",
      resolve: async (o, _args, ctx) => (await ctx.db.select().from(institutions).where(eq(institutions.id, o.institutionId)))[0]!,
    }),
    collection: t.field({
      type: CollectionRef,
      nullable: true,
      description: "The collection whose registry a role changes in.",
      resolve: async (o, _args, ctx) => (o.collectionId ? ((await ctx.db.select().from(collections).where(eq(collections.id, o.collectionId)))[0] ?? null) : null),
    }),
    role: t.field({ type: ChainRoleEnum, nullable: true, description: "The role granted or revoked.", resolve: (o) => (o.params.role as ChainRole) ?? null }),
    account: t.string({ nullable: true, description: "The account a role is granted to or revoked from.", resolve: (o) => o.params.account ?? null }),
    reason: t.string({ nullable: true, description: "The suspension's reason.", resolve: (o) => o.params.reason ?? null }),
    txHash: t.exposeString("txHash", { nullable: true, description: "Hash of its transaction, once signed." }),
    error: t.exposeString("error", { nullable: true, description: "Why it failed, when FAILED." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was requested." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "Last state change." }),
  }),
});

interface InstitutionOperation {
  institution: Institution;
  operation: RegistryOperation;
  created: boolean;
  /** registerInstitution only: the first OWNER's key (its secret only when just made). */
  ownerApiKey?: string | null;
  ownerKey?: ApiKeyRow | null;
}

const InstitutionOperationPayload = builder
  .objectRef<InstitutionOperation>("InstitutionOperationPayload")
  .implement({
    description: "Result of registerInstitution, suspendInstitution or reactivateInstitution.",
    fields: (t) => ({
      ownerApiKey: t.string({
        nullable: true,
        description:
          "registerInstitution: the secret of the institution's first OWNER API key (scopes read, issue and admin), shown this once. Null when the idempotency key names an earlier request, and for the other mutations.",
        resolve: (p) => p.ownerApiKey ?? null,
      }),
      ownerKey: t.field({
        type: ApiKeyRef,
        nullable: true,
        description: "registerInstitution: the record of the first OWNER's API key (never its secret). Null for the other mutations.",
        resolve: (p) => p.ownerKey ?? null,
      }),
      institution: t.field({
        type: InstitutionRef,
        description: "The institution as recorded now (its status changes when the operation is CONFIRMED).",
        resolve: async (p, _args, ctx) => (await ctx.db.select().from(institutions).where(eq(institutions.id, p.institution.id)))[0]!,
      }),
      operation: t.field({ type: RegistryOperationRef, description: "The operation that carries it to the chain.", resolve: (p) => p.operation }),
      created: t.exposeBoolean("created", { description: "False when this names an operation requested earlier." }),
    }),
  });

const ChainRoleOperationPayload = builder.objectRef<{ operation: RegistryOperation; created: boolean }>("ChainRoleOperationPayload").implement({
  description: "Result of grantChainRole or revokeChainRole.",
  fields: (t) => ({
    operation: t.field({ type: RegistryOperationRef, description: "The operation that carries it to the chain.", resolve: (p) => p.operation }),
    created: t.exposeBoolean("created", { description: "False when this names an operation requested earlier." }),
  }),
});

const RegisterInstitutionInput = builder.inputType("RegisterInstitutionInput", {
  description: "An institution to register in the issuer registry.",
  fields: (t) => ({
    name: t.string({ required: true, description: "Display name, 1 to 256 bytes (stored and returned verbatim)." }),
    slug: t.string({ required: true, description: "URL-safe short name: lower-case letters, digits, inner hyphens; unique." }),
    identity: t.string({ required: true, description: "A DNS domain (example.edu) or a DID (did:web:example.edu)." }),
    ownerEmail: t.string({ description: "The e-mail address of the institution's first OWNER; give this or `ownerAddress`." }),
    ownerAddress: t.string({ description: "The Ethereum address of the institution's first OWNER (EIP-55 when mixed-case); give this or `ownerEmail`." }),
    idempotencyKey: t.string({ required: true, description: "Your unique key for this request." }),
  }),
});

const SuspendInstitutionInput = builder.inputType("SuspendInstitutionInput", {
  description: "An institution to suspend.",
  fields: (t) => ({
    institutionId: t.id({ required: true, description: "The institution." }),
    reason: t.string({ required: true, description: "Why, kept in the chain's event; 1 to 1000 characters." }),
    idempotencyKey: t.string({ description: "Your unique key for this request. Without one, a suspension under way is answered again." }),
  }),
});

const ReactivateInstitutionInput = builder.inputType("ReactivateInstitutionInput", {
  description: "A suspended institution to reactivate.",
  fields: (t) => ({
    institutionId: t.id({ required: true, description: "The institution." }),
    idempotencyKey: t.string({ description: "Your unique key for this request. Without one, a reactivation under way is answered again." }),
  }),
});

const ChainRoleInput = builder.inputType("ChainRoleInput", {
  description: "A role of a collection's registry and the account it is granted to or revoked from.",
  fields: (t) => ({
    collectionId: t.id({ required: true, description: "The collection (any institution's)." }),
    role: t.field({ type: ChainRoleEnum, required: true, description: "The role." }),
    account: t.string({ required: true, description: "The account: EIP-55 checksum when mixed-case, not the zero address." }),
    idempotencyKey: t.string({ description: "Your unique key for this request. Without one, the same change under way is answered again." }),
  }),
});

builder.queryField("institutions", (t) =>
  t.field({
    type: [InstitutionRef],
    description: "Every institution, newest first (platform operator).",
    authScopes: { operator: true },
    resolve: (_root, _args, ctx) => ctx.db.select().from(institutions).orderBy(desc(institutions.createdAt)),
  }),
);

builder.queryField("registryOperation", (t) =>
  t.field({
    type: RegistryOperationRef,
    nullable: true,
    description: "An operator's operation, by id (platform operator).",
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true, description: "Operation id." }) },
    resolve: async (_root, { id }, ctx) => {
      const [row] = isId(String(id)) ? await ctx.db.select().from(registryOperations).where(eq(registryOperations.id, String(id))) : [];
      if (!row) throw notFound("registry operation");
      return row;
    },
  }),
);

const ChainRoleHolderRef = builder.objectRef<{ role: ChainRole; account: string }>("ChainRoleHolder").implement({
  description: "An account holding a role of a certificate registry, read from the chain.",
  fields: (t) => ({
    role: t.field({ type: ChainRoleEnum, description: "The role.", resolve: (h) => h.role }),
    account: t.exposeString("account", { description: "The account (EIP-55)." }),
  }),
});

builder.queryField("chainRoles", (t) =>
  t.field({
    type: [ChainRoleHolderRef],
    description: "Who holds each role of a collection's registry now, read from the chain: its RoleGranted/RoleRevoked events, each account checked with hasRole (platform operator).",
    authScopes: { operator: true },
    args: { collectionId: t.arg.id({ required: true, description: "The collection." }) },
    resolve: async (_root, { collectionId }, ctx) => {
      const [collection] = isId(String(collectionId)) ? await ctx.db.select().from(collections).where(eq(collections.id, String(collectionId))) : [];
      if (!collection) throw notFound("collection");
      if (!isDeployed(collection)) throw new CollectionNotReadyError("COLLECTION_NOT_READY", `the collection is ${collection.status} on chain: its contract does not exist yet`, "collectionId", { status: collection.status });
      const provider = ctx.chain;
      if (!provider) throw new GraphQLError("no chain is configured for this server", { extensions: { code: "CHAIN_UNAVAILABLE" } });
      const iface = certificateRegistryInterface();
      const logs = await provider.getLogs({
        address: collection.contractAddress,
        topics: [[iface.getEvent("RoleGranted")!.topicHash, iface.getEvent("RoleRevoked")!.topicHash]],
        fromBlock: collection.deployBlock,
        toBlock: "latest",
      });
      const byId = new Map(CHAIN_ROLES.map((r) => [chainRoleId(r), r]));
      const candidates = new Map<string, { role: ChainRole; account: string }>();
      for (const log of logs) {
        const parsed = iface.parseLog(log);
        const role = parsed && byId.get(parsed.args[0] as string);
        if (role) {
          const account = getAddress(parsed.args[1] as string);
          candidates.set(`${role}:${account}`, { role, account });
        }
      }
      const registry = certificateRegistryAt(collection.contractAddress, provider);
      const held = await Promise.all([...candidates.values()].map(async (c) => ((await registry.hasRole(chainRoleId(c.role), c.account)) as boolean) && c));
      return held.filter((h): h is { role: ChainRole; account: string } => !!h).sort((a, b) => a.role.localeCompare(b.role) || a.account.localeCompare(b.account));
    },
  }),
);

builder.mutationField("registerInstitution", (t) =>
  t.field({
    errors: { types: [InvalidInputError, IdempotencyConflictError, ConflictError] },
    type: InstitutionOperationPayload,
    description:
      "Records an institution (PENDING) with its first OWNER and that OWNER's API key (`ownerApiKey`, shown once), and registers it in the issuer registry on chain; ACTIVE once CONFIRMED (platform operator). The key can read and manage the institution at once; it can create collections and issue once the institution is ACTIVE.",
    authScopes: { operator: true },
    args: { input: t.arg({ type: RegisterInstitutionInput, required: true, description: "The institution." }) },
    resolve: (_root, { input }, ctx) => withOperationErrors(() => requestRegisterInstitution(ctx.db, input, firstOwnerKeys)),
  }),
);

builder.mutationField("suspendInstitution", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, ConflictError, InstitutionNotActiveError] },
    type: InstitutionOperationPayload,
    description:
      "Suspends an institution in the issuer registry. From the request on, its issuing fails with INSTITUTION_SUSPENDED; its keys still read (platform operator).",
    authScopes: { operator: true },
    args: { input: t.arg({ type: SuspendInstitutionInput, required: true, description: "The institution and why." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(() =>
        requestStatusChange(ctx.db, { ...input, institutionId: String(input.institutionId), kind: "SUSPEND_INSTITUTION" }),
      ),
  }),
);

builder.mutationField("reactivateInstitution", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, ConflictError, InstitutionNotActiveError] },
    type: InstitutionOperationPayload,
    description: "Reactivates a suspended institution; it may issue again once the operation is CONFIRMED (platform operator).",
    authScopes: { operator: true },
    args: { input: t.arg({ type: ReactivateInstitutionInput, required: true, description: "The institution." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(() =>
        requestStatusChange(ctx.db, { ...input, institutionId: String(input.institutionId), kind: "REACTIVATE_INSTITUTION" }),
      ),
  }),
);

builder.mutationField("grantChainRole", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, ConflictError, InstitutionNotActiveError, CollectionNotReadyError] },
    type: ChainRoleOperationPayload,
    description: "Grants a role of a collection's registry to an account, on chain, with the admin key (platform operator).",
    authScopes: { operator: true },
    args: { input: t.arg({ type: ChainRoleInput, required: true, description: "The collection, role and account." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(() => requestRoleChange(ctx.db, { ...input, collectionId: String(input.collectionId), grant: true })),
  }),
);

builder.mutationField("revokeChainRole", (t) =>
  t.field({
    errors: { types: [NotFoundError, IdempotencyConflictError, ConflictError, InstitutionNotActiveError, CollectionNotReadyError] },
    type: ChainRoleOperationPayload,
    description: "Revokes a role of a collection's registry from an account, on chain, with the admin key (platform operator).",
    authScopes: { operator: true },
    args: { input: t.arg({ type: ChainRoleInput, required: true, description: "The collection, role and account." }) },
    resolve: (_root, { input }, ctx) =>
      withOperationErrors(() => requestRoleChange(ctx.db, { ...input, collectionId: String(input.collectionId), grant: false })),
  }),
);
