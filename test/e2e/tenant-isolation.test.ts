import { randomUUID } from "node:crypto";
import { Wallet } from "ethers";
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
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approvalRequests, collections, institutions } from "../../core/db/schema.ts";
import { createApiKey } from "../../server/auth/api-keys.ts";
import { encodePng } from "../../scripts/dev/demo-edition.ts";
import { issueCertificate, revokeCertificate } from "../core/verification/certificates.ts";
import { typedErrors } from "../support/graphql-http.ts";
import { startTestStack } from "../support/stack.ts";

/**
 * Every Query and Mutation field that takes an id (an ID argument, or an input with an ID field) is called with
 * institution B's key on institution A's objects, and must answer NOT_FOUND — exactly as for an id that names
 * nothing — never A's data (a mutation answers a typed NotFoundError, a query a GraphQL error with that code). The
 * fields come from the schema itself: a new field is checked the day it appears.
 */

/** Fields that answer for anyone's ids by design, with the reason. Keep it short. */
const PUBLIC: Record<string, string> = {
  "Query.verify": "public verification: anyone may verify any certificate",
};

interface GqlResponse {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

async function post(url: string, apiKey: string, query: string, variables: Record<string, unknown> = {}): Promise<GqlResponse> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GqlResponse;
}

const globalId = (typename: string, id: string) => Buffer.from(`${typename}:${id}`).toString("base64");
const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const isIdType = (type: GraphQLInputType) => getNamedType(type).name === "ID";

/** Does this input type hold an ID anywhere? */
function holdsId(type: GraphQLInputType, seen = new Set<string>()): boolean {
  const named = getNamedType(type);
  if (named.name === "ID") return true;
  if (!isInputObjectType(named) || seen.has(named.name)) return false;
  seen.add(named.name);
  return Object.values(named.getFields()).some((f) => holdsId(f.type, seen));
}

/** The names of the arguments and input fields, at any depth, that hold an ID. */
function idSlots(type: GraphQLInputType, name: string, seen = new Set<string>()): string[] {
  const named = getNamedType(type);
  if (named.name === "ID") return [name];
  if (!isInputObjectType(named) || seen.has(named.name)) return [];
  seen.add(named.name);
  return Object.values(named.getFields()).flatMap((f) => idSlots(f.type, f.name, seen));
}

class CannotBuild extends Error {}

describe("tenant isolation over the whole schema", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let url: string;
  let keyA: string;
  let keyB: string;
  let schema: GraphQLSchema;
  /** A's objects by type name: raw ids. */
  const objectsOfA = new Map<string, string>();
  /** Strings that must never reach B. */
  const secretsOfA = new Set<string>();

  beforeAll(async () => {
    stack = await startTestStack();
    url = stack.devInfo.graphqlUrl;
    keyA = stack.devInfo.apiKey;
    const db = stack.db.db;

    // Institution B: its own collection and a key with every institution scope.
    const [b] = await db.insert(institutions).values({ name: "Other College", slug: `other-${randomUUID().slice(0, 8)}` }).returning();
    await db
      .insert(collections)
      .values({ institutionId: b!.id, name: "Other", symbol: "OTH", chainId: stack.devInfo.chainId, contractAddress: Wallet.createRandom().address, deployBlock: 0 });
    keyB = (await createApiKey(db, { institutionId: b!.id, name: "tenant-test", scopes: ["read", "issue", "admin"] })).key;

    // Institution A (the demo): one object of every kind it can make through the API.
    const holder = Wallet.createRandom().address;
    const [kept, revoked] = await Promise.all([
      issueCertificate(stack, { recipient: holder, title: "Kept" }),
      issueCertificate(stack, { recipient: holder, title: "Revoked" }),
    ]);
    await revokeCertificate(stack, revoked.id);
    const made = await post(
      url,
      keyA,
      `mutation($holder: String!, $collection: ID!) {
        issueCertificates(input: { collectionId: $collection, idempotencyKey: "tenant-bulk", items: [{ recipient: $holder, idempotencyKey: "tenant-bulk-1" }] }) { ... on IssueCertificatesPayload { bulkIssuance { id } } ... on Error { __typename code message field } }
        registerWebhook(url: "http://127.0.0.1:9/hook", idempotencyKey: "tenant-hook") { ... on RegisterWebhookPayload { webhook { id } } ... on Error { __typename code message field } }
      }`,
      { holder, collection: stack.devInfo.collectionId },
    );
    expect(made.errors).toBeUndefined();
    const read = await post(url, keyA, `query($id: ID!) { certificate(id: $id) { id issuanceId revocations { id } } }`, { id: revoked.id });
    const rev = (read.data!.certificate as { issuanceId: string; revocations: { id: string }[] });
    const made_ = made.data as { issueCertificates: { bulkIssuance: { id: string } }; registerWebhook: { webhook: { id: string } } };
    objectsOfA.set("Institution", stack.devInfo.institutionId);
    objectsOfA.set("Collection", stack.devInfo.collectionId);
    objectsOfA.set("Certificate", kept.id);
    objectsOfA.set("Issuance", rev.issuanceId);
    objectsOfA.set("Revocation", rev.revocations[0]!.id);
    objectsOfA.set("BulkIssuance", made_.issueCertificates.bulkIssuance.id);
    objectsOfA.set("Webhook", made_.registerWebhook.webhook.id);

    const introspection = await post(url, keyB, getIntrospectionQuery());
    expect(introspection.errors).toBeUndefined();
    schema = buildClientSchema(introspection.data as unknown as IntrospectionQuery);

    // Any other type: the first item of a list field of A's that takes no arguments (apiKeys, members, …).
    for (const field of Object.values(schema.getQueryType()!.getFields())) {
      const type = getNamedType(field.type);
      if (field.args.some((a) => isNonNullType(a.type)) || !isListType(getNullableType(field.type)) || !isObjectType(type)) continue;
      if (objectsOfA.has(type.name) || !type.getFields().id) continue;
      const res = await post(url, keyA, `{ ${field.name} { id } }`);
      const first = (res.data?.[field.name] as { id: string }[] | undefined)?.[0];
      if (first) objectsOfA.set(type.name, first.id);
    }
    // Kinds no list shows until one is made.
    const makers: Record<string, () => Promise<string | undefined>> = {
      CertificateOperation: async () =>
        ((await post(url, keyA, `mutation($c: ID!) { suspendCertificate(input: { certificateId: $c, reason: "tenant", idempotencyKey: "tenant-suspend" }) { ... on CertificateOperationPayload { operation { id } } ... on Error { __typename code message field } } }`, {
          c: kept.id,
        })).data as { suspendCertificate?: { operation: { id: string } } } | null)?.suspendCertificate?.operation.id,
      IssuerKey: async () => ((await post(url, keyA, `query { viewer { issuerKeys { id } } }`)).data as { viewer?: { issuerKeys: { id: string }[] } } | null)?.viewer?.issuerKeys[0]?.id,
      Member: async () =>
        ((await post(url, keyA, `mutation($a: String!) { addMember(input: { address: $a, role: VIEWER, idempotencyKey: "tenant-member" }) { ... on AddMemberPayload { member { id } } ... on Error { __typename code message field } } }`, {
          a: Wallet.createRandom().address,
        })).data as { addMember?: { member: { id: string } } } | null)?.addMember?.member.id,
      Edition: async () => {
        const form = new FormData();
        form.set("file", new Blob([new Uint8Array(encodePng(4, 4, () => [200, 100, 50]))]), "tenant.png");
        const uploaded = await fetch(url.replace(/\/graphql$/, "/media"), { method: "POST", headers: { authorization: `Bearer ${keyA}`, "x-graphql-csrf": "1" }, body: form });
        const { cid } = (await uploaded.json()) as { cid: string };
        const res = await post(url, keyA, `mutation($cid: String!) { createEdition(input: { name: "Tenant", images: [{ cid: $cid, label: "x" }], maxSupply: 5, transferPolicy: LOCKED, idempotencyKey: "tenant-edition" }) { ... on CreateEditionPayload { edition { id } } ... on Error { __typename code message field } } }`, { cid });
        return (res.data as { createEdition?: { edition: { id: string } } } | null)?.createEdition?.edition.id;
      },
      EditionOperation: async () => {
        const editionId = objectsOfA.get("Edition");
        const res = await post(url, keyA, `mutation($e: ID!, $h: String!) { airdrop(input: { editionId: $e, holders: [$h], idempotencyKey: "tenant-airdrop" }) { ... on EditionOperationPayload { operation { id } } ... on Error { __typename code message field } } }`, { e: editionId, h: holder });
        return (res.data as { airdrop?: { operation: { id: string } } } | null)?.airdrop?.operation.id;
      },
    };
    // Recorded in the database: the demo key acts for no member, and only an OWNER's key sets a policy that would hold one.
    makers.ApprovalRequest = async () =>
      (
        await db
          .insert(approvalRequests)
          .values({
            institutionId: stack.devInfo.institutionId,
            action: "POLICY_CHANGE",
            subjectKind: "approvalPolicy",
            requestHash: "tenant",
            required: 1,
            approverRoles: ["OWNER"],
            payload: { collectionId: null, rules: [], ttlSeconds: 60 },
            expiresAt: new Date(Date.now() + 3_600_000),
          })
          .returning()
      )[0]!.id;
    // An anchored batch needs an ANCHORED collection on chain and the batch anchored: made once, read by three makers.
    let anchored: Promise<{ batchId: string; certificateId: string } | undefined> | undefined;
    const anchoredOfA = () =>
      (anchored ??= (async () => {
        const created = await post(url, keyA, `mutation { createCollection(input: { name: "Tenant Anchor", symbol: "TNA", kind: ANCHORED, idempotencyKey: "tenant-anchor" }) { ... on CreateCollectionPayload { collection { id } } ... on Error { __typename code message field } } }`);
        const collectionId = (created.data as { createCollection?: { collection: { id: string } } } | null)?.createCollection?.collection.id;
        if (!collectionId) return undefined;
        const settled = async <T>(read: () => Promise<T | undefined>, what: string): Promise<T> => {
          for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
            const value = await read();
            if (value !== undefined) return value;
          }
          throw new Error(`gave up after 60 s waiting for ${what}`);
        };
        await settled(async () => {
          const c = (await post(url, keyA, `query($id: ID!) { collection(id: $id) { status } }`, { id: collectionId })).data?.collection as { status: string } | undefined;
          return c && (c.status === "CONFIRMED" || c.status === "FAILED") ? c : undefined;
        }, "the anchored collection");
        const res = await post(url, keyA, `mutation($c: ID!, $h: String!) { anchorCertificates(input: { collectionId: $c, idempotencyKey: "tenant-batch", certificates: [{ recipient: $h }] }) { ... on AnchorCertificatesPayload { anchoredBatch { id } } ... on Error { __typename code message field } } }`, { c: collectionId, h: holder });
        const batchId = (res.data as { anchorCertificates?: { anchoredBatch: { id: string } } } | null)?.anchorCertificates?.anchoredBatch.id;
        if (!batchId) return undefined;
        return settled(async () => {
          const b = (await post(url, keyA, `query($id: ID!) { anchoredBatch(id: $id) { status certificates(first: 1) { edges { node { id } } } } }`, { id: batchId })).data?.anchoredBatch as
            | { status: string; certificates: { edges: { node: { id: string } }[] } }
            | undefined;
          return b?.status === "CONFIRMED" ? { batchId, certificateId: b.certificates.edges[0]!.node.id } : undefined;
        }, "the anchored batch");
      })());
    makers.AnchoredBatch = async () => (await anchoredOfA())?.batchId;
    makers.AnchoredCertificate = async () => (await anchoredOfA())?.certificateId;
    makers.AnchoredRevocation = async () => {
      const a = await anchoredOfA();
      const res = await post(url, keyA, `mutation($c: ID!) { revokeAnchoredCertificate(input: { anchoredCertificateId: $c, reason: "tenant", idempotencyKey: "tenant-anchored-revoke" }) { ... on AnchoredRevocationPayload { revocation { id } } ... on Error { __typename code message field } } }`, { c: a?.certificateId });
      return (res.data as { revokeAnchoredCertificate?: { revocation: { id: string } } } | null)?.revokeAnchoredCertificate?.revocation.id;
    };
    for (const [type, make] of Object.entries(makers)) {
      const id = schema.getType(type) && !objectsOfA.has(type) ? await make() : undefined;
      if (id) objectsOfA.set(type, id);
    }
    for (const [type, id] of objectsOfA) {
      secretsOfA.add(id);
      secretsOfA.add(globalId(type, id));
    }
    secretsOfA.add(kept.owner);
  }, 180_000);

  afterAll(async () => {
    await stack?.cleanup();
  });

  /** While probing a field no object of A can name: made-up ids, to see whether an institution key may call it at all. */
  let probing = false;

  /** Which of A's objects an id argument names: `xId` names an X; `id`/`ids` what the field returns. */
  function typesNamedBy(parent: string, field: GraphQLField<unknown, unknown>, argName: string): string[] {
    const nodeTypes = Object.values(schema.getTypeMap())
      .filter((t) => isObjectType(t) && t.getInterfaces().some((i) => i.name === "Node"))
      .map((t) => t.name);
    const m = /^(.+?)Ids?$/.exec(argName);
    const wanted = m ? capitalize(m[1]!) : getNamedType(field.type).name;
    const candidates = wanted === "Node" || isUnionType(schema.getType(wanted)) ? nodeTypes : [wanted];
    const known = candidates.filter((t) => objectsOfA.has(t));
    if (!known.length && probing) return candidates.slice(0, 1);
    if (!known.length) {
      throw new CannotBuild(`${parent}.${field.name}(${argName}): no object of A of type ${candidates.join("/")} — make one in this test's beforeAll`);
    }
    return known;
  }

  /** A value for a required argument that is not an id. */
  function sample(type: GraphQLInputType, name: string, where: string, ids: (t: GraphQLInputType, n: string) => unknown): unknown {
    if (isNonNullType(type)) return sample(type.ofType, name, where, ids);
    if (isIdType(type) && !isListType(type)) return ids(type, name);
    if (isListType(type)) return isIdType(type) ? ids(type, name) : [sample(type.ofType, name, where, ids)];
    if (isInputObjectType(type)) {
      const out: Record<string, unknown> = {};
      for (const f of Object.values(type.getFields())) {
        if (isNonNullType(f.type) || holdsId(f.type)) out[f.name] = sample(f.type, f.name, `${where}.${f.name}`, ids);
      }
      return out;
    }
    if (isEnumType(type)) return type.getValues()[0]!.value;
    if (isScalarType(type)) {
      switch (type.name) {
        case "String":
          if (/recipient|holder|address|account/i.test(name)) return Wallet.createRandom().address;
          if (/url/i.test(name)) return "http://127.0.0.1:9/tenant-test";
          if (/email/i.test(name)) return "tenant-test@example.org";
          return `tenant-test-${randomUUID()}`;
        case "Int":
        case "Float":
          return 1;
        case "Boolean":
          return false;
        case "DateTime":
          return "2035-01-01T00:00:00Z";
        case "JSON":
          return {};
      }
    }
    throw new CannotBuild(`${where}: cannot make a value of type ${String(type)} — teach sample() in this test`);
  }

  function selection(field: GraphQLField<unknown, unknown>): string {
    const type = getNamedType(field.type);
    if (isObjectType(type) || isInterfaceType(type)) return type.getFields().id ? "{ __typename id }" : "{ __typename }";
    // A mutation's result union: its payload, or a typed error carrying the code.
    if (isUnionType(type)) return "{ __typename ... on Error { code message } }";
    return "";
  }

  /** The calls to make: one per A object the field's ids can name, each id as a database id and as a global id. */
  function calls(parent: string, field: GraphQLField<unknown, unknown>): { query: string; variables: Record<string, unknown>; label: string }[] {
    // The first id argument or input field decides the calls: one per type of object it may name, and per form.
    const primary = field.args.flatMap((a) => idSlots(a.type, a.name))[0]!;
    const typesOfFirst = typesNamedBy(parent, field, primary);
    const variants: { label: string; ids: (t: GraphQLInputType, n: string) => unknown }[] = [];
    for (const form of ["id", "global"] as const) {
      for (const first of typesOfFirst) {
        const idOf = (typename: string) => {
          const id = objectsOfA.get(typename) ?? randomUUID();
          return form === "id" ? id : globalId(typename, id);
        };
        variants.push({
          label: `${form} of ${first}`,
          ids: (type, name) => {
            const [typename] = name === primary ? [first] : typesNamedBy(parent, field, name);
            if (isListType(getNullableType(type))) return typesOfFirst.map(idOf);
            return idOf(typename!);
          },
        });
      }
    }
    return variants.map((v) => {
      const variables: Record<string, unknown> = {};
      for (const a of field.args as GraphQLArgument[]) {
        if (isNonNullType(a.type) || holdsId(a.type)) variables[a.name] = sample(a.type, a.name, `${parent}.${field.name}(${a.name})`, v.ids);
      }
      const decl = Object.keys(variables).map((n) => `$${n}: ${String(field.args.find((a) => a.name === n)!.type)}`);
      const args = Object.keys(variables).map((n) => `${n}: $${n}`);
      const op = parent === "Mutation" ? "mutation" : "query";
      const query = `${op}${decl.length ? `(${decl.join(", ")})` : ""} { ${field.name}${args.length ? `(${args.join(", ")})` : ""} ${selection(field)} }`;
      return { query, variables, label: `${parent}.${field.name} with A's ${v.label}` };
    });
  }

  it("answers NOT_FOUND to B for every id of A, on every Query and Mutation field that takes one", async () => {
    const problems: string[] = [];
    const checked: string[] = [];
    const operatorOnly: string[] = [];
    const readByA = new Map<string, boolean>();
    // Queries first: a mutation that wrongly succeeded must not change what the queries see.
    for (const root of [schema.getQueryType()!, schema.getMutationType()!]) {
      for (const field of Object.values(root.getFields())) {
        const name = `${root.name}.${field.name}`;
        if (!field.args.some((a) => holdsId(a.type)) || PUBLIC[name]) continue;
        let made: ReturnType<typeof calls>;
        try {
          made = calls(root.name, field);
        } catch (err) {
          if (!(err instanceof CannotBuild)) throw err;
          // No object of A to name: still fine when no institution key may use the field at all (operator fields).
          probing = true;
          const probe = calls(root.name, field)[0]!;
          probing = false;
          const forbidden = async (key: string) =>
            ((await post(url, key, probe.query, probe.variables)).errors ?? []).some((e) => e.extensions?.code === "FORBIDDEN");
          if ((await forbidden(keyB)) && (await forbidden(keyA))) operatorOnly.push(probe.label);
          else problems.push(err.message);
          continue;
        }
        for (const call of made) {
          const res = await post(url, keyB, call.query, call.variables);
          // A mutation refuses with a typed error (its result union's member), a query with a GraphQL error.
          const typed = typedErrors(res.data);
          const codes = [...(res.errors ?? []).map((e) => e.extensions?.code), ...typed.map((e) => e.code)];
          const body = JSON.stringify(res.data ?? null);
          const leaked = [...secretsOfA].filter((s) => body.includes(s));
          const empty = res.data == null || Object.values(res.data).every((v) => v == null || typed.includes(v as never) || (Array.isArray(v) && v.every((x) => x == null)));
          if (codes.length && codes.every((c) => c === "FORBIDDEN" || c === "UNAUTHENTICATED") && empty) {
            // B may not use it at all; it is no tenant's field only if A may not either (an operator's field).
            const own = await post(url, keyA, call.query, call.variables);
            if ((own.errors ?? []).some((e) => e.extensions?.code === "FORBIDDEN")) {
              operatorOnly.push(call.label);
              continue;
            }
          }
          if (leaked.length || !empty || !codes.length || !codes.every((c) => c === "NOT_FOUND") || (root.name === "Mutation" && !typed.length)) {
            problems.push(`${call.label}: ${JSON.stringify(res)}${leaked.length ? ` (leaks ${leaked.join(", ")})` : ""}`);
          } else {
            checked.push(call.label);
          }
          // The same query with A's key reaches A's object: the arguments were right, the refusal is the tenant check.
          if (root.name === "Query") {
            const own = await post(url, keyA, call.query, call.variables);
            const reads = !own.errors?.length && !!own.data && Object.values(own.data).some((v) => v != null);
            const type = call.label.replace(/^.* of /, "");
            readByA.set(`${name} ${type}`, (readByA.get(`${name} ${type}`) ?? false) || reads);
          }
        }
      }
    }
    // Some form of A's id (database or global) reads A's object with A's key, or B's NOT_FOUND proves nothing.
    for (const [what, reads] of readByA) if (!reads) problems.push(`${what}: A's own key does not read it either, so the check proves nothing`);
    expect(problems, `tenant isolation problems:\n  ${problems.join("\n  ")}`).toEqual([]);
    // The walk did reach the fields that exist today, in both id forms.
    for (const f of ["Query.certificate", "Query.issuance", "Query.revocation", "Query.bulkIssuance", "Query.certificates", "Mutation.revokeCertificate", "Mutation.issueCertificate", "Mutation.disableWebhook"]) {
      expect(checked.some((c) => c.startsWith(`${f} with A's id`)), f).toBe(true);
      expect(checked.some((c) => c.startsWith(`${f} with A's global`)), f).toBe(true);
    }
    for (const t of ["Certificate", "Issuance", "Revocation", "BulkIssuance", "Collection", "Institution", "Webhook", "Edition", "EditionOperation", "Member", "ApiKey", "CertificateOperation"]) {
      expect(checked, t).toContain(`Query.node with A's global of ${t}`);
    }
    expect(checked.some((c) => c.startsWith("Query.nodes with A's global"))).toBe(true);
    if (operatorOnly.length) console.info(`refused to every institution key (operator fields): ${operatorOnly.join(", ")}`);
  }, 180_000);
});
