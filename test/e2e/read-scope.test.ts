import { Wallet } from "ethers";
import {
  getNamedType,
  isInterfaceType,
  isLeafType,
  isNonNullType,
  isObjectType,
  isUnionType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../server/auth/api-keys.ts";
import { schema } from "../../server/schema/index.ts";
import { graphqlClient } from "../support/graphql-http.ts";
import { startTestStack } from "../support/stack.ts";

/**
 * Object types a key without READ may see when a mutation answers them: the record of the operation it asked for
 * (its id, status, error, transaction), the codes it made, and the holder's own sign-in objects (whose roots refuse
 * institution keys). Everything else reachable from a mutation or `viewer` must be guarded by `readData`, or sit
 * behind a type that is. A new type reached without READ fails the walk below until it is guarded or listed here.
 */
const VISIBLE_WITHOUT_READ = new Set([
  "Issuance",
  "BulkIssuance",
  "BulkIssuanceProgress",
  "BulkItemResult",
  "ItemError",
  "CertificateOperation",
  "Revocation",
  "EditionOperation",
  "RegistryOperation",
  "AnchoredBatch",
  "AnchoredRevocation",
  "CustodyClaimOperation",
  "HolderClaim",
  "ClaimCode",
  "ClaimVoucher",
  "ApiKeyMaker",
  "HolderSession",
  "HolderSignInChallenge",
  // The offer a key with ISSUE made for a holder's wallet (its link and transaction code): a code it made.
  "CredentialOffer",
  // The holder's own e-mail sign-in and claim objects: their mutations refuse institution keys.
  "HolderEmailSession",
  "HolderEmailCodeRequest",
  "HolderClaimOperation",
  "CollectibleRelease",
  "PageInfo",
]);

type Options = { authScopes?: unknown; skipTypeScopes?: boolean };
const typeGuarded = (t: GraphQLNamedType) => {
  const scopes = (t.extensions as { pothosOptions?: Options }).pothosOptions?.authScopes;
  return !!scopes && typeof scopes === "object" && (scopes as Record<string, unknown>).readData === true;
};
const skipsTypeScopes = (f: GraphQLField<unknown, unknown>) => !!(f.extensions as { pothosOptions?: Options }).pothosOptions?.skipTypeScopes;
const isPayloadOrError = (t: GraphQLObjectType) => t.name.endsWith("Payload") || t.name === "OperationUpdate" || t.getInterfaces().some((i) => i.name === "Error");

/** Every object type reachable from each mutation's result and from `viewer`, with the path that reached it, without passing a guard. */
function reachableWithoutRead(): Map<string, string> {
  const reached = new Map<string, string>();
  const queue: [GraphQLNamedType, string][] = [];
  const visit = (t: GraphQLNamedType, path: string) => {
    if (reached.has(t.name)) return;
    reached.set(t.name, path);
    queue.push([t, path]);
  };
  for (const f of Object.values(schema.getMutationType()!.getFields())) visit(getNamedType(f.type), `mutation.${f.name}`);
  visit(getNamedType(schema.getQueryType()!.getFields().viewer!.type), "query.viewer");
  while (queue.length) {
    const [t, path] = queue.shift()!;
    if (isUnionType(t)) for (const m of t.getTypes()) visit(m, `${path}(${m.name})`);
    if (isInterfaceType(t)) for (const m of schema.getPossibleTypes(t)) visit(m, `${path}(${m.name})`);
    if (!isObjectType(t) && !isInterfaceType(t)) continue;
    const guarded = typeGuarded(t);
    for (const f of Object.values(t.getFields())) {
      // A guarded type's fields are reached only through its guard, but for those that skip it.
      if (guarded && !skipsTypeScopes(f)) continue;
      visit(getNamedType(f.type), `${path}.${f.name}`);
    }
  }
  return reached;
}

describe("READ guards institution data on every path (schema walk)", () => {
  it("every object type a mutation or viewer reaches without passing a READ guard is an operation record, a payload or an error", () => {
    const open: string[] = [];
    for (const [name, path] of reachableWithoutRead()) {
      const t = schema.getType(name)!;
      if (!isObjectType(t) || typeGuarded(t) || isPayloadOrError(t) || VISIBLE_WITHOUT_READ.has(name)) continue;
      if (["Query", "Mutation", "Subscription"].includes(name)) continue;
      open.push(`${name} (via ${path})`);
    }
    expect(open, "types reachable without READ: add `authScopes: { readData: true }` or list them as operation records").toEqual([]);
  });

  it("guards the types that hold an institution's data", () => {
    for (const name of ["Institution", "Collection", "Certificate", "HolderAccount", "Edition", "Collectible", "CollectionTemplate", "Quota", "Webhook", "Member", "ApiKey"]) {
      expect(typeGuarded(schema.getType(name)!), name).toBe(true);
    }
  });
});

describe("a key without READ over HTTP", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let issueOnly: ReturnType<typeof graphqlClient>;
  let reader: ReturnType<typeof graphqlClient>;
  let n = 0;
  const key = () => `read-scope-${++n}-${Date.now()}`;

  beforeAll(async () => {
    stack = await startTestStack();
    const institutionId = stack.devInfo.institutionId;
    issueOnly = graphqlClient(stack.devInfo.graphqlUrl, (await createApiKey(stack.db.db, { institutionId, name: "issue only", scopes: ["issue"] })).key);
    reader = graphqlClient(stack.devInfo.graphqlUrl, (await createApiKey(stack.db.db, { institutionId, name: "reader", scopes: ["read", "issue"] })).key);
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  /** A selection of a field with no required argument: its name, and `{ __typename }` under an object. */
  const select = (f: GraphQLField<unknown, unknown>) => (isLeafType(getNamedType(f.type)) ? f.name : `${f.name} { __typename }`);
  const callable = (f: GraphQLField<unknown, unknown>) => !f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined);

  it("gets FORBIDDEN on every guarded field of viewer, found from the schema; a READ key gets each", async () => {
    const institution = schema.getType("Institution") as GraphQLObjectType;
    const guarded = Object.values(institution.getFields()).filter((f) => !skipsTypeScopes(f) && callable(f));
    expect(guarded.map((f) => f.name)).toContain("collections");
    for (const f of guarded) {
      const query = `{ viewer { id ${select(f)} } }`;
      const e = await issueOnly.fails(query);
      expect([f.name, e.code]).toEqual([f.name, "FORBIDDEN"]);
      await reader.ok(query);
    }
    // Which institution it belongs to, a key without READ may still ask.
    expect((await issueOnly.ok<{ viewer: { id: string } }>(`{ viewer { id name } }`)).viewer.id).toBe(stack.devInfo.institutionId);
  });

  it("createHolderClaim answers the claim it made, but not the holder's certificates", async () => {
    const holderReference = `student-${key()}@example.edu`;
    const CLAIM = (inner: string) =>
      `mutation($input: CreateHolderClaimInput!) { createHolderClaim(input: $input) { ... on HolderClaim { created claimCode expiresAt ${inner} } ... on Error { __typename code message field } } }`;
    const made = await issueOnly.ok<{ createHolderClaim: any }>(CLAIM(""), { input: { holderReference, idempotencyKey: key() } });
    expect(made.createHolderClaim.claimCode).toEqual(expect.any(String));
    const e = await issueOnly.fails(CLAIM("holderAccount { custodialAddress certificates { id holder: owner } }"), { input: { holderReference, idempotencyKey: key() } });
    expect(e.code).toBe("FORBIDDEN");
    await reader.ok(CLAIM("holderAccount { custodialAddress certificates { id } }"), { input: { holderReference, idempotencyKey: key() } });
  });

  it("issueCertificate answers the issuance it made and its status, but not the collection behind it", async () => {
    const ISSUE = (inner: string) =>
      `mutation($input: IssueCertificateInput!) { issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id status ${inner} } } ... on Error { __typename code message field } } }`;
    const input = () => ({ collectionId: stack.devInfo.collectionId, recipient: Wallet.createRandom().address, idempotencyKey: key() });
    const made = await issueOnly.ok<{ issueCertificate: any }>(ISSUE(""), { input: input() });
    expect(made.issueCertificate.issuance).toMatchObject({ id: expect.any(String), status: expect.any(String) });
    expect((await issueOnly.fails(ISSUE("collection { id name }"), { input: input() })).code).toBe("FORBIDDEN");
    await reader.ok(ISSUE("collection { id name }"), { input: input() });
  });
});
