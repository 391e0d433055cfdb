import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { apiKeys as apiKeysTable, institutions } from "../../core/db/schema.ts";
import { createApiKey } from "../../server/auth/api-keys.ts";
import { graphqlClient } from "../support/graphql-http.ts";
import { startTestStack } from "../support/stack.ts";
import { wrongChecksumAddress } from "../support/addresses.ts";

const CREATE = `mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { ... on CreateApiKeyPayload { secret created apiKey { id name prefix scopes createdAt expiresAt lastUsedAt revokedAt member { id role } } } ... on Error { __typename code message field } }
}`;
const KEYS = `{ apiKeys { id name prefix scopes createdAt expiresAt lastUsedAt revokedAt } }`;
const REVOKE = `mutation($id: ID!, $key: String) { revokeApiKey(id: $id, idempotencyKey: $key) { ... on ApiKey { id revokedAt } ... on Error { __typename code message field } } }`;
const ADD = `mutation($input: AddMemberInput!) { addMember(input: $input) { ... on AddMemberPayload { created member { id address email role scopes } } ... on Error { __typename code message field } } }`;
const CHANGE = `mutation($id: ID!, $role: MemberRole!, $key: String) { changeMemberRole(id: $id, role: $role, idempotencyKey: $key) { ... on Member { id role } ... on Error { __typename code message field } } }`;
const REMOVE = `mutation($id: ID!, $key: String) { removeMember(id: $id, idempotencyKey: $key) { ... on Member { id email role } ... on Error { __typename code message field } } }`;
const MEMBERS = `{ members { id address email role } }`;
const ISSUE = `mutation($input: IssueCertificateInput!) { issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id status } } ... on Error { __typename code message field } } }`;

const NASTY = `<script>alert("x")</script> Ключ 🔑 & "quotes" '; DROP TABLE api_keys; --`;

describe("API keys and members over HTTP", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let admin: ReturnType<typeof graphqlClient>;
  let url: string;
  let n = 0;
  const key = () => `k-${++n}-${Date.now()}`;
  const create = (input: Record<string, unknown>) => admin.ok<{ createApiKey: any }>(CREATE, { input: { idempotencyKey: key(), ...input } });

  beforeAll(async () => {
    stack = await startTestStack();
    url = stack.devInfo.graphqlUrl;
    admin = graphqlClient(url, stack.devInfo.apiKey);
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  describe("createApiKey, apiKeys, revokeApiKey", () => {
    it("shows the secret once, lists the key without it, and the key works with its scopes", async () => {
      const { createApiKey: made } = await create({ name: "reporting", scopes: ["READ"] });
      expect(made.created).toBe(true);
      expect(made.secret).toMatch(/^hm_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{32,}$/);
      expect(made.secret.startsWith(made.apiKey.prefix)).toBe(true);
      expect(made.apiKey).toMatchObject({ name: "reporting", scopes: ["READ"], expiresAt: null, lastUsedAt: null, revokedAt: null, member: null });

      const listed = await admin.ok<{ apiKeys: any[] }>(KEYS);
      expect(listed.apiKeys.find((k) => k.id === made.apiKey.id)).toMatchObject({ prefix: made.apiKey.prefix, name: "reporting" });
      const { body } = await admin.raw(KEYS);
      expect(JSON.stringify(body)).not.toContain(made.secret);

      const reader = graphqlClient(url, made.secret);
      expect((await reader.ok<{ viewer: { id: string } }>(`{ viewer { id } }`)).viewer.id).toBe(stack.devInfo.institutionId);
      expect((await reader.fails(KEYS)).code).toBe("FORBIDDEN");
      expect((await reader.fails(CREATE, { input: { name: "x", scopes: ["READ"], idempotencyKey: key() } })).code).toBe("FORBIDDEN");
      expect((await reader.fails(ISSUE, { input: { collectionId: stack.devInfo.collectionId, recipient: Wallet.createRandom().address, idempotencyKey: key() } })).code).toBe("FORBIDDEN");
    });

    it("node(id:) finds a key and its member by global id for ADMIN only; a READ key gets NOT_FOUND, as for nothing", async () => {
      const { addMember } = await admin.ok<{ addMember: any }>(`mutation($input: AddMemberInput!) { addMember(input: $input) {
        ... on AddMemberPayload { member { id nodeId } } ... on Error { __typename code message field } } }`, { input: { email: `node-${key()}@example.org`, role: "VIEWER", idempotencyKey: key() } });
      const { createApiKey: made } = await admin.ok<{ createApiKey: any }>(
        `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeyPayload { secret apiKey { id nodeId } } ... on Error { __typename code message field } } }`,
        { input: { name: "by node", scopes: ["READ"], memberId: addMember.member.nodeId, idempotencyKey: key() } },
      );
      const NODE = `query($id: ID!) { node(id: $id) { __typename ... on ApiKey { id name member { id } } ... on Member { id email } } }`;
      expect((await admin.ok<{ node: any }>(NODE, { id: made.apiKey.nodeId })).node).toEqual({ __typename: "ApiKey", id: made.apiKey.id, name: "by node", member: { id: addMember.member.id } });
      expect((await admin.ok<{ node: any }>(NODE, { id: addMember.member.nodeId })).node).toMatchObject({ __typename: "Member", id: addMember.member.id });
      const reader = graphqlClient(url, made.secret);
      for (const id of [made.apiKey.nodeId, addMember.member.nodeId]) expect((await reader.fails(NODE, { id })).code).toBe("NOT_FOUND");
      // Mutations take the global id as well as the id.
      const { revokeApiKey } = await admin.ok<{ revokeApiKey: any }>(REVOKE, { id: made.apiKey.nodeId });
      expect(revokeApiKey).toMatchObject({ id: made.apiKey.id, revokedAt: expect.any(String) });
    });

    it("records lastUsedAt at most once a minute", async () => {
      const { createApiKey: made } = await create({ name: "used", scopes: ["READ"] });
      const reader = graphqlClient(url, made.secret);
      await reader.ok(`{ viewer { id } }`);
      const lastUsed = async () => (await admin.ok<{ apiKeys: any[] }>(KEYS)).apiKeys.find((k) => k.id === made.apiKey.id).lastUsedAt as string | null;
      let first: string | null = null;
      for (let i = 0; i < 50 && !first; i++) {
        first = await lastUsed();
        if (!first) await new Promise((r) => setTimeout(r, 50));
      }
      expect(first).not.toBeNull();
      await new Promise((r) => setTimeout(r, 20));
      await reader.ok(`{ viewer { id } }`);
      await new Promise((r) => setTimeout(r, 200));
      expect(await lastUsed()).toBe(first);
    });

    it("answers a retry of the same idempotency key with the key made first, without its secret", async () => {
      const idempotencyKey = key();
      const input = { name: "ci", scopes: ["READ", "ISSUE"], idempotencyKey, expiresAt: "2031-01-01T00:00:00Z" };
      const first = (await admin.ok<{ createApiKey: any }>(CREATE, { input })).createApiKey;
      const again = (await admin.ok<{ createApiKey: any }>(CREATE, { input })).createApiKey;
      expect(again).toMatchObject({ created: false, secret: null, apiKey: { id: first.apiKey.id } });
      expect(first.apiKey.expiresAt).toBe("2031-01-01T00:00:00.000Z");
      expect((await admin.fails(CREATE, { input: { ...input, name: "other" } })).code).toBe("IDEMPOTENCY_CONFLICT");
    });

    it("stores unicode and HTML in a name verbatim and returns it as it came", async () => {
      const { createApiKey: made } = await create({ name: NASTY, scopes: ["READ"] });
      expect(made.apiKey.name).toBe(NASTY);
      const listed = await admin.ok<{ apiKeys: any[] }>(KEYS);
      expect(listed.apiKeys.find((k) => k.id === made.apiKey.id).name).toBe(NASTY);
    });

    it("refuses bad input with BAD_USER_INPUT, and wrong types before anything runs", async () => {
      const bad = async (input: Record<string, unknown>, field: string) => {
        const e = await admin.fails(CREATE, { input: { name: "k", scopes: ["READ"], idempotencyKey: key(), ...input } });
        expect([e.code, e.extensions.field]).toEqual(["BAD_USER_INPUT", field]);
      };
      await bad({ name: "  " }, "name");
      await bad({ name: "x".repeat(101) }, "name");
      await bad({ name: "a\u0007b" }, "name");
      await bad({ scopes: [] }, "scopes");
      await bad({ expiresAt: new Date(Date.now() - 1000).toISOString() }, "expiresAt");
      await bad({ expiresAt: "2099-01-01T00:00:00Z" }, "expiresAt");
      await bad({ idempotencyKey: "" }, "idempotencyKey");
      for (const input of [
        { name: "k", scopes: ["WRITE"], idempotencyKey: key() },
        { name: "k", scopes: ["READ"], idempotencyKey: key(), expiresAt: "tomorrow" },
        { name: 42, scopes: ["READ"], idempotencyKey: key() },
        { name: "k", scopes: "READ", idempotencyKey: key(), expiresAt: "2030-01-01" },
      ]) {
        const { status, body } = await admin.raw(CREATE, { input });
        expect(body.data ?? null).toBeNull();
        expect(body.errors?.length).toBeGreaterThan(0);
        expect(status).toBe(400);
      }
    });

    it("an expired key is UNAUTHENTICATED", async () => {
      const { createApiKey: made } = await create({ name: "short", scopes: ["READ"], expiresAt: new Date(Date.now() + 1500).toISOString() });
      const reader = graphqlClient(url, made.secret);
      await reader.ok(`{ viewer { id } }`);
      await new Promise((r) => setTimeout(r, 1700));
      const e = await reader.fails(`{ viewer { id } }`);
      expect([e.code, e.status]).toEqual(["UNAUTHENTICATED", 401]);
    });

    it("a revoked key is UNAUTHENTICATED at once; revoking again changes nothing; others' keys are NOT_FOUND", async () => {
      const { createApiKey: made } = await create({ name: "to revoke", scopes: ["READ", "ISSUE"] });
      const user = graphqlClient(url, made.secret);
      await user.ok(`{ viewer { id } }`);
      const revoked = (await admin.ok<{ revokeApiKey: any }>(REVOKE, { id: made.apiKey.id })).revokeApiKey;
      expect(revoked.revokedAt).not.toBeNull();
      expect((await user.fails(`{ viewer { id } }`)).code).toBe("UNAUTHENTICATED");
      expect((await admin.ok<{ revokeApiKey: any }>(REVOKE, { id: made.apiKey.id })).revokeApiKey.revokedAt).toBe(revoked.revokedAt);

      expect((await admin.fails(REVOKE, { id: "00000000-0000-4000-8000-000000000000" })).code).toBe("NOT_FOUND");
      expect((await admin.fails(REVOKE, { id: "not-a-uuid" })).code).toBe("NOT_FOUND");
      const [other] = await stack.db.db.insert(institutions).values({ name: "Other College", slug: "other-college" }).returning();
      const otherKey = await createApiKey(stack.db.db, { institutionId: other!.id, name: "theirs", scopes: ["admin"] });
      expect((await admin.fails(REVOKE, { id: otherKey.id })).code).toBe("NOT_FOUND");
      const theirs = graphqlClient(url, otherKey.key);
      expect((await theirs.ok<{ apiKeys: any[] }>(KEYS)).apiKeys.map((k) => k.id)).toEqual([otherKey.id]);
    });

    it("needs a key: anonymous is UNAUTHENTICATED, an operator key is FORBIDDEN", async () => {
      expect((await graphqlClient(url).fails(KEYS)).code).toBe("UNAUTHENTICATED");
      expect((await graphqlClient(url, stack.devInfo.operatorKey).fails(KEYS)).code).toBe("FORBIDDEN");
      expect((await graphqlClient(url, "hm_garbage").fails(KEYS)).code).toBe("UNAUTHENTICATED");
    });
  });

  describe("members", () => {
    let owner: { id: string };
    const holder = Wallet.createRandom();

    it("adds members by address (checksummed) or e-mail (lower-cased), and answers a repeat with the same member", async () => {
      const res = await admin.ok<{ addMember: any }>(ADD, { input: { address: holder.address.toLowerCase(), role: "OWNER", idempotencyKey: key() } });
      expect(res.addMember).toMatchObject({ created: true, member: { address: holder.address, email: null, role: "OWNER", scopes: ["READ", "ISSUE", "ADMIN"] } });
      owner = res.addMember.member;
      const again = await admin.ok<{ addMember: any }>(ADD, { input: { address: holder.address, role: "OWNER", idempotencyKey: key() } });
      expect(again.addMember).toMatchObject({ created: false, member: { id: owner.id } });
      const byMail = await admin.ok<{ addMember: any }>(ADD, { input: { email: "Ada.Lovelace@Example.EDU", role: "VIEWER", idempotencyKey: key() } });
      expect(byMail.addMember.member).toMatchObject({ email: "ada.lovelace@example.edu", address: null, role: "VIEWER", scopes: ["READ"] });
      const list = (await admin.ok<{ members: any[] }>(MEMBERS)).members;
      expect(list.map((m) => m.id)).toContain(owner.id);
      expect((await admin.fails(ADD, { input: { address: holder.address, role: "VIEWER", idempotencyKey: key() } })).code).toBe("CONFLICT");
    });

    it("refuses malformed, zero and mis-checksummed addresses, bad e-mails, and both or neither", async () => {
      const valid = Wallet.createRandom().address;
      const wrongCase = wrongChecksumAddress();
      const cases: [Record<string, unknown>, string, RegExp?][] = [
        [{ address: "0x1234" }, "address"],
        [{ address: "0x0000000000000000000000000000000000000000" }, "address", /zero/],
        [{ address: wrongCase }, "address", /checksum/],
        [{ address: "not an address" }, "address"],
        [{ email: "nobody" }, "email"],
        [{ email: "a@b" }, "email"],
        [{ email: "<script>@x.org" }, "email"],
        [{ address: valid, email: "a@b.org" }, "email"],
        [{}, "address"],
      ];
      for (const [input, field, message] of cases) {
        const e = await admin.fails(ADD, { input: { role: "ISSUER", idempotencyKey: key(), ...input } });
        expect([e.code, e.extensions.field], JSON.stringify(input)).toEqual(["BAD_USER_INPUT", field]);
        if (message) expect(e.message).toMatch(message);
      }
      const { status } = await admin.raw(ADD, { input: { address: valid, role: "ADMIN", idempotencyKey: key() } });
      expect(status).toBe(400);
    });

    it("keeps at least one owner (LAST_OWNER)", async () => {
      expect((await admin.fails(CHANGE, { id: owner.id, role: "ISSUER" })).code).toBe("LAST_OWNER");
      expect((await admin.fails(REMOVE, { id: owner.id })).code).toBe("LAST_OWNER");
      const second = (await admin.ok<{ addMember: any }>(ADD, { input: { email: "second@example.edu", role: "ISSUER", idempotencyKey: key() } })).addMember.member;
      expect((await admin.ok<{ changeMemberRole: any }>(CHANGE, { id: second.id, role: "OWNER" })).changeMemberRole.role).toBe("OWNER");
      expect((await admin.ok<{ changeMemberRole: any }>(CHANGE, { id: owner.id, role: "VIEWER" })).changeMemberRole.role).toBe("VIEWER");
      expect((await admin.fails(REMOVE, { id: second.id })).code).toBe("LAST_OWNER");
      expect((await admin.ok<{ changeMemberRole: any }>(CHANGE, { id: owner.id, role: "OWNER" })).changeMemberRole.role).toBe("OWNER");
      await admin.ok(REMOVE, { id: second.id });
      expect((await admin.fails(REMOVE, { id: second.id })).code).toBe("NOT_FOUND");
      expect((await admin.fails(CHANGE, { id: "nope", role: "OWNER" })).code).toBe("NOT_FOUND");
    });

    it("a member's keys hold only what its role allows, now: demotion narrows them, removal ends them", async () => {
      const member = (await admin.ok<{ addMember: any }>(ADD, { input: { address: Wallet.createRandom().address, role: "VIEWER", idempotencyKey: key() } })).addMember.member;
      const denied = await admin.fails(CREATE, { input: { name: "too much", scopes: ["READ", "ISSUE"], memberId: member.id, idempotencyKey: key() } });
      expect([denied.code, denied.extensions.field]).toEqual(["FORBIDDEN", "scopes"]);
      await admin.ok(CHANGE, { id: member.id, role: "ISSUER" });
      const made = (await create({ name: "issuer's", scopes: ["READ", "ISSUE"], memberId: member.id })).createApiKey;
      expect(made.apiKey.member).toMatchObject({ id: member.id, role: "ISSUER" });
      const issuer = graphqlClient(url, made.secret);
      const badIssue = { input: { collectionId: stack.devInfo.collectionId, recipient: "0x0000000000000000000000000000000000000000", idempotencyKey: key() } };
      expect((await issuer.fails(ISSUE, badIssue)).code).toBe("BAD_USER_INPUT"); // allowed to try
      await admin.ok(CHANGE, { id: member.id, role: "VIEWER" });
      expect((await issuer.fails(ISSUE, badIssue)).code).toBe("FORBIDDEN");
      await issuer.ok(`{ viewer { id } }`);
      await admin.ok(REMOVE, { id: member.id });
      expect((await issuer.fails(`{ viewer { id } }`)).code).toBe("UNAUTHENTICATED");
      expect((await admin.fails(CREATE, { input: { name: "gone", scopes: ["READ"], memberId: member.id, idempotencyKey: key() } })).code).toBe("NOT_FOUND");
    });

    it("a retry with the same idempotency key answers the first answer: a role change, a removal, a revocation; another request under the key is refused", async () => {
      const member = (await admin.ok<{ addMember: any }>(ADD, { input: { email: `retry-${key()}@example.edu`, role: "VIEWER", idempotencyKey: key() } })).addMember.member;
      const k = key();
      const changed = (await admin.ok<{ changeMemberRole: any }>(CHANGE, { id: member.id, role: "ISSUER", key: k })).changeMemberRole;
      expect(changed).toMatchObject({ id: member.id, role: "ISSUER" });
      expect((await admin.ok<{ changeMemberRole: any }>(CHANGE, { id: member.id, role: "ISSUER", key: k })).changeMemberRole).toEqual(changed);
      const conflict = await admin.fails(CHANGE, { id: member.id, role: "OWNER", key: k });
      expect([conflict.typed, conflict.typename, conflict.code]).toEqual([true, "IdempotencyConflictError", "IDEMPOTENCY_CONFLICT"]);
      expect((await admin.fails(REMOVE, { id: member.id, key: k })).code).toBe("IDEMPOTENCY_CONFLICT");

      // A removal whose answer was lost: the retry answers the removed member, not NOT_FOUND; without the key it is gone.
      const r = key();
      const removed = (await admin.ok<{ removeMember: any }>(REMOVE, { id: member.id, key: r })).removeMember;
      expect(removed).toMatchObject({ id: member.id, role: "ISSUER", email: member.email });
      const retries = await Promise.all(Array.from({ length: 5 }, () => admin.ok<{ removeMember: any }>(REMOVE, { id: member.id, key: r })));
      for (const retry of retries) expect(retry.removeMember).toEqual(removed);
      expect((await admin.fails(REMOVE, { id: member.id })).code).toBe("NOT_FOUND");
      expect((await admin.ok<{ members: any[] }>(MEMBERS)).members.map((m) => m.id)).not.toContain(member.id);

      const { createApiKey: made } = await create({ name: "revoked once", scopes: ["READ"] });
      const v = key();
      const revoked = (await admin.ok<{ revokeApiKey: any }>(REVOKE, { id: made.apiKey.id, key: v })).revokeApiKey;
      expect((await admin.ok<{ revokeApiKey: any }>(REVOKE, { id: made.apiKey.id, key: v })).revokeApiKey).toEqual(revoked);
      expect((await admin.ok<{ revokeApiKey: any }>(REVOKE, { id: made.apiKey.id })).revokeApiKey.revokedAt).toBe(revoked.revokedAt);
      // A key refused (another institution's id, NOT_FOUND) is not used up: the same key then works for a right request.
      const w = key();
      expect((await admin.fails(REVOKE, { id: "00000000-0000-4000-8000-000000000000", key: w })).code).toBe("NOT_FOUND");
      const { createApiKey: other } = await create({ name: "second", scopes: ["READ"] });
      expect((await admin.ok<{ revokeApiKey: any }>(REVOKE, { id: other.apiKey.id, key: w })).revokeApiKey.revokedAt).toEqual(expect.any(String));
    });

    it("members and their changes need ADMIN", async () => {
      const { createApiKey: made } = await create({ name: "issuer only", scopes: ["READ", "ISSUE"] });
      const issuer = graphqlClient(url, made.secret);
      expect((await issuer.fails(MEMBERS)).code).toBe("FORBIDDEN");
      expect((await issuer.fails(ADD, { input: { email: "x@y.org", role: "OWNER", idempotencyKey: key() } })).code).toBe("FORBIDDEN");
      expect((await issuer.fails(REMOVE, { id: owner.id })).code).toBe("FORBIDDEN");
    });
    describe("a key's maker: a key never outlives, nor holds more than, the authority that made it", () => {
    const MAKER = `query { apiKeys { id revokedAt createdBy { kind apiKey { id } member { id role } } } }`;
    const owner = async (role = "OWNER") => (await admin.ok<{ addMember: any }>(ADD, { input: { email: `maker-${key()}@example.edu`, role, idempotencyKey: key() } })).addMember.member;
    const makeWith = async (client: ReturnType<typeof graphqlClient>, input: Record<string, unknown>) =>
      (await client.ok<{ createApiKey: any }>(CREATE, { input: { idempotencyKey: key(), ...input } })).createApiKey;
    const listed = async (id: string) => (await admin.ok<{ apiKeys: any[] }>(MAKER)).apiKeys.find((k) => k.id === id);

    it("an OWNER's key mints an ADMIN key with no member; removing the OWNER revokes it and the keys it made", async () => {
      const a = await owner();
      const ownersKey = await makeWith(admin, { name: "A's key", scopes: ["ADMIN"], memberId: a.id });
      const asA = graphqlClient(url, ownersKey.secret);
      const minted = await makeWith(asA, { name: "no member", scopes: ["ADMIN"] });
      expect(minted.apiKey.member).toBeNull();
      const asMinted = graphqlClient(url, minted.secret);
      const grandchild = await makeWith(asMinted, { name: "made by the minted key", scopes: ["READ"] });
      const asGrandchild = graphqlClient(url, grandchild.secret);
      await asMinted.ok(KEYS);
      await asGrandchild.ok(`{ viewer { id } }`);

      expect(await listed(minted.apiKey.id)).toMatchObject({ createdBy: { kind: "API_KEY", apiKey: { id: ownersKey.apiKey.id }, member: { id: a.id, role: "OWNER" } } });
      expect(await listed(grandchild.apiKey.id)).toMatchObject({ createdBy: { kind: "API_KEY", apiKey: { id: minted.apiKey.id }, member: { id: a.id } } });
      const devKey = (await admin.ok<{ apiKeys: any[] }>(MAKER)).apiKeys.find((k) => k.createdBy.kind === "OPERATOR");
      expect(devKey).toMatchObject({ createdBy: { kind: "OPERATOR", apiKey: null, member: null } });

      await admin.ok(REMOVE, { id: a.id });
      for (const client of [asA, asMinted, asGrandchild]) {
        const e = await client.fails(`{ viewer { id } }`);
        expect([e.code, e.status]).toEqual(["UNAUTHENTICATED", 401]);
      }
      for (const id of [ownersKey.apiKey.id, minted.apiKey.id, grandchild.apiKey.id]) expect((await listed(id)).revokedAt).not.toBeNull();
    });

    it("checks the maker at every request: a minted key whose revocation was missed (a race, an old row) still stops working", async () => {
      const a = await owner();
      const ownersKey = await makeWith(admin, { name: "A's key", scopes: ["ADMIN"], memberId: a.id });
      const minted = await makeWith(graphqlClient(url, ownersKey.secret), { name: "no member", scopes: ["ADMIN"] });
      const asMinted = graphqlClient(url, minted.secret);
      await admin.ok(REMOVE, { id: a.id });
      // As if removeMember had raced the creation: the row is not marked revoked, its maker is gone all the same.
      await stack.db.db.update(apiKeysTable).set({ revokedAt: null }).where(eq(apiKeysTable.id, minted.apiKey.id));
      expect((await asMinted.fails(`{ viewer { id } }`)).code).toBe("UNAUTHENTICATED");
      // Revoking only the maker key (its member still there) ends what it made too.
      const b = await owner();
      const bKey = await makeWith(admin, { name: "B's key", scopes: ["ADMIN"], memberId: b.id });
      const bMinted = await makeWith(graphqlClient(url, bKey.secret), { name: "by B", scopes: ["READ"] });
      const asBMinted = graphqlClient(url, bMinted.secret);
      await asBMinted.ok(`{ viewer { id } }`);
      await stack.db.db.update(apiKeysTable).set({ revokedAt: new Date() }).where(eq(apiKeysTable.id, bKey.apiKey.id));
      expect((await asBMinted.fails(`{ viewer { id } }`)).code).toBe("UNAUTHENTICATED");
    });

    it("demoting the maker narrows the keys it made at once, and promoting back restores them", async () => {
      const b = await owner();
      const bKey = await makeWith(admin, { name: "B's key", scopes: ["ADMIN"], memberId: b.id });
      const minted = await makeWith(graphqlClient(url, bKey.secret), { name: "B's minted", scopes: ["ADMIN"] });
      const asMinted = graphqlClient(url, minted.secret);
      const badIssue = () => ({ input: { collectionId: stack.devInfo.collectionId, recipient: "0x0000000000000000000000000000000000000000", idempotencyKey: key() } });
      await asMinted.ok(KEYS);
      await admin.ok(CHANGE, { id: b.id, role: "ISSUER" });
      expect((await asMinted.fails(KEYS)).code).toBe("FORBIDDEN");
      expect((await asMinted.fails(CREATE, { input: { name: "escape", scopes: ["ADMIN"], idempotencyKey: key() } })).code).toBe("FORBIDDEN");
      expect((await asMinted.fails(ISSUE, badIssue())).code).toBe("BAD_USER_INPUT"); // ISSUE still allowed
      await admin.ok(CHANGE, { id: b.id, role: "VIEWER" });
      expect((await asMinted.fails(ISSUE, badIssue())).code).toBe("FORBIDDEN");
      await asMinted.ok(`{ viewer { id } }`);
      await admin.ok(CHANGE, { id: b.id, role: "OWNER" });
      await asMinted.ok(KEYS);
    });
  });
});
});
