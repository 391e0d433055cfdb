import { eq, sql } from "drizzle-orm";
import { Wallet } from "ethers";
import { GraphQLClient, gql } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportCredential } from "../../core/credentials/index.ts";
import { certificates, issuances, personalDisclosures } from "../../core/db/schema.ts";
import { ipfsStoreSource } from "../../core/verification/index.ts";
import { startTestStack, waitFor } from "../support/stack.ts";
import { fetchDocument, issueCertificate, issuerClient, type IssuedCertificate } from "../core/verification/certificates.ts";

const NAME = "Ada Lovelace";
const STUDENT_NUMBER = "S-1815-1210";

const VERIFY = gql`
  query Verify($id: ID!, $share: String, $disclosures: [DisclosureInput!]) {
    verify(id: $id, share: $share, disclosures: $disclosures) {
      verdict
      certificate { recipientName recipientNameStatus attributes { name value } personalFields { name status } }
    }
  }
`;
const PERSONAL = gql`
  query Personal($id: ID!) {
    certificate(id: $id) { personalData { recipientName shareUrl erasedAt erasedBy erasedReason disclosures { path salt value } } }
  }
`;
const ERASE = gql`
  mutation Erase($input: ErasePersonalDataInput!) {
    erasePersonalData(input: $input) { ... on ErasePersonalDataPayload { personalData { recipientName erasedAt } } ... on Error { __typename code message field } }
  }
`;
const CORRECT = gql`
  mutation Correct($input: CorrectCertificateMetadataInput!) {
    correctCertificateMetadata(input: $input) { ... on CertificateOperationPayload { operation { id status } } ... on Error { __typename code message field } }
  }
`;
const OPERATION = gql`
  query Operation($id: ID!) { certificateOperation(id: $id) { status error metadataUri } }
`;
const SET_TEMPLATE = gql`
  mutation Template($input: SetCollectionTemplateInput!) {
    setCollectionTemplate(input: $input) { ... on SetCollectionTemplatePayload { template { fields { key personal } } } ... on Error { __typename code message field } }
  }
`;
const PUBLIC_NAMES = gql`
  mutation Public($input: SetPublicHolderNamesInput!) {
    setCollectionPublicHolderNames(input: $input) { ... on SetPublicHolderNamesPayload { collection { publicHolderNames } } ... on Error { __typename code message } }
  }
`;

describe("personal data: withheld from the public document, disclosed through the holder's link, erasable", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let baseUrl: string;
  let anonymous: GraphQLClient;
  let issuer: GraphQLClient;
  let cert: IssuedCertificate;
  let byToken: string;
  let shareUrl: string;
  const holder = Wallet.createRandom().address;

  const page = async (url: string) => (await fetch(url, { headers: { accept: "text/html" } })).text();
  const verify = async (vars: Record<string, unknown>) => (await anonymous.request<{ verify: any }>(VERIFY, vars)).verify;
  const personal = async () => (await issuer.request<{ certificate: { personalData: any } }>(PERSONAL, { id: cert.id })).certificate.personalData;
  const exportDeps = () => ({ db: stack.db.db, chains: () => stack.provider, documents: ipfsStoreSource(stack.ipfs), keyring: stack.custody.keyring() });
  /** Every table whose rows, read as text, contain `needle`. */
  const tablesHolding = async (needle: string) => {
    const tables = (await stack.db.db.execute(sql`select tablename from pg_tables where schemaname = 'public' order by 1`)) as unknown as { rows: { tablename: string }[] };
    const found: string[] = [];
    for (const { tablename } of tables.rows) {
      const rows = (await stack.db.db.execute(sql.raw(`select t::text as row from "${tablename}" t`))) as unknown as { rows: { row: string }[] };
      if (rows.rows.some((r) => r.row.includes(needle))) found.push(tablename);
    }
    return found;
  };
  const setPublic = (value: boolean) => issuer.request<any>(PUBLIC_NAMES, { input: { collectionId: stack.devInfo.collectionId, publicHolderNames: value } });

  beforeAll(async () => {
    stack = await startTestStack();
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    anonymous = new GraphQLClient(stack.devInfo.graphqlUrl);
    issuer = issuerClient(stack);
    cert = await issueCertificate(stack, {
      recipient: holder,
      title: "Master of Mathematics",
      recipientName: NAME,
      attributes: [{ name: "Grade", value: "Distinction" }, { name: "Student number", value: STUDENT_NUMBER }],
      personalAttributes: ["Student number"],
    });
    byToken = `31337:${stack.devInfo.contracts.CertificateRegistry}:${cert.tokenId}`;
    shareUrl = (await personal()).shareUrl;
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("pins a document with no personal data in it, only salted digests", async () => {
    const bytes = Buffer.from(await fetchDocument(stack, cert.metadataCid));
    expect(bytes.includes(NAME)).toBe(false);
    expect(bytes.includes("Lovelace")).toBe(false);
    expect(bytes.includes(STUDENT_NUMBER)).toBe(false);
    const doc = JSON.parse(bytes.toString());
    expect(doc.$schema).toBe("https://hallmark.dev/schemas/certificate/v2");
    expect(doc.certificate.recipient.name).toEqual({ digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(doc.attributes.map((a: any) => a.trait_type)).not.toContain("Recipient");
    expect(doc.attributes.map((a: any) => a.trait_type)).not.toContain("Student number");
    // The issuance row keeps no copy either: the worker pins from the committed fields.
    const [row] = await stack.db.db.select({ document: issuances.document }).from(issuances).innerJoin(certificates, eq(certificates.issuanceId, issuances.id)).where(eq(certificates.id, cert.id));
    expect(JSON.stringify(row!.document)).not.toContain(NAME);
  });

  it("shows no name by token id, by certificate id without the link, on the page or through GraphQL", async () => {
    for (const id of [byToken, cert.id]) {
      const r = await verify({ id });
      expect(r.verdict).toBe("VALID");
      expect(r.certificate).toMatchObject({ recipientName: null, recipientNameStatus: "NOT_DISCLOSED", personalFields: [{ name: "Student number", status: "NOT_DISCLOSED" }] });
      expect(r.certificate.attributes).toEqual([{ name: "Grade", value: "Distinction" }]);
      const html = await page(`${baseUrl}/verify/${encodeURIComponent(id)}`);
      expect(html).toContain("Valid certificate");
      expect(html).toContain("Recipient: not disclosed");
      expect(html).not.toContain("Lovelace");
      expect(html).not.toContain(STUDENT_NUMBER);
    }
    const json = await (await fetch(`${baseUrl}/verify/${encodeURIComponent(byToken)}`, { headers: { accept: "application/json" } })).text();
    expect(json).not.toContain("Lovelace");
  });

  it("the holder's link shows the name and that it matches; a wrong token or value does not", async () => {
    expect(shareUrl).toMatch(new RegExp(`^${baseUrl}/verify/${cert.id}\\?share=[A-Za-z0-9_-]{43}$`));
    const html = await page(shareUrl);
    expect(html).toContain(`Recipient: <strong>${NAME}</strong> (matches the certificate)`);
    expect(html).toContain(STUDENT_NUMBER);
    const print = await page(`${baseUrl}/certificates/${cert.id}/print?share=${new URL(shareUrl).searchParams.get("share")}`);
    expect(print).toContain(NAME);

    const share = new URL(shareUrl).searchParams.get("share")!;
    expect((await verify({ id: cert.id, share })).certificate).toMatchObject({ recipientName: NAME, recipientNameStatus: "MATCHES" });
    // A token opens only its own certificate, and only whole.
    // The changed character must differ from the original (a token ending in "A" once made this compare the token with itself).
    const altered = `${share.slice(0, 10)}${share[10] === "Q" ? "g" : "Q"}${share.slice(11)}`;
    expect((await verify({ id: cert.id, share: altered })).certificate.recipientNameStatus).toBe("NOT_DISCLOSED");

    const { disclosures } = await personal();
    const salt = disclosures.find((d: any) => d.path === "recipientName").salt;
    const tampered = await verify({ id: byToken, disclosures: [{ path: "recipientName", salt, value: "Eve Mallory" }] });
    expect(tampered.verdict).toBe("VALID");
    expect(tampered.certificate).toMatchObject({ recipientName: null, recipientNameStatus: "DOES_NOT_MATCH" });
    const honest = await verify({ id: byToken, disclosures: [{ path: "recipientName", salt, value: NAME }] });
    expect(honest.certificate).toMatchObject({ recipientName: NAME, recipientNameStatus: "MATCHES" });
  });

  it("a collection that publishes names shows them by token id", async () => {
    expect((await setPublic(true)).setCollectionPublicHolderNames.collection.publicHolderNames).toBe(true);
    try {
      expect((await verify({ id: byToken })).certificate).toMatchObject({ recipientName: NAME, recipientNameStatus: "MATCHES" });
      expect(await page(`${baseUrl}/verify/${encodeURIComponent(byToken)}`)).toContain(NAME);
    } finally {
      await setPublic(false);
    }
    expect((await verify({ id: byToken })).certificate.recipientNameStatus).toBe("NOT_DISCLOSED");
  });

  it("exports the holder's copy with the name and salts, which verifies offline and against the chain", async () => {
    const share = new URL(shareUrl).searchParams.get("share")!;
    const credential: any = await exportCredential(exportDeps(), cert.id, { verifyUrl: shareUrl, share, baseUrl });
    expect(credential.credentialSubject.identifier).toEqual([{ type: ["IdentityObject"], identityType: "name", hashed: false, identityHash: NAME }]);
    expect(credential.personalDisclosures.map((d: any) => d.path).sort()).toEqual(["attributes/Student number", "recipientName"]);
    const res = await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(credential) });
    const result = await res.json();
    expect(result.verdict).toBe("VALID");
    expect(result.certificate).toMatchObject({ recipientName: NAME, recipientNameStatus: "MATCHES" });

    // A name changed after signing fails both the signature and the commitment.
    const forged = structuredClone(credential);
    forged.credentialSubject.identifier[0].identityHash = "Eve Mallory";
    forged.personalDisclosures.find((d: any) => d.path === "recipientName").value = "Eve Mallory";
    const bad = await (await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(forged) })).json();
    expect(bad.verdict).toBe("INVALID");
    expect(bad.certificate.recipientNameStatus).toBe("DOES_NOT_MATCH");

    const anonymousCopy: any = await exportCredential(exportDeps(), cert.id, { verifyUrl: `${baseUrl}/verify/${cert.id}`, baseUrl });
    expect(JSON.stringify(anonymousCopy)).not.toContain(NAME);
  });

  it("a correction withholds the name as issuance does; the holder's link opens the corrected document too", async () => {
    const corrected = await issuer.request<any>(CORRECT, {
      input: {
        certificateId: cert.id,
        title: "Master of Mathematics (Hons)",
        recipientName: NAME,
        attributes: [{ name: "Grade", value: "Distinction" }, { name: "Student number", value: STUDENT_NUMBER }],
        reason: "Honours omitted",
        idempotencyKey: `correct-${cert.id}`,
      },
    });
    const id = corrected.correctCertificateMetadata.operation.id;
    const done = await waitFor(
      async () => (await issuer.request<any>(OPERATION, { id })).certificateOperation,
      (o) => o.status === "CONFIRMED" || o.status === "FAILED",
      60_000,
    );
    expect(done.status).toBe("CONFIRMED");
    const bytes = Buffer.from(await fetchDocument(stack, done.metadataUri.replace("ipfs://", "")));
    expect(bytes.includes("Lovelace")).toBe(false);
    expect(bytes.includes(STUDENT_NUMBER)).toBe(false);
    const r = await verify({ id: cert.id, share: new URL(shareUrl).searchParams.get("share") });
    expect(r.verdict).toBe("VALID");
    expect(r.certificate).toMatchObject({ recipientName: NAME, recipientNameStatus: "MATCHES", personalFields: [{ name: "Student number", status: "MATCHES" }] });
  });

  it("erasure removes the name from everywhere, and the certificate still verifies", async () => {
    expect(await tablesHolding("Lovelace")).toEqual(["personal_disclosures"]);
    const share = new URL(shareUrl).searchParams.get("share")!;
    // The download route: the holder's link token puts the name in the credential, none leaves it out; both are
    // now cached, and the erasure below must not be answered from that cache.
    const download = async (token?: string) => {
      const res = await fetch(`${baseUrl}/certificates/${cert.id}/credential${token ? `?share=${token}` : ""}`);
      expect(res.status).toBe(200);
      return res.text();
    };
    expect(await download(share)).toContain("Lovelace");
    expect(await download(share)).toContain("Lovelace");
    expect(await download()).not.toContain("Lovelace");
    expect(await download("A".repeat(43))).not.toContain("Lovelace");
    const input = { certificateId: cert.id, reason: "Holder's request (GDPR art. 17)", idempotencyKey: `erase-${cert.id}` };
    const erased = (await issuer.request<any>(ERASE, { input })).erasePersonalData;
    expect(erased.personalData.recipientName).toBeNull();
    expect(erased.personalData.erasedAt).toBeTruthy();
    // The same key answers the same erasure; another key is told it is done.
    expect((await issuer.request<any>(ERASE, { input })).erasePersonalData.personalData.erasedAt).toBe(erased.personalData.erasedAt);
    expect((await issuer.request<any>(ERASE, { input: { ...input, idempotencyKey: "another" } })).erasePersonalData).toMatchObject({ __typename: "ConflictError", code: "CONFLICT" });

    const record = await personal();
    expect(record).toMatchObject({ recipientName: null, shareUrl: null, disclosures: [], erasedReason: input.reason });
    expect(record.erasedBy).toMatch(/^apiKey:/);

    await setPublic(true);
    try {
      for (const id of [cert.id, byToken]) {
        const r = await verify({ id, share });
        expect(r.verdict).toBe("VALID");
        expect(r.certificate).toMatchObject({ recipientName: null, recipientNameStatus: "NOT_DISCLOSED" });
      }
      for (const url of [shareUrl, `${baseUrl}/verify/${encodeURIComponent(byToken)}`, `${baseUrl}/certificates/${cert.id}/print?share=${share}`]) {
        const html = await page(url);
        expect(html).not.toContain("Lovelace");
        expect(html).not.toContain(STUDENT_NUMBER);
      }
      const exported = await exportCredential(exportDeps(), cert.id, { verifyUrl: shareUrl, share, baseUrl });
      expect(JSON.stringify(exported)).not.toContain("Lovelace");
      expect(await download(share)).not.toContain("Lovelace");
    } finally {
      await setPublic(false);
    }

    // Nothing in the database: every table's rows, as text (before the erasure only the disclosures held them).
    expect(await tablesHolding("Lovelace")).toEqual([]);
    expect(await tablesHolding(STUDENT_NUMBER)).toEqual([]);
    expect(await tablesHolding(cert.id)).toContain("certificates");
    const [row] = await stack.db.db.select().from(personalDisclosures).innerJoin(certificates, eq(certificates.issuanceId, personalDisclosures.issuanceId)).where(eq(certificates.id, cert.id));
    expect(row!.personal_disclosures).toMatchObject({ disclosures: null, shareToken: null, erasedReason: input.reason });
  });

  it("erasure is refused for another institution's or an unknown certificate, with a typed error", async () => {
    const r = await issuer.request<any>(ERASE, { input: { certificateId: crypto.randomUUID(), reason: "x", idempotencyKey: "e-unknown" } });
    expect(r.erasePersonalData).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND", field: "certificateId" });
    const empty = await issuer.request<any>(ERASE, { input: { certificateId: cert.id, reason: "  ", idempotencyKey: "e-empty" } });
    expect(empty.erasePersonalData).toMatchObject({ __typename: "InvalidInputError", code: "BAD_USER_INPUT", field: "reason" });
  });

  it("a template field marked personal is withheld like the name; personal fields cannot hide in data", async () => {
    const set = (fields: unknown[], key: string) =>
      issuer.request<any>(SET_TEMPLATE, { input: { collectionId: stack.devInfo.collectionId, idempotencyKey: key, fields } });
    const refused = await set([{ key: "passport", label: "Passport", type: "TEXT", personal: true, shown: false }], "tpl-personal-hidden");
    expect(refused.setCollectionTemplate).toMatchObject({ code: "BAD_USER_INPUT", field: "fields[0].personal" });
    const ok = await set([{ key: "passport", label: "Passport", type: "TEXT", required: true, personal: true }, { key: "degree", label: "Degree", type: "TEXT" }], "tpl-personal");
    expect(ok.setCollectionTemplate.template.fields).toEqual([
      { key: "passport", personal: true },
      { key: "degree", personal: false },
    ]);
    const issued = await issueCertificate(stack, { recipient: holder, title: "Licence", fields: { passport: "X1234567", degree: "MMath" } });
    const bytes = Buffer.from(await fetchDocument(stack, issued.metadataCid));
    expect(bytes.includes("X1234567")).toBe(false);
    expect(bytes.includes("MMath")).toBe(true);
    const link = (await issuer.request<any>(PERSONAL, { id: issued.id })).certificate.personalData.shareUrl;
    const r = await verify({ id: issued.id, share: new URL(link).searchParams.get("share") });
    expect(r.certificate.personalFields).toEqual([{ name: "Passport", status: "MATCHES" }]);
    expect(r.certificate.attributes).toContainEqual({ name: "Passport", value: "X1234567" });
    expect((await verify({ id: issued.id })).certificate.personalFields).toEqual([{ name: "Passport", status: "NOT_DISCLOSED" }]);
  });
});
