import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issuerRegistryAt } from "../../core/chain/issuer-registry.ts";
import { certificateRegistryAt, chainRoleId } from "../../core/chain/certificate-registry.ts";
import { graphqlClient, typedErrors } from "../support/graphql-http.ts";
import { startTestStack, waitFor } from "../support/stack.ts";
import { wrongChecksumAddress } from "../support/addresses.ts";

const OP_FIELDS = `id kind status txHash error role account reason`;
const INSTITUTIONS = `{ institutions { id name slug status identity chainInstitutionId suspendedReason } }`;
const REGISTER = `mutation($input: RegisterInstitutionInput!) {
  registerInstitution(input: $input) { ... on InstitutionOperationPayload { created ownerApiKey ownerKey { id prefix scopes } institution { id name slug status identity chainInstitutionId } operation { ${OP_FIELDS} } } ... on Error { __typename code message field } }
}`;
const SUSPEND = `mutation($input: SuspendInstitutionInput!) { suspendInstitution(input: $input) { ... on InstitutionOperationPayload { created institution { id status } operation { ${OP_FIELDS} } } ... on Error { __typename code message field } } }`;
const REACTIVATE = `mutation($input: ReactivateInstitutionInput!) { reactivateInstitution(input: $input) { ... on InstitutionOperationPayload { created institution { id status } operation { ${OP_FIELDS} } } ... on Error { __typename code message field } } }`;
const OPERATION = `query($id: ID!) { registryOperation(id: $id) { ${OP_FIELDS} institution { id status chainInstitutionId suspendedReason } } }`;
const GRANT = `mutation($input: ChainRoleInput!) { grantChainRole(input: $input) { ... on ChainRoleOperationPayload { created operation { ${OP_FIELDS} } } ... on Error { __typename code message field } } }`;
const REVOKE = `mutation($input: ChainRoleInput!) { revokeChainRole(input: $input) { ... on ChainRoleOperationPayload { created operation { ${OP_FIELDS} } } ... on Error { __typename code message field } } }`;
const ROLES = `query($id: ID!) { chainRoles(collectionId: $id) { role account } }`;
const ISSUE = `mutation($input: IssueCertificateInput!) { issueCertificate(input: $input) { ... on IssueCertificatePayload { issuance { id status } } ... on Error { __typename code message field } } }`;

const NAME = `École <b>Polytechnique</b> & "Ψ" 🎓 <img src=x onerror=alert(1)>`;

describe("the platform operator over HTTP", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let operator: ReturnType<typeof graphqlClient>;
  let api: ReturnType<typeof graphqlClient>;
  let n = 0;
  const key = () => `op-${++n}`;
  const settled = (id: string) =>
    waitFor(
      async () => (await operator.ok<{ registryOperation: any }>(OPERATION, { id })).registryOperation,
      (o) => o.status === "CONFIRMED" || o.status === "FAILED",
    );
  /** The typed error an issuance was refused with, or undefined when it was accepted. */
  const issue = async () => {
    const { body } = await api.raw(ISSUE, { input: { collectionId: stack.devInfo.collectionId, recipient: Wallet.createRandom().address, idempotencyKey: key() } });
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return typedErrors(body.data)[0];
  };

  beforeAll(async () => {
    stack = await startTestStack();
    operator = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.operatorKey);
    api = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.apiKey);
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("lists institutions with what the issuer registry holds about them", async () => {
    const { institutions } = await operator.ok<{ institutions: any[] }>(INSTITUTIONS);
    const demo = institutions.find((i) => i.id === stack.devInfo.institutionId);
    expect(demo).toMatchObject({ status: "ACTIVE", chainInstitutionId: "1", suspendedReason: null });
    expect(demo.identity).toMatch(/^did:key:/);
  });

  it("registers an institution on chain: PENDING, then ACTIVE once CONFIRMED; the name kept verbatim", async () => {
    const input = { name: NAME, slug: "ecole-polytechnique", identity: "polytechnique.example.edu", ownerEmail: "Registrar@Polytechnique.example.edu", idempotencyKey: key() };
    const { registerInstitution: res } = await operator.ok<{ registerInstitution: any }>(REGISTER, { input });
    expect(res).toMatchObject({ created: true, institution: { name: NAME, status: "PENDING", chainInstitutionId: null }, operation: { kind: "REGISTER_INSTITUTION", status: "QUEUED" } });
    // The first OWNER's key, shown this once: it acts for the new institution at once, as its OWNER.
    expect(res.ownerApiKey).toMatch(/^hm_/);
    expect(res.ownerKey).toMatchObject({ prefix: res.ownerApiKey.slice(0, 11), scopes: ["READ", "ISSUE", "ADMIN"] });
    const owner = graphqlClient(stack.devInfo.graphqlUrl, res.ownerApiKey);
    const own = await owner.ok<{ viewer: any; members: any[] }>(`{ viewer { id } members { role email } }`);
    expect(own).toEqual({ viewer: { id: res.institution.id }, members: [{ role: "OWNER", email: "registrar@polytechnique.example.edu" }] });
    const again = (await operator.ok<{ registerInstitution: any }>(REGISTER, { input })).registerInstitution;
    expect(again).toMatchObject({ created: false, operation: { id: res.operation.id }, ownerApiKey: null, ownerKey: { id: res.ownerKey.id } });
    expect((await operator.fails(REGISTER, { input: { ...input, name: "Other" } })).code).toBe("IDEMPOTENCY_CONFLICT");
    expect((await operator.fails(REGISTER, { input: { ...input, idempotencyKey: key() } })).code).toBe("CONFLICT");

    const done = await settled(res.operation.id);
    expect(done).toMatchObject({ status: "CONFIRMED", error: null, institution: { status: "ACTIVE" } });
    expect(done.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    const onChain = await issuerRegistryAt(stack.devInfo.contracts.IssuerRegistry!, stack.provider).institution(BigInt(done.institution.chainInstitutionId));
    expect([onChain.name, onChain.identity, Number(onChain.status)]).toEqual([NAME, "polytechnique.example.edu", 1]);
  });

  it("refuses bad registrations with BAD_USER_INPUT", async () => {
    const base = { name: "Good", slug: "good-one", identity: "did:web:good.example", ownerEmail: "owner@good.example", idempotencyKey: key() };
    const cases: [Record<string, unknown>, string][] = [
      [{ ownerEmail: null }, "ownerEmail"],
      [{ ownerAddress: Wallet.createRandom().address }, "ownerAddress"],
      [{ ownerEmail: "not an address" }, "ownerEmail"],
      [{ ownerEmail: null, ownerAddress: "0x123" }, "ownerAddress"],
      [{ name: "" }, "name"],
      [{ name: "é".repeat(129) }, "name"],
      [{ name: "tab\there" }, "name"],
      [{ slug: "Upper" }, "slug"],
      [{ slug: "-dash" }, "slug"],
      [{ slug: "<script>" }, "slug"],
      [{ identity: "not a domain" }, "identity"],
      [{ identity: "http://example.edu" }, "identity"],
      [{ idempotencyKey: " " }, "idempotencyKey"],
    ];
    for (const [input, field] of cases) {
      const e = await operator.fails(REGISTER, { input: { ...base, idempotencyKey: key(), ...input } });
      expect([e.code, e.extensions.field], JSON.stringify(input)).toEqual(["BAD_USER_INPUT", field]);
    }
    const { status } = await operator.raw(REGISTER, { input: { ...base, name: 5 } });
    expect(status).toBe(400);
  });

  it("suspends an institution on chain: its keys still read, issuing fails with INSTITUTION_SUSPENDED; reactivated, it issues again", async () => {
    const id = stack.devInfo.institutionId;
    expect((await operator.fails(SUSPEND, { input: { institutionId: id, reason: "" } })).code).toBe("BAD_USER_INPUT");
    const { suspendInstitution: res } = await operator.ok<{ suspendInstitution: any }>(SUSPEND, {
      input: { institutionId: id, reason: "Accreditation <lapsed>", idempotencyKey: key() },
    });
    expect(res.operation).toMatchObject({ kind: "SUSPEND_INSTITUTION", status: "QUEUED", reason: "Accreditation <lapsed>" });
    // Refused from the request on, before anything is queued.
    expect(await issue()).toMatchObject({ __typename: "InstitutionNotActiveError", code: "INSTITUTION_SUSPENDED" });
    const again = (await operator.ok<{ suspendInstitution: any }>(SUSPEND, { input: { institutionId: id, reason: "Accreditation <lapsed>" } })).suspendInstitution;
    expect(again).toMatchObject({ created: false, operation: { id: res.operation.id } });

    const done = await settled(res.operation.id);
    expect(done).toMatchObject({ status: "CONFIRMED", institution: { status: "SUSPENDED", suspendedReason: "Accreditation <lapsed>" } });
    const registry = issuerRegistryAt(stack.devInfo.contracts.IssuerRegistry!, stack.provider);
    expect(Number((await registry.institution(1n)).status)).toBe(2);
    expect(await registry.canIssue(stack.devInfo.contracts.CertificateRegistry)).toBe(false);

    expect((await issue())?.code).toBe("INSTITUTION_SUSPENDED");
    await api.ok(`{ viewer { id name } quota { issuancesThisMonth } }`);
    expect((await operator.fails(SUSPEND, { input: { institutionId: id, reason: "again" } })).code).toBe("CONFLICT");

    const { reactivateInstitution: back } = await operator.ok<{ reactivateInstitution: any }>(REACTIVATE, { input: { institutionId: id } });
    expect((await settled(back.operation.id)).institution.status).toBe("ACTIVE");
    expect(Number((await registry.institution(1n)).status)).toBe(1);
    expect(await issue()).toBeUndefined();
    expect((await operator.fails(REACTIVATE, { input: { institutionId: id } })).code).toBe("CONFLICT");
    expect((await operator.fails(SUSPEND, { input: { institutionId: "00000000-0000-4000-8000-000000000000", reason: "x" } })).code).toBe("NOT_FOUND");
    expect((await operator.fails(SUSPEND, { input: { institutionId: "1; drop", reason: "x" } })).code).toBe("NOT_FOUND");
  });

  it("grants and revokes a role of a certificate registry on chain, read back with hasRole and chainRoles", async () => {
    const account = Wallet.createRandom().address;
    const input = { collectionId: stack.devInfo.collectionId, role: "PAUSER", account: account.toLowerCase(), idempotencyKey: key() };
    const { grantChainRole: res } = await operator.ok<{ grantChainRole: any }>(GRANT, { input });
    expect(res.operation).toMatchObject({ kind: "GRANT_ROLE", role: "PAUSER", account, status: "QUEUED" });
    expect((await settled(res.operation.id)).status).toBe("CONFIRMED");
    const registry = certificateRegistryAt(stack.devInfo.contracts.CertificateRegistry, stack.provider);
    expect(await registry.hasRole(chainRoleId("PAUSER"), account)).toBe(true);
    const roles = (await operator.ok<{ chainRoles: any[] }>(ROLES, { id: stack.devInfo.collectionId })).chainRoles;
    expect(roles).toContainEqual({ role: "PAUSER", account });
    expect(roles.some((r) => r.role === "ISSUER")).toBe(true);

    const { revokeChainRole: gone } = await operator.ok<{ revokeChainRole: any }>(REVOKE, { input: { ...input, idempotencyKey: key() } });
    expect((await settled(gone.operation.id)).status).toBe("CONFIRMED");
    expect(await registry.hasRole(chainRoleId("PAUSER"), account)).toBe(false);
    expect((await operator.ok<{ chainRoles: any[] }>(ROLES, { id: stack.devInfo.collectionId })).chainRoles).not.toContainEqual({ role: "PAUSER", account });
  });

  it("refuses bad role changes", async () => {
    const valid = Wallet.createRandom().address;
    const wrongCase = wrongChecksumAddress();
    const base = { collectionId: stack.devInfo.collectionId, role: "MINTER", account: valid };
    for (const [input, code, field] of [
      [{ account: "0x0000000000000000000000000000000000000000" }, "BAD_USER_INPUT", "account"],
      [{ account: wrongCase }, "BAD_USER_INPUT", "account"],
      [{ account: "0xabc" }, "BAD_USER_INPUT", "account"],
      [{ collectionId: "00000000-0000-4000-8000-000000000000" }, "NOT_FOUND", "collectionId"],
      [{ collectionId: "x" }, "NOT_FOUND", "collectionId"],
    ] as const) {
      const e = await operator.fails(GRANT, { input: { ...base, idempotencyKey: key(), ...input } });
      expect([e.code, e.extensions.field], JSON.stringify(input)).toEqual([code, field]);
    }
    expect((await operator.raw(GRANT, { input: { ...base, role: "ADMIN" } })).status).toBe(400);
    expect((await operator.fails(ROLES, { id: "00000000-0000-4000-8000-000000000000" })).code).toBe("NOT_FOUND");
  });

  it("is for the operator alone; an operator key acts for no institution", async () => {
    const input = { name: "X", slug: "x", identity: "x.example", idempotencyKey: key() };
    expect((await api.fails(REGISTER, { input })).code).toBe("FORBIDDEN");
    expect((await api.fails(INSTITUTIONS)).code).toBe("FORBIDDEN");
    expect((await api.fails(ROLES, { id: stack.devInfo.collectionId })).code).toBe("FORBIDDEN");
    expect((await graphqlClient(stack.devInfo.graphqlUrl).fails(REGISTER, { input })).code).toBe("UNAUTHENTICATED");
    expect((await operator.fails(`{ viewer { id } }`)).code).toBe("FORBIDDEN");
    expect((await operator.fails(ISSUE, { input: { collectionId: stack.devInfo.collectionId, recipient: Wallet.createRandom().address, idempotencyKey: key() } })).code).toBe("FORBIDDEN");
  });
});
