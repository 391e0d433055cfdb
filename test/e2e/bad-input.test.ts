import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { getAddress, Wallet } from "ethers";
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from "graphql";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodePng } from "../../scripts/dev/demo-edition.ts";
import { approvalRequests, members } from "../../core/db/schema.ts";
import { createApiKey } from "../../server/auth/api-keys.ts";
import { issueCertificate } from "../core/verification/certificates.ts";
import { wrongChecksumAddress } from "../support/addresses.ts";
import { startTestDnsServer } from "../support/dns-server.ts";
import { graphqlClient, typedErrors } from "../support/graphql-http.ts";
import { startTestStack, waitFor } from "../support/stack.ts";
import { startMailSink, type MailSink } from "../../scripts/dev/mail-sink.ts";

/**
 * Bad input for every Mutation field, enumerated from the introspected schema: from a valid baseline call (a maker
 * per mutation, below), each argument and input field is replaced, one at a time, by values wrong for its GraphQL
 * type — wrong JSON types, nulls, oversized strings and lists, unicode and HTML, out-of-range numbers, malformed /
 * zero / wrongly checksummed addresses, unusable dates. Each must be refused with a stable code: a typed error (a
 * member of the mutation's result union) when the resolver refuses it, a GraphQL error only when the value does not
 * even fit the argument's GraphQL type. No 5xx, no stack or SQL in the message, and no row written to any table the API writes (operations, outbox, …):
 * nothing malformed reaches the queue or the chain. Text with unicode and HTML may instead be accepted, but then
 * it is stored verbatim. A mutation added to the schema without a maker here fails this test.
 */

/** Mutations that take no user input at all, so have nothing to try (with the reason). None today. */
const NO_INPUT: Record<string, string> = {};

/** The codes the API answers with: the OperationErrorCode union of core/operations/errors.ts, read from the file, and those of GraphQL and server/security. */
const KNOWN_CODES = new Set([
  ...[...readFileSync(new URL("../../core/operations/errors.ts", import.meta.url), "utf8").matchAll(/\|\s*"([A-Z_]+)"/g)].map((m) => m[1]!),
  "GRAPHQL_VALIDATION_FAILED",
  "GRAPHQL_PARSE_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "NOT_FOUND",
  "IDEMPOTENCY_CONFLICT",
  "CERTIFICATE_NOT_ACTIVE",
  "CERTIFICATE_REVOKED",
  "CERTIFICATE_SUPERSEDED",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "QUOTA_EXCEEDED",
  "INSTITUTION_SUSPENDED",
  "INSTITUTION_PENDING",
  "LAST_OWNER",
  "CONFLICT",
  "EDITION_SOLD_OUT",
  "EDITION_NOT_READY",
  "CLAIM_CODE_INVALID",
  "CLAIM_CODE_USED",
  "CLAIM_CODE_EXPIRED",
  "FILE_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "MAX_DEPTH_EXCEEDED",
  "MAX_COST_EXCEEDED",
  "MAX_ALIASES_EXCEEDED",
  "MAX_DIRECTIVES_EXCEEDED",
  "MAX_TOKENS_EXCEEDED",
  "PAYLOAD_TOO_LARGE",
]);

/** Tables only the worker, the indexer or the webhook sender write to: they move on their own during the sweep. */
const BACKGROUND_TABLES = new Set([
  "chain_txs",
  "signer_nonces",
  "indexer_cursors",
  "certificates",
  "webhook_deliveries",
  "edition_contracts",
  "edition_mint_batches",
  "media",
  "__drizzle_migrations",
]);

const HOSTILE = "<script>alert(1)</script> 證書 🎓";
const MEGABYTE = "x".repeat(1024 * 1024);
const LEAK = /\bat [\w.<>]+ \(|node_modules|\.ts:\d+|\b(select|insert|update|delete) .* (from|into|set)\b|violates|syntax error at|relation "|duplicate key|pglite|postgres/i;
/** Int fields where 0 is a meaningful value (none, no limit, no gifts). */
const ZERO_ALLOWED = new Set(["lockupSeconds", "maxGifts", "issuancesPerMonth", "storageBytes"]);
/** Arguments and input fields that hold an Ethereum address (not `recipientName` or `holderReference`). */
const ADDRESS_NAME = /^(.*address|recipient|.*holders?|account)$/i;
/** Text fields that are, by design, neither stored nor returned as given: accepted text cannot be shown verbatim. */
const NOT_KEPT: Record<string, string> = {
  holderReference: "kept only as a keyed hash of its normalized form (privacy)",
  holderReferences: "kept only as keyed hashes of their normalized forms (privacy)",
};
/** The input field a variant's label names (`input.holderReferences.0: …` names holderReferences). */
const fieldOf = (label: string) => String(label.split(": ")[0]!.split(".").filter((part) => !/^\d+$/.test(part)).pop());
/** Rows the indexer writes on its own, left out of the counts: the successor issuance of a confirmed recovery. */
const BACKGROUND_ROWS: Record<string, string> = { issuances: "idempotency_key not like 'recover:%'" };

type Caller = "institution" | "operator" | "anonymous";
interface Baseline {
  variables: Record<string, unknown>;
  as?: Caller;
  /** A bearer token of its own (a holder's session). */
  bearer?: string;
}
/** `fresh`: a call that may succeed (the baseline, or text that may be accepted), so needs objects of its own. */
type Maker = (fresh: boolean) => Promise<Baseline>;

interface Variant {
  label: string;
  variables: Record<string, unknown>;
  /** Text that may be accepted, if stored verbatim. */
  mayAccept?: string;
}

const uniq = () => randomUUID().slice(0, 8);
/** The demo collection's certificate template: every field optional, so issuing without `fields` still works. */
const TEMPLATE_FIELDS = [
  { key: "grade", label: "Grade", type: "TEXT", required: false, maxLength: 20, pattern: "^[A-F][+-]?$", shown: true, personal: false },
  { key: "level", label: "Level", type: "ENUM", required: false, enumValues: ["Bachelor", "Master"], shown: false },
];

describe("bad input for every mutation", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  /** confirmInstitutionDomain asks DNS: a server on 127.0.0.1 that knows no names, never the machine's resolvers. */
  let dns: Awaited<ReturnType<typeof startTestDnsServer>>;
  /** Where sign-in codes for holders without a wallet are sent (SMTP on 127.0.0.1). */
  let sink: MailSink;
  let schema: GraphQLSchema;
  let clients: Record<Caller, ReturnType<typeof graphqlClient>>;
  let url: string;
  const tried: string[] = [];
  let n = 0;
  let hostileN = 0;

  // Objects the makers hand out: `spare` ones to aim bad calls at, fresh ones for calls that may succeed.
  type AnchoredOne = { id: string; documentId: string; digest: string };
  const pool = {
    valid: [] as string[],
    personal: [] as string[],
    suspended: [] as string[],
    codes: [] as string[],
    active: [] as string[],
    suspendedInstitutions: [] as string[],
    anchored: [] as AnchoredOne[],
    anchoredBatches: [] as string[],
  };
  let spare: {
    certificate: string;
    suspended: string;
    code: string;
    institution: string;
    suspendedInstitution: string;
    member: string;
    edition: string;
    cid: string;
    anchoredCollection: string;
    anchoredCertificate: AnchoredOne;
    anchoredBatch: string;
  };
  const take = <T,>(list: T[], what: string): T => {
    const v = list.shift();
    if (!v) throw new Error(`the pool of ${what} is empty: make more in beforeAll`);
    return v;
  };

  let ownerKeys: Promise<{ first: string; second: string }> | undefined;
  const owners = () =>
    (ownerKeys ??= (async () => {
      const db = stack.db.db;
      const institutionId = stack.devInfo.institutionId;
      const key = async () => {
        const [member] = await db.insert(members).values({ institutionId, role: "OWNER", address: Wallet.createRandom().address }).returning();
        return (await createApiKey(db, { institutionId, name: "owner", scopes: ["read", "issue", "admin"], memberId: member!.id })).key;
      };
      return { first: await key(), second: await key() };
    })());
  const heldRequest = async () =>
    (
      await stack.db.db
        .insert(approvalRequests)
        .values({
          institutionId: stack.devInfo.institutionId,
          action: "POLICY_CHANGE",
          subjectKind: "approvalPolicy",
          requestHash: "bad-input",
          required: 10,
          approverRoles: ["OWNER"],
          payload: { collectionId: null, rules: [], ttlSeconds: 60 },
          expiresAt: new Date(Date.now() + 3_600_000),
        })
        .returning()
    )[0]!.id;

  async function ok<T = any>(as: Caller, query: string, variables?: Record<string, unknown>): Promise<T> {
    return clients[as].ok<T>(query, variables);
  }

  const makers: Record<string, Maker> = {
    issueCertificate: async () => ({
      variables: {
        input: {
          collectionId: stack.devInfo.collectionId,
          recipient: Wallet.createRandom().address,
          title: "Bachelor of Arts",
          recipientName: "Ada Lovelace",
          description: "With honours.",
          validUntil: "2040-01-01T00:00:00Z",
          attributes: [{ name: "grade", label: { en: "Grade", "zh-CN": "成绩" }, value: "A" }],
          personalAttributes: ["grade"],
          data: { credits: 180 },
          fields: { grade: "A" },
          idempotencyKey: `bad-${uniq()}`,
        },
      },
    }),
    issueCertificates: async () => ({
      variables: {
        input: {
          collectionId: stack.devInfo.collectionId,
          idempotencyKey: `bad-${uniq()}`,
          items: [
            {
              recipient: Wallet.createRandom().address,
              title: "Bachelor of Science",
              recipientName: "Grace Hopper",
              description: "With honours.",
              validUntil: "2040-01-01T00:00:00Z",
              attributes: [{ name: "grade", label: "Grade", value: "A" }],
              personalAttributes: ["grade"],
              data: { credits: 180 },
              fields: { grade: "A" },
              idempotencyKey: `bad-${uniq()}`,
            },
          ],
        },
      },
    }),
    anchorCertificates: async () => ({
      variables: {
        input: {
          collectionId: spare.anchoredCollection,
          idempotencyKey: `bad-${uniq()}`,
          certificates: [
            {
              recipient: Wallet.createRandom().address,
              title: "Transcript of Records",
              recipientName: "Ada Lovelace",
              description: "With honours.",
              validUntil: "2040-01-01T00:00:00Z",
              attributes: [{ name: "grade", label: "Grade", value: { en: "A", "zh-CN": "优" } }],
              data: { credits: 180 },
            },
          ],
        },
      },
    }),
    revokeAnchoredCertificate: async (fresh) => ({
      variables: { input: { anchoredCertificateId: (fresh ? take(pool.anchored, "anchored certificates") : spare.anchoredCertificate).id, reason: "Issued in error", idempotencyKey: `bad-${uniq()}` } },
    }),
    revokeAnchoredBatch: async (fresh) => ({
      variables: { input: { anchoredBatchId: fresh ? take(pool.anchoredBatches, "anchored batches") : spare.anchoredBatch, reason: "Session annulled", idempotencyKey: `bad-${uniq()}` } },
    }),
    revokeCertificate: async (fresh) => ({
      variables: { input: { certificateId: fresh ? take(pool.valid, "certificates") : spare.certificate, reason: "Issued in error", reasonCode: "AFFILIATION_CHANGED", idempotencyKey: `bad-${uniq()}` } },
    }),
    suspendCertificate: async (fresh) => ({
      variables: { input: { certificateId: fresh ? take(pool.valid, "certificates") : spare.certificate, reason: "Under review", idempotencyKey: `bad-${uniq()}` } },
    }),
    unsuspendCertificate: async (fresh) => ({
      variables: { input: { certificateId: fresh ? take(pool.suspended, "suspended certificates") : spare.suspended, reason: "Cleared", idempotencyKey: `bad-${uniq()}` } },
    }),
    recoverCertificate: async (fresh) => ({
      variables: {
        input: { certificateId: fresh ? take(pool.valid, "certificates") : spare.certificate, newHolder: Wallet.createRandom().address, reason: "Lost wallet", idempotencyKey: `bad-${uniq()}` },
      },
    }),
    correctCertificateMetadata: async (fresh) => ({
      variables: {
        input: {
          certificateId: fresh ? take(pool.valid, "certificates") : spare.certificate,
          title: "Bachelor of Arts (corrected)",
          recipientName: "Ada King",
          description: "Corrected.",
          attributes: [{ name: "grade", label: "Grade", value: "A+" }],
          data: { credits: 181 },
          reason: "Typo",
          idempotencyKey: `bad-${uniq()}`,
        },
      },
    }),
    createEdition: async () => ({
      variables: {
        input: {
          name: "Harbour",
          description: "Pictures.",
          story: "Once.",
          images: [{ cid: spare.cid, label: "Front" }],
          dublinCore: { creator: ["Demo Museum"], date: ["2024"], subject: ["Harbours"], rights: ["CC-BY"], identifier: ["DM.1"], type: ["StillImage"], format: ["image/png"], language: ["en"], coverage: ["Harbour"], description: ["Lamps"], source: ["Archive"], title: ["Harbour"] },
          maxSupply: 10,
          transferPolicy: "GIFT_AFTER_LOCKUP",
          lockupSeconds: 60,
          maxGifts: 1,
          idempotencyKey: `bad-${uniq()}`,
        },
      },
    }),
    airdrop: async () => ({ variables: { input: { editionId: spare.edition, holders: [Wallet.createRandom().address], idempotencyKey: `bad-${uniq()}` } } }),
    createClaimCodes: async () => ({ variables: { input: { editionId: spare.edition, count: 1, expiresAt: "2040-01-01T00:00:00Z", idempotencyKey: `bad-${uniq()}` } } }),
    redeemClaimCode: async (fresh) => ({
      variables: { input: { code: fresh ? take(pool.codes, "claim codes") : spare.code, holder: Wallet.createRandom().address, idempotencyKey: `bad-${uniq()}` } },
    }),
    addMember: async () => ({ variables: { input: { address: Wallet.createRandom().address, role: "VIEWER", idempotencyKey: `bad-${uniq()}` } } }),
    changeMemberRole: async () => ({ variables: { id: spare.member, role: "ISSUER", idempotencyKey: `bad-${uniq()}` } }),
    removeMember: async (fresh) => ({ variables: { id: fresh ? await newMember() : spare.member, idempotencyKey: `bad-${uniq()}` } }),
    createApiKey: async () => ({ variables: { input: { name: "ci", scopes: ["READ"], expiresAt: new Date(Date.now() + 365 * 86_400_000).toISOString(), memberId: spare.member, idempotencyKey: `bad-${uniq()}` } } }),
    revokeApiKey: async () => ({
      variables: { id: (await ok("institution", `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { ... on CreateApiKeyPayload { apiKey { id } } ... on Error { __typename code message field } } }`, { i: { name: "to revoke", scopes: ["READ"], idempotencyKey: `bad-${uniq()}` } })).createApiKey.apiKey.id, idempotencyKey: `bad-${uniq()}` },
    }),
    registerWebhook: async () => ({ variables: { url: `http://127.0.0.1:9/hook/${uniq()}`, idempotencyKey: `bad-${uniq()}` } }),
    disableWebhook: async () => ({ variables: { id: (await ok("institution", `mutation($u: String!, $k: String!) { registerWebhook(url: $u, idempotencyKey: $k) { ... on RegisterWebhookPayload { webhook { id } } ... on Error { __typename code message field } } }`, { u: `http://127.0.0.1:9/hook/${uniq()}`, k: `bad-${uniq()}` })).registerWebhook.webhook.id, idempotencyKey: `bad-${uniq()}` } }),
    requestHolderSignIn: async () => ({ as: "anonymous", variables: { address: Wallet.createRandom().address } }),
    holderSignIn: async () => {
      const wallet = Wallet.createRandom();
      const { requestHolderSignIn: c } = await ok("anonymous", `mutation($a: String!) { requestHolderSignIn(address: $a) { ... on HolderSignInChallenge { message nonce } ... on Error { __typename code message field } } }`, { a: wallet.address });
      return { as: "anonymous", variables: { nonce: c.nonce, signature: await wallet.signMessage(c.message) } };
    },
    registerInstitution: async () => {
      const slug = `bad-${uniq()}`;
      return { as: "operator", variables: { input: { name: `College ${slug}`, slug, identity: `${slug}.example.edu`, ownerEmail: `owner@${slug}.example.edu`, idempotencyKey: `bad-${uniq()}` } } };
    },
    // The demo institution (ACTIVE): an accepted call makes a collection the worker deploys in the background.
    createCollection: async () => ({ variables: { input: { name: `Archive ${uniq()}`, symbol: "ARC", kind: "CERTIFICATES", idempotencyKey: `bad-${uniq()}` } } }),
    suspendInstitution: async (fresh) => ({
      as: "operator",
      variables: { input: { institutionId: fresh ? take(pool.active, "active institutions") : spare.institution, reason: "Audit", idempotencyKey: `bad-${uniq()}` } },
    }),
    reactivateInstitution: async (fresh) => ({
      as: "operator",
      variables: { input: { institutionId: fresh ? take(pool.suspendedInstitutions, "suspended institutions") : spare.suspendedInstitution, idempotencyKey: `bad-${uniq()}` } },
    }),
    grantChainRole: async () => ({ as: "operator", variables: { input: { collectionId: stack.devInfo.collectionId, role: "PAUSER", account: Wallet.createRandom().address, idempotencyKey: `bad-${uniq()}` } } }),
    revokeChainRole: async (fresh) => {
      const account = Wallet.createRandom().address;
      if (fresh) {
        const { grantChainRole } = await ok("operator", `mutation($i: ChainRoleInput!) { grantChainRole(input: $i) { ... on ChainRoleOperationPayload { operation { id } } ... on Error { __typename code message field } } }`, { i: { collectionId: stack.devInfo.collectionId, role: "PAUSER", account } });
        await settledRegistry(grantChainRole.operation.id);
      }
      return { as: "operator", variables: { input: { collectionId: stack.devInfo.collectionId, role: "PAUSER", account, idempotencyKey: `bad-${uniq()}` } } };
    },
    // The demo collection's template (set in beforeAll, all optional, so calls without fields still pass).
    setCollectionTemplate: async () => ({ variables: { input: { collectionId: stack.devInfo.collectionId, fields: TEMPLATE_FIELDS, idempotencyKey: `bad-${uniq()}` } } }),
    createHolderClaim: async () => ({ variables: { input: { holderReference: `ref-${uniq()}@example.org`, expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(), idempotencyKey: `bad-${uniq()}` } } }),
    claimCustody: async () => {
      const { createHolderClaim } = await ok("institution", `mutation($i: CreateHolderClaimInput!) { createHolderClaim(input: $i) { ... on HolderClaim { claimCode } ... on Error { __typename code message field } } }`, { i: { holderReference: `ref-${uniq()}@example.org`, idempotencyKey: `bad-${uniq()}` } });
      return { bearer: await holderSession(), variables: { code: createHolderClaim.claimCode, idempotencyKey: `bad-${uniq()}` } };
    },
    requestHolderEmailCode: async () => ({ as: "anonymous", variables: { email: `ref-${uniq()}@example.org`, language: "zh-CN" } }),
    holderEmailSignIn: async () => {
      const { email, code } = await emailCode();
      return { as: "anonymous", variables: { email, code } };
    },
    claimAllCustody: async () => {
      const wallet = Wallet.createRandom();
      const bearer = await emailSession();
      const { requestHolderSignIn: c } = await ok("anonymous", `mutation($a: String!) { requestHolderSignIn(address: $a) { ... on HolderSignInChallenge { message nonce } ... on Error { __typename code message field } } }`, { a: wallet.address });
      return { bearer, variables: { nonce: c.nonce, signature: await wallet.signMessage(c.message), idempotencyKey: `bad-${uniq()}` } };
    },
    createCredentialOffer: async () => ({ variables: { certificateId: spare.certificate, txCode: true, expiresInMinutes: 30 } }),
    erasePersonalData: async (fresh) => ({
      variables: { input: { certificateId: fresh ? take(pool.personal, "certificates with personal data") : spare.certificate, reason: "The holder asked for erasure", idempotencyKey: `bad-${uniq()}` } },
    }),
    setCollectionPublicHolderNames: async () => ({ variables: { input: { collectionId: stack.devInfo.collectionId, publicHolderNames: false } } }),
    setQuota: async () => ({ as: "operator", variables: { input: { institutionId: spare.institution, issuancesPerMonth: 100, maxBatchSize: 50, storageBytes: 1_000_000, idempotencyKey: `bad-${uniq()}` } } }),
    rotateIssuerKey: async () => ({ variables: { input: { compromised: false, idempotencyKey: `bad-${uniq()}` } } }),
    // Dual control needs keys made for OWNER members (the demo key acts for none). The policy goes on the anchored
    // collection, whose revocations it does not hold, so no other maker's call waits for approval.
    setApprovalPolicy: async () => ({
      bearer: (await owners()).first,
      variables: { input: { collectionId: spare.anchoredCollection, rules: [{ action: "BULK_ISSUANCE", required: 2, approverRoles: ["OWNER"], aboveItems: 5000 }], ttlSeconds: 3600 } },
    }),
    // A request no one asked through the API: more approvals than there are owners, so a decision never releases it.
    approveOperation: async () => ({ bearer: (await owners()).second, variables: { id: await heldRequest(), idempotencyKey: `bad-${uniq()}` } }),
    rejectOperation: async () => ({ bearer: (await owners()).second, variables: { id: await heldRequest(), reason: "Not ours", idempotencyKey: `bad-${uniq()}` } }),
    // A retired key: rotated out just now.
    markIssuerKeyCompromised: async () => {
      await ok("institution", `mutation($i: RotateIssuerKeyInput!) { rotateIssuerKey(input: $i) { ... on RotateIssuerKeyPayload { created } ... on Error { __typename code message field } } }`, { i: { idempotencyKey: `bad-${uniq()}` } });
      const { viewer } = await ok("institution", `query { viewer { issuerKeys { id status } } }`);
      return { variables: { issuerKeyId: viewer.issuerKeys.find((k: { status: string }) => k.status === "RETIRED").id } };
    },
    // An institution registered on chain with a domain: checked against the test's DNS server (not proven, recorded).
    confirmInstitutionDomain: async () => ({ as: "operator", variables: { institutionId: spare.institution } }),
  };

  /** Further baselines for mutations whose inputs exclude each other (each walked like the first). */
  const alternates: Record<string, Maker[]> = {
    // A member is named by an address or by an e-mail, never both.
    // A certificate goes to an address or to a holder reference, never both.
    issueCertificate: [
      async () => {
        const { variables } = await makers.issueCertificate!(false);
        const { recipient: _, ...input } = variables.input as Record<string, unknown>;
        return { variables: { input: { ...input, holderReference: `ref-${uniq()}@example.org` } } };
      },
    ],
    issueCertificates: [
      async () => {
        const { variables } = await makers.issueCertificates!(false);
        const input = variables.input as { items: Record<string, unknown>[] };
        const { recipient: _, ...item } = input.items[0]!;
        return { variables: { input: { ...input, items: [{ ...item, holderReference: `ref-${uniq()}@example.org` }] } } };
      },
    ],
    addMember: [async () => ({ variables: { input: { email: `m${uniq()}@example.org`, role: "VIEWER", idempotencyKey: `bad-${uniq()}` } } })],
    // Collectibles go to addresses or to holder references (custodial accounts).
    airdrop: [async () => ({ variables: { input: { editionId: spare.edition, holderReferences: [`ref-${uniq()}@example.org`], idempotencyKey: `bad-${uniq()}` } } })],
    redeemClaimCode: [
      async (fresh) => ({
        variables: { input: { code: fresh ? take(pool.codes, "claim codes") : spare.code, holderReference: `ref-${uniq()}@example.org`, idempotencyKey: `bad-${uniq()}` } },
      }),
    ],
    // An anchored certificate is named by its id, its document's id or its digest: exactly one.
    revokeAnchoredCertificate: [
      async (fresh) => ({
        variables: { input: { documentId: (fresh ? take(pool.anchored, "anchored certificates") : spare.anchoredCertificate).documentId, reason: "Issued in error", idempotencyKey: `bad-${uniq()}` } },
      }),
      async (fresh) => ({
        variables: { input: { digest: (fresh ? take(pool.anchored, "anchored certificates") : spare.anchoredCertificate).digest, reason: "Issued in error", idempotencyKey: `bad-${uniq()}` } },
      }),
    ],
    // An institution's first owner is named by an e-mail or by an address, never both.
    registerInstitution: [
      async () => {
        const slug = `bad-${uniq()}`;
        return { as: "operator", variables: { input: { name: `College ${slug}`, slug, identity: `${slug}.example.edu`, ownerAddress: Wallet.createRandom().address, idempotencyKey: `bad-${uniq()}` } } };
      },
    ],
    // enumValues belong to ENUM fields, maxLength and pattern to TEXT ones: each baseline's first field gives one kind.
    setCollectionTemplate: [async () => ({ variables: { input: { collectionId: stack.devInfo.collectionId, fields: [...TEMPLATE_FIELDS].reverse(), idempotencyKey: `bad-${uniq()}` } } })],
  };

  /** Selection sets the generic one cannot build (item-level errors sit deeper). */
  const SELECTIONS: Record<string, string> = {
    issueCertificates:
      "{ __typename ... on IssueCertificatesPayload { bulkIssuance { id rejected } results { index created error { code message field } issuance { id } } } ... on Error { code message field } }",
  };

  /** A holder signed in with Ethereum: the bearer token of a new wallet's session. */
  async function holderSession(): Promise<string> {
    const wallet = Wallet.createRandom();
    const { requestHolderSignIn: c } = await ok("anonymous", `mutation($a: String!) { requestHolderSignIn(address: $a) { ... on HolderSignInChallenge { message nonce } ... on Error { __typename code message field } } }`, { a: wallet.address });
    const { holderSignIn } = await ok("anonymous", `mutation($n: String!, $s: String!) { holderSignIn(nonce: $n, signature: $s) { ... on HolderSession { token } ... on Error { __typename code message field } } }`, { n: c.nonce, s: await wallet.signMessage(c.message) });
    return holderSignIn.token;
  }

  /** A sign-in code for a new holder reference an institution made a claim for, read from the mail it was sent in. */
  async function emailCode(): Promise<{ email: string; code: string }> {
    const email = `ref-${uniq()}@example.org`;
    await ok("institution", `mutation($i: CreateHolderClaimInput!) { createHolderClaim(input: $i) { ... on HolderClaim { created } ... on Error { __typename code message field } } }`, { i: { holderReference: email, idempotencyKey: `bad-${uniq()}` } });
    const before = sink.messages().length;
    await ok("anonymous", `mutation($e: String!) { requestHolderEmailCode(email: $e) { ... on HolderEmailCodeRequest { expiresAt } ... on Error { __typename code message field } } }`, { e: email });
    const mail = await sink.next(email, { after: before });
    return { email, code: /\b(\d{6})\b/.exec(mail.text)![1]! };
  }

  /** A holder signed in by e-mail, with an account in custody: the bearer token of the session. */
  async function emailSession(): Promise<string> {
    const { email, code } = await emailCode();
    const { holderEmailSignIn } = await ok("anonymous", `mutation($e: String!, $c: String!) { holderEmailSignIn(email: $e, code: $c) { ... on HolderEmailSession { token } ... on Error { __typename code message field } } }`, { e: email, c: code });
    return holderEmailSignIn.token;
  }

  async function newMember(): Promise<string> {
    const res = await ok("institution", `mutation($i: AddMemberInput!) { addMember(input: $i) { ... on AddMemberPayload { member { id } } ... on Error { __typename code message field } } }`, {
      i: { address: Wallet.createRandom().address, role: "VIEWER", idempotencyKey: `bad-${uniq()}` },
    });
    return res.addMember.member.id;
  }

  async function settledRegistry(id: string) {
    const done = await waitFor(
      async () => (await ok("operator", `query($id: ID!) { registryOperation(id: $id) { status error } }`, { id })).registryOperation,
      (o: any) => o.status === "CONFIRMED" || o.status === "FAILED",
    );
    if (done.status !== "CONFIRMED") throw new Error(`registry operation failed: ${done.error}`);
  }

  beforeAll(async () => {
    dns = await startTestDnsServer();
    sink = await startMailSink();
    stack = await startTestStack({ RATE_LIMIT_PER_INSTITUTION: "0", RATE_LIMIT_PER_IP: "0", HOLDER_EMAIL_CODES_PER_CLIENT: "0", DNS_SERVERS: dns.servers.join(","), SMTP_URL: sink.url });
    await graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.apiKey).ok(`mutation($i: SetCollectionTemplateInput!) { setCollectionTemplate(input: $i) { ... on SetCollectionTemplatePayload { created } ... on Error { __typename code message field } } }`, {
      i: { collectionId: stack.devInfo.collectionId, fields: TEMPLATE_FIELDS, idempotencyKey: "pool-template" },
    });
    url = stack.devInfo.graphqlUrl;
    clients = {
      institution: graphqlClient(url, stack.devInfo.apiKey),
      operator: graphqlClient(url, stack.devInfo.operatorKey),
      anonymous: graphqlClient(url),
    };
    const introspection = await clients.institution.raw(getIntrospectionQuery());
    expect(introspection.body.errors).toBeUndefined();
    schema = buildClientSchema(introspection.body.data as unknown as IntrospectionQuery);

    // Certificates: VALID ones for the certificate operations, SUSPENDED ones for unsuspendCertificate.
    const certs = await Promise.all(Array.from({ length: 26 }, (_, i) => issueCertificate(stack, { recipient: Wallet.createRandom().address, title: `Pool ${i}` })));
    const ids = certs.map((c) => c.id);
    spare = { certificate: ids.shift()! } as typeof spare;
    const toSuspend = ids.splice(0, 5);
    for (const id of toSuspend) {
      await ok("institution", `mutation($i: CertificateSuspensionInput!) { suspendCertificate(input: $i) { ... on CertificateOperationPayload { operation { id } } ... on Error { __typename code message field } } }`, { i: { certificateId: id, reason: "pool", idempotencyKey: `pool-${id}` } });
    }
    await Promise.all(
      toSuspend.map((id) => waitFor(async () => (await ok("institution", `query($id: ID!) { certificate(id: $id) { status } }`, { id })).certificate.status, (s) => s === "SUSPENDED", 60_000)),
    );
    spare.suspended = toSuspend.shift()!;
    pool.suspended.push(...toSuspend);
    pool.valid.push(...ids);
    // Certificates with a holder's name, each erased once by an erasePersonalData call that may succeed.
    const named = await Promise.all(Array.from({ length: 10 }, (_, i) => issueCertificate(stack, { recipient: Wallet.createRandom().address, title: `Named ${i}`, recipientName: `Holder ${i}` })));
    pool.personal.push(...named.map((c) => c.id));

    // An edition (CONFIRMED) with claim codes.
    const form = new FormData();
    form.set("file", new Blob([new Uint8Array(encodePng(4, 4, () => [200, 100, 50]))]), "bad.png");
    const uploaded = await fetch(url.replace(/\/graphql$/, "/media"), { method: "POST", headers: { authorization: `Bearer ${stack.devInfo.apiKey}`, "x-graphql-csrf": "1" }, body: form });
    spare.cid = ((await uploaded.json()) as { cid: string }).cid;
    const created = await ok("institution", `mutation($i: CreateEditionInput!) { createEdition(input: $i) { ... on CreateEditionPayload { edition { id } } ... on Error { __typename code message field } } }`, {
      i: { name: "Pool", images: [{ cid: spare.cid, label: "x" }], maxSupply: 10_000, transferPolicy: "LOCKED", idempotencyKey: "pool-edition" },
    });
    spare.edition = created.createEdition.edition.id;
    await waitFor(async () => (await ok("institution", `query($id: ID!) { edition(id: $id) { status } }`, { id: spare.edition })).edition.status, (s) => s === "CONFIRMED", 90_000);
    const codes = await ok("institution", `mutation($i: CreateClaimCodesInput!) { createClaimCodes(input: $i) { ... on CreateClaimCodesPayload { codes { code } } ... on Error { __typename code message field } } }`, {
      i: { editionId: spare.edition, count: 16, expiresAt: "2040-01-01T00:00:00Z", idempotencyKey: "pool-codes" },
    });
    pool.codes.push(...codes.createClaimCodes.codes.map((c: { code: string }) => c.code));
    spare.code = pool.codes.shift()!;
    spare.member = await newMember();

    // Anchored batches: an ANCHORED collection, one batch whose certificates are revoked one at a time, and batches
    // revoked whole (apart, so a batch revoked whole never takes the single certificates' baselines with it).
    const anchoredCollection = (
      await ok("institution", `mutation($i: CreateCollectionInput!) { createCollection(input: $i) { ... on CreateCollectionPayload { collection { id } } ... on Error { __typename code message field } } }`, {
        i: { name: "Pool Transcripts", symbol: "PTR", kind: "ANCHORED", idempotencyKey: "pool-anchored" },
      })
    ).createCollection.collection.id as string;
    await waitFor(async () => (await ok("institution", `query($id: ID!) { collection(id: $id) { status } }`, { id: anchoredCollection })).collection.status, (s) => s === "CONFIRMED", 90_000);
    spare.anchoredCollection = anchoredCollection;
    const anchorPool = async (n: number, key: string): Promise<string> =>
      (
        await ok("institution", `mutation($i: AnchorCertificatesInput!) { anchorCertificates(input: $i) { ... on AnchorCertificatesPayload { anchoredBatch { id } } ... on Error { __typename code message field } } }`, {
          i: { collectionId: anchoredCollection, idempotencyKey: key, certificates: Array.from({ length: n }, () => ({ recipient: Wallet.createRandom().address })) },
        })
      ).anchorCertificates.anchoredBatch.id;
    const batchIds = [await anchorPool(16, "pool-anchored-certificates")];
    for (let i = 0; i < 7; i++) batchIds.push(await anchorPool(1, `pool-anchored-${i}`));
    const anchoredBatches = await Promise.all(
      batchIds.map((id) =>
        waitFor(
          async () => (await ok("institution", `query($id: ID!) { anchoredBatch(id: $id) { status certificates(first: 100) { edges { node { id documentId digest } } } } }`, { id })).anchoredBatch,
          (b: any) => b.status === "CONFIRMED",
          90_000,
        ),
      ),
    );
    const anchoredOnes = anchoredBatches[0]!.certificates.edges.map((e: { node: AnchoredOne }) => e.node) as AnchoredOne[];
    spare.anchoredCertificate = anchoredOnes.shift()!;
    pool.anchored.push(...anchoredOnes);
    spare.anchoredBatch = batchIds[1]!;
    pool.anchoredBatches.push(...batchIds.slice(2));

    // Institutions registered on chain: ACTIVE ones to suspend, SUSPENDED ones to reactivate.
    const registered: string[] = [];
    for (let i = 0; i < 8; i++) {
      const slug = `pool-${i}-${uniq()}`;
      const res = await ok("operator", `mutation($i: RegisterInstitutionInput!) { registerInstitution(input: $i) { ... on InstitutionOperationPayload { institution { id } operation { id } } ... on Error { __typename code message field } } }`, {
        i: { name: `Pool ${i}`, slug, identity: `${slug}.example.edu`, ownerEmail: `owner@${slug}.example.edu`, idempotencyKey: slug },
      });
      await settledRegistry(res.registerInstitution.operation.id);
      registered.push(res.registerInstitution.institution.id);
    }
    for (const id of registered.slice(0, 3)) {
      const res = await ok("operator", `mutation($i: SuspendInstitutionInput!) { suspendInstitution(input: $i) { ... on InstitutionOperationPayload { operation { id } } ... on Error { __typename code message field } } }`, { i: { institutionId: id, reason: "pool" } });
      await settledRegistry(res.suspendInstitution.operation.id);
    }
    spare.suspendedInstitution = registered[0]!;
    pool.suspendedInstitutions.push(...registered.slice(1, 3));
    spare.institution = registered[3]!;
    pool.active.push(...registered.slice(4));
  }, 300_000);

  afterAll(async () => {
    await stack?.cleanup();
    await sink?.close();
    await dns?.close();
  });

  /** Row counts of every table the API writes (so a new table is counted the day it appears). */
  async function counts(): Promise<Record<string, number>> {
    const tables = (await stack.db.db.execute(sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`)) as unknown as {
      rows: { table_name: string }[];
    };
    const names = tables.rows.map((r) => r.table_name).filter((t) => !BACKGROUND_TABLES.has(t));
    const res = (await stack.db.db.execute(sql.raw(names.map((t) => `select '${t}' as t, count(*)::int as n from "${t}"${BACKGROUND_ROWS[t] ? ` where ${BACKGROUND_ROWS[t]}` : ""}`).join(" union all ")))) as unknown as {
      rows: { t: string; n: number }[];
    };
    return Object.fromEntries(res.rows.map((r) => [r.t, r.n]));
  }

  /** Is this exact text stored somewhere (a column, or inside a JSON document)? */
  async function storedVerbatim(text: string): Promise<boolean> {
    const tables = (await stack.db.db.execute(sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`)) as unknown as {
      rows: { table_name: string }[];
    };
    for (const { table_name } of tables.rows) {
      const res = (await stack.db.db.execute(sql.raw(`select count(*)::int as n from "${table_name}" t where strpos(t::text, '${text.replace(/'/g, "''")}') > 0`))) as unknown as {
        rows: { n: number }[];
      };
      if (res.rows[0]!.n > 0) return true;
    }
    return false;
  }

  function selection(field: GraphQLField<unknown, unknown>): string {
    if (SELECTIONS[field.name]) return SELECTIONS[field.name]!;
    const scalars = (type: ReturnType<typeof getNamedType>, depth: number): string => {
      if (!isObjectType(type) && !isInterfaceType(type)) return "";
      const parts = ["__typename"];
      for (const f of Object.values(type.getFields())) {
        if (f.args.some((a) => isNonNullType(a.type))) continue;
        const named = getNamedType(f.type);
        if (isScalarType(named) || isEnumType(named)) parts.push(f.name);
        else if (depth > 0) {
          const inner = scalars(named, depth - 1);
          if (inner) parts.push(`${f.name} ${inner}`);
        }
      }
      return `{ ${parts.join(" ")} }`;
    };
    const type = getNamedType(field.type);
    // A result union: every member's fields, the payload's and each typed error's.
    if (isUnionType(type)) return `{ __typename ${type.getTypes().map((member) => `... on ${member.name} ${scalars(member, 1)}`).join(" ")} }`;
    return scalars(type, 1);
  }

  function document(field: GraphQLField<unknown, unknown>, variables: Record<string, unknown>): string {
    const present = field.args.filter((a) => a.name in variables);
    const decl = present.map((a) => `$${a.name}: ${String(a.type)}`);
    const args = present.map((a) => `${a.name}: $${a.name}`);
    return `mutation${decl.length ? `(${decl.join(", ")})` : ""} { ${field.name}${args.length ? `(${args.join(", ")})` : ""} ${selection(field)} }`;
  }

  /** Deep copy of `root` with the value at `path` replaced (or removed, for `undefined`). */
  function replaced(root: Record<string, unknown>, path: (string | number)[], value: unknown): Record<string, unknown> {
    const copy = structuredClone(root);
    let at: any = copy;
    for (const key of path.slice(0, -1)) at = at[key];
    const last = path[path.length - 1]!;
    if (value === undefined) delete at[last];
    else at[last] = value;
    return copy;
  }

  /** The bad values for one argument or input field, by its type and name; `value` is its baseline value. */
  function badValues(type: GraphQLInputType, name: string, value: unknown): { label: string; value: unknown; text?: boolean }[] {
    const out: { label: string; value: unknown; text?: boolean }[] = [];
    if (isNonNullType(type)) out.push({ label: "null", value: null });
    const inner = getNullableType(type) as GraphQLInputType;
    if (isListType(inner)) {
      out.push({ label: "an object for a list", value: { not: "a list" } });
      if (isNonNullType(type)) out.push({ label: "an empty list", value: [] });
      if (Array.isArray(value) && value.length) out.push({ label: "10,001 items", value: Array.from({ length: 10_001 }, () => structuredClone(value[0])) });
      return out;
    }
    if (isInputObjectType(inner)) {
      out.push({ label: "a string for an object", value: "not an object" }, { label: "an unknown field", value: { ...(value as object), notAField: 1 } });
      return out;
    }
    if (isEnumType(inner)) {
      out.push({ label: "an unknown enum value", value: "NOT_A_VALUE" }, { label: "a number for an enum", value: 1 });
      return out;
    }
    switch (inner.name) {
      case "String":
        out.push({ label: "a number for a string", value: 12345 }, { label: "an object for a string", value: { a: 1 } }, { label: "a 1 MB string", value: MEGABYTE });
        out.push({ label: "unicode and HTML", value: HOSTILE, text: true });
        if (ADDRESS_NAME.test(name)) {
          out.push(
            { label: 'address "0x123"', value: "0x123" },
            { label: "the zero address", value: `0x${"0".repeat(40)}` },
            { label: "a wrong-checksum mixed-case address", value: wrongChecksumAddress() },
            { label: '"not-an-address"', value: "not-an-address" },
          );
        }
        break;
      case "LocalizedText":
        out.push({ label: "a number for text", value: 12345 }, { label: "a list for text", value: ["a"] }, { label: "a 1 MB string", value: MEGABYTE });
        out.push(
          { label: "a language map with a key that is no language tag", value: { "not a tag": "text" } },
          { label: "a language map with a number", value: { en: 1 } },
          { label: "an empty language map", value: {} },
          { label: "a language map with a 1 MB text", value: { en: MEGABYTE } },
          { label: "a language map giving a language twice", value: { en: "a", EN: "b" } },
        );
        out.push({ label: "unicode and HTML", value: HOSTILE, text: true });
        break;
      case "ID":
        out.push({ label: "an object for an ID", value: { a: 1 } }, { label: "a boolean for an ID", value: true }, { label: "an unknown id", value: "not-an-id" });
        out.push({ label: "a 1 MB id", value: MEGABYTE }, { label: "unicode and HTML as an id", value: HOSTILE }, { label: "SQL as an id", value: "' OR 1=1 --" });
        break;
      case "Int":
        out.push({ label: "a string for an Int", value: "12" }, { label: "a fraction", value: 1.5 }, { label: "-1", value: -1 });
        if (!ZERO_ALLOWED.has(name)) out.push({ label: "0", value: 0 });
        out.push({ label: "2^31", value: 2 ** 31 }, { label: "1e20", value: 1e20 });
        break;
      case "Float":
        out.push({ label: "a string for a Float", value: "12" }, { label: "-1", value: -1 }, { label: "a fraction", value: 1.5 }, { label: "1e300", value: 1e300 });
        if (!ZERO_ALLOWED.has(name)) out.push({ label: "0", value: 0 });
        break;
      case "Boolean":
        out.push({ label: "a string for a Boolean", value: "yes" });
        break;
      case "DateTime":
        out.push(
          { label: "a number for a DateTime", value: 12345 },
          { label: '"yesterday"', value: "yesterday" },
          { label: "a date without a time zone", value: "2040-01-01" },
          { label: "an impossible date", value: "2040-13-45T99:99:99Z" },
          { label: "a past date", value: "2001-01-01T00:00:00Z" },
        );
        break;
      case "JSON":
        out.push({ label: "a string for a JSON object", value: "text" }, { label: "a list for a JSON object", value: [1, 2] }, { label: "a 1 MB JSON object", value: { big: MEGABYTE } });
        break;
      default:
        throw new Error(`${name}: no bad values for scalar ${inner.name} — teach badValues() in this test`);
    }
    return out;
  }

  /** Every bad variant of a call: each argument and input field (at any depth, first list item) replaced by each bad value. */
  function variants(field: GraphQLField<unknown, unknown>, baseline: Record<string, unknown>, omitted: string[]): Variant[] {
    const out: Variant[] = [];
    const walk = (type: GraphQLInputType, name: string, path: (string | number)[], value: unknown) => {
      for (const bad of badValues(type, name, value)) {
        const label = `${path.join(".")}: ${bad.label}`;
        if (bad.text) {
          const text = `${HOSTILE} #${++hostileN}`;
          out.push({ label, variables: replaced(baseline, path, text), mayAccept: text });
        } else out.push({ label, variables: replaced(baseline, path, bad.value) });
      }
      const inner = getNullableType(type) as GraphQLInputType;
      if (isListType(inner) && Array.isArray(value) && value.length) walk(inner.ofType as GraphQLInputType, name, [...path, 0], value[0]);
      if (isInputObjectType(inner) && value && typeof value === "object") {
        for (const f of Object.values(inner.getFields())) {
          const v = (value as Record<string, unknown>)[f.name];
          if (v === undefined && !isNonNullType(f.type)) {
            omitted.push([...path, f.name].join("."));
            continue;
          }
          walk(f.type, f.name, [...path, f.name], v);
        }
      }
    };
    for (const a of field.args) {
      if (!(a.name in baseline)) {
        omitted.push(a.name);
        continue;
      }
      walk(a.type, a.name, [a.name], baseline[a.name]);
    }
    return out;
  }

  const problems: string[] = [];

  /** Checks a refusal; answers a problem or undefined. */
  function refusalProblem(status: number, body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] }, fieldName: string): string | undefined {
    if (status >= 500) return `HTTP ${status}: ${short(body)}`;
    const typed = typedErrors(body.data);
    if (typed.length) {
      // Refused by the resolver: a typed member of the mutation's result union, alone.
      if (body.errors?.length) return `a typed error and GraphQL errors at once: ${short(body)}`;
      const e = typed[0]!;
      if (!KNOWN_CODES.has(e.code)) return `code ${e.code} is not a known one: ${short(e)}`;
      if (LEAK.test(e.message.slice(0, 2000))) return `the message leaks internals: ${short(e.message)}`;
      return undefined;
    }
    if (!body.errors?.length) return `accepted: ${short(body.data)}`;
    for (const e of body.errors as { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[]) {
      const code = e.extensions?.code as string | undefined;
      if (!code) return `an error without a code: ${short(e)}`;
      if (!KNOWN_CODES.has(code)) return `code ${code} is not a known one: ${short(e)}`;
      if (LEAK.test(e.message.slice(0, 2000))) return `the message leaks internals: ${short(e.message)}`;
      // A GraphQL error at a path was raised while resolving: an expected failure there belongs in the result union.
      if (e.path && code !== "UNAUTHENTICATED" && code !== "FORBIDDEN") return `${code} is a GraphQL error, not a typed result: ${short(e)}`;
    }
    if (body.data?.[fieldName] != null) return `errors, but data too: ${short(body.data)}`;
    return undefined;
  }

  const short = (v: unknown) => {
    const s = JSON.stringify(v) ?? "undefined";
    return s.length > 400 ? `${s.slice(0, 400)}…` : s;
  };

  it("refuses bad input to every mutation with a stable code, and stores nothing malformed", async () => {
    const covered: string[] = [];
    for (const field of Object.values(schema.getMutationType()!.getFields())) {
      const name = `Mutation.${field.name}`;
      if (!field.args.length) {
        if (!NO_INPUT[field.name]) problems.push(`${name} takes no arguments: add it to NO_INPUT with the reason, or give it a maker`);
        continue;
      }
      if (!makers[field.name]) {
        problems.push(`${name}: no maker builds a valid baseline call for it — add one to \`makers\` in test/e2e/bad-input.test.ts`);
        continue;
      }
      // Each optional argument or input field must be tried from at least one baseline.
      const omittedBy: string[][] = [];
      for (const make of [makers[field.name]!, ...(alternates[field.name] ?? [])]) {
        const spareCall = await make(false);
        const client = spareCall.bearer ? graphqlClient(url, spareCall.bearer) : clients[spareCall.as ?? "institution"];
        const omitted: string[] = [];
        for (const variant of variants(field, spareCall.variables, omitted)) {
          n++;
          const label = `${name} ${variant.label}`;
          tried.push(label);
          let variables = variant.variables;
          let caller = client;
          if (variant.mayAccept) {
            // Text that may be accepted: aimed at objects of its own, so that an accepted call changes nothing shared.
            const fresh = await make(true);
            const path = variant.label.split(": ")[0]!.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p));
            variables = replaced(fresh.variables, path, variant.mayAccept);
            caller = fresh.bearer ? graphqlClient(url, fresh.bearer) : clients[fresh.as ?? "institution"];
          }
          const before = await counts();
          const { status, body } = await caller.raw(document(field, variables), variables);
          const after = await counts();
          const changed = Object.keys(after).filter((t) => after[t] !== before[t]);
          if (field.name === "issueCertificates" && variant.label.startsWith("input.items.") && !body.errors?.length && !typedErrors(body.data).length && status < 500) {
            // A bad item is refused in its own result; the bulk row records the refusal, nothing is queued.
            const results = (body.data as any)?.issueCertificates?.results ?? [];
            if (variant.mayAccept && results.length && results.every((r: any) => !r.error)) {
              if (!NOT_KEPT[fieldOf(variant.label)] && !(await storedVerbatim(variant.mayAccept))) problems.push(`${label}: accepted, but the text is not stored verbatim: ${short(body.data)}`);
              continue;
            }
            const bad = results.filter((r: any) => !r.error || !KNOWN_CODES.has(r.error.code) || LEAK.test(r.error.message));
            const wrote = changed.filter((t) => t !== "bulk_issuances");
            if (!results.length || bad.length || wrote.length) problems.push(`${label}: item not refused cleanly (${wrote.join(", ") || "no table"} written): ${short(body.data)}`);
            continue;
          }
          if (variant.mayAccept && !body.errors?.length && !typedErrors(body.data).length && status < 500) {
            if (NOT_KEPT[fieldOf(variant.label)]) continue;
            const returned = JSON.stringify(body.data).includes(variant.mayAccept);
            if (!returned && !(await storedVerbatim(variant.mayAccept))) problems.push(`${label}: accepted, but the text is neither returned nor stored verbatim: ${short(body.data)}`);
            continue;
          }
          const problem = refusalProblem(status, body, field.name);
          if (problem) problems.push(`${label}: ${problem}`);
          if (changed.length) problems.push(`${label}: wrote rows to ${changed.join(", ")} (${changed.map((t) => `${before[t]} → ${after[t]}`).join(", ")})`);
        }
        omittedBy.push(omitted);
        // The baseline itself is valid: the refusals above are the bad values', not the rest of the call's.
        const baseline = await make(true);
        const res = await (baseline.bearer ? graphqlClient(url, baseline.bearer) : clients[baseline.as ?? "institution"]).raw(document(field, baseline.variables), baseline.variables);
        if (res.body.errors?.length || typedErrors(res.body.data).length) {
          problems.push(`${name}: the baseline call is refused, so its variants prove nothing: ${short(res.body.errors ?? res.body.data)}`);
        }
        else if (!covered.includes(field.name)) covered.push(field.name);
      }
      const neverTried = omittedBy.reduce((a, b) => a.filter((x) => b.includes(x)));
      for (const path of neverTried) problems.push(`${name}: no baseline gives ${path} a value, so it is never tried — give it one in the maker`);
    }
    console.info(`bad input: ${n} bad calls over ${covered.length} mutations (${covered.join(", ")})`);
    expect(problems, `bad-input problems (${problems.length}):\n  ${problems.join("\n  ")}`).toEqual([]);
    for (const m of ["issueCertificate", "issueCertificates", "revokeCertificate", "addMember", "createEdition", "airdrop", "registerInstitution", "requestHolderSignIn"]) expect(covered).toContain(m);
  }, 900_000);

  it("refuses oversized and non-image files on POST /media with 413 FILE_TOO_LARGE / 415 UNSUPPORTED_MEDIA_TYPE, storing nothing", async () => {
    const upload = async (bytes: Uint8Array<ArrayBuffer>, name: string) => {
      const form = new FormData();
      form.set("file", new Blob([bytes]), name);
      const res = await fetch(url.replace(/\/graphql$/, "/media"), { method: "POST", headers: { authorization: `Bearer ${stack.devInfo.apiKey}`, "x-graphql-csrf": "1" }, body: form });
      return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
    };
    const mediaRows = async () => ((await stack.db.db.execute(sql`select count(*)::int as n from media`)) as unknown as { rows: { n: number }[] }).rows[0]!.n;
    const before = await mediaRows();
    const big = await upload(new Uint8Array(64 * 1024 * 1024).fill(7), "big.png");
    expect([big.status, big.body.error?.code]).toEqual([413, "FILE_TOO_LARGE"]);
    const html = await upload(new TextEncoder().encode(`<html><script>alert(1)</script> 證書 🎓</html>`), "page.png");
    expect([html.status, html.body.error?.code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    expect(LEAK.test(JSON.stringify([big.body, html.body]))).toBe(false);
    expect(await mediaRows()).toBe(before);
  }, 120_000);
});
