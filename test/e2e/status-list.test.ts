import * as dccVc from "@digitalcredentials/vc";
import { checkStatus, decodeList } from "@digitalcredentials/vc-bitstring-status-list";
import { eq } from "drizzle-orm";
import { Wallet } from "ethers";
import { gql } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificates, statusListIndices } from "../../core/db/schema.ts";
import { drawRange, listLength, MIN_LIST_LENGTH, statusListIndexOf } from "../../core/status-lists/index.ts";
import { issueCertificate, issuerClient, revokeCertificate, type IssuedCertificate } from "../core/verification/certificates.ts";
import { independentSuite, isLoopback, loopbackDocumentLoader } from "../support/independent-status.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
type Json = Record<string, any>;

/**
 * A W3C verifier that shares no code with Hallmark's: the Digital Credentials Consortium's VC library, Data Integrity
 * suite and eddsa-rdfc-2022 cryptosuite, and its Bitstring Status List checker, which fetches the lists through a
 * loopback-only document loader (test/support/independent-status.ts).
 */
function independentVerifier() {
  const { documentLoader, loaded } = loopbackDocumentLoader();
  const verify = (credential: object, now?: Date) => dccVc.verifyCredential({ credential, suite: independentSuite(), documentLoader, checkStatus, now });
  return { verify, loaded };
}

/** The purposes whose bit is set, as the independent checker reports them. */
function setBits(result: Json): string[] {
  return (result.statusResult?.results ?? []).filter((r: Json) => r.verified === false).map((r: Json) => r.credentialStatus.statusPurpose).sort();
}

const SUSPEND = gql`mutation($input: CertificateSuspensionInput!) { suspendCertificate(input: $input) { ... on CertificateOperationPayload { operation { id } } ... on Error { code message } } }`;
const UNSUSPEND = gql`mutation($input: CertificateSuspensionInput!) { unsuspendCertificate(input: $input) { ... on CertificateOperationPayload { operation { id } } ... on Error { code message } } }`;
const STATUS = gql`query($id: ID!) { certificate(id: $id) { status } }`;

describe("W3C Bitstring Status Lists for exported credentials", () => {
  let stack: Stack;
  let baseUrl: string;
  let collectionId: string;
  let revoked: IssuedCertificate;
  let suspended: IssuedCertificate;
  const exported = new Map<string, Json>();
  const independent = independentVerifier();

  const listUrl = (purpose: string) => `${baseUrl}/status-lists/${collectionId}/${purpose}`;
  const download = async (id: string) => {
    const res = await fetch(`${baseUrl}/certificates/${id}/credential`, { signal: AbortSignal.timeout(30_000) });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Json;
  };
  const getList = (purpose: string, headers: Record<string, string> = {}) => fetch(listUrl(purpose), { headers, signal: AbortSignal.timeout(30_000) });
  const changeSuspension = async (mutation: string, id: string, to: string) => {
    const client = issuerClient(stack);
    await client.request(mutation, { input: { certificateId: id, reason: "Under review", idempotencyKey: crypto.randomUUID() } });
    await waitFor(async () => (await client.request<{ certificate: { status: string } }>(STATUS, { id })).certificate.status, (s) => s === to, 60_000);
  };

  beforeAll(async () => {
    stack = await startTestStack();
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    collectionId = stack.devInfo.collectionId;
    revoked = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Diploma in Acoustics", validUntil: "2099-01-01T00:00:00Z" });
    suspended = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Certificate in Optics" });
    for (const c of [revoked, suspended]) exported.set(c.id, await download(c.id));
  }, 120_000);
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("exports credentials with a revocation and a suspension BitstringStatusListEntry, and the chain facts as related information", async () => {
    const credential = exported.get(revoked.id)!;
    const [revocation, suspension] = credential.credentialStatus;
    expect(credential.credentialStatus).toHaveLength(2);
    expect(revocation).toMatchObject({ type: "BitstringStatusListEntry", statusPurpose: "revocation", statusListCredential: listUrl("revocation") });
    expect(suspension).toMatchObject({ type: "BitstringStatusListEntry", statusPurpose: "suspension", statusListCredential: listUrl("suspension") });
    expect(revocation.statusListIndex).toMatch(/^\d+$/);
    expect(suspension.statusListIndex).toBe(revocation.statusListIndex);
    expect(revocation.id).toBe(`${listUrl("revocation")}#${revocation.statusListIndex}`);
    expect(Number(revocation.statusListIndex)).toBeLessThan(MIN_LIST_LENGTH);
    expect(credential.chainRecord).toMatchObject({ chainId: 31337, registry: stack.devInfo.contracts.CertificateRegistry, tokenId: revoked.tokenId });
    expect(credential.chainRecord.transactionHash).toMatch(/^0x[0-9a-f]{64}$/);
    // Each certificate keeps its index: exported again, the same bits.
    const again = await fetch(`${baseUrl}/certificates/31337:${stack.devInfo.contracts.CertificateRegistry}:${revoked.tokenId}/credential`).then((r) => r.json());
    expect(again.credentialStatus.map((s: Json) => s.statusListIndex)).toEqual([revocation.statusListIndex, revocation.statusListIndex]);
    expect(exported.get(suspended.id)!.credentialStatus[0].statusListIndex).not.toBe(revocation.statusListIndex);
  });

  it("serves each list signed by the institution's key, at least 131,072 entries long, with ETag, 304 and Cache-Control", async () => {
    const credential = exported.get(revoked.id)!;
    for (const purpose of ["revocation", "suspension"]) {
      const started = performance.now();
      const res = await getList(purpose);
      const firstMs = performance.now() - started;
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/vc/);
      expect(res.headers.get("cache-control")).toBe("public, max-age=60");
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      const etag = res.headers.get("etag")!;
      expect(etag).toMatch(/^"[\w-]+"$/);
      const text = await res.text();
      const list = JSON.parse(text) as Json;
      expect(list["@context"]).toEqual(["https://www.w3.org/ns/credentials/v2"]);
      expect(list).toMatchObject({ id: listUrl(purpose), type: ["VerifiableCredential", "BitstringStatusListCredential"], issuer: { id: credential.issuer.id } });
      expect(list.credentialSubject).toMatchObject({ id: `${listUrl(purpose)}#list`, type: "BitstringStatusList", statusPurpose: purpose, ttl: 60_000 });
      const validUntil = Date.parse(list.validUntil);
      expect(validUntil).toBeGreaterThan(Date.now() + 23 * 3_600_000);
      expect(validUntil).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000);
      expect(list.proof).toMatchObject({ type: "DataIntegrityProof", cryptosuite: "eddsa-rdfc-2022", proofPurpose: "assertionMethod" });
      const bits = await decodeList({ encodedList: list.credentialSubject.encodedList });
      expect(bits.length).toBeGreaterThanOrEqual(MIN_LIST_LENGTH);

      // Unchanged: the very same signed bytes, and a revalidation costs no body.
      const reused = performance.now();
      const again = await getList(purpose);
      expect(again.headers.get("etag")).toBe(etag);
      expect(await again.text()).toBe(text);
      console.log(`${purpose} list: first answer (read and signed) ${firstMs.toFixed(1)} ms, unchanged ${(performance.now() - reused).toFixed(1)} ms, ${text.length} bytes`);
      const notModified = await getList(purpose, { "if-none-match": etag });
      expect(notModified.status).toBe(304);
      expect(await notModified.text()).toBe("");
      expect((await getList(purpose, { "if-none-match": '"something-else"' })).status).toBe(200);
    }
  });

  it("answers 400 for a malformed collection id and 404 for an unknown collection or purpose", async () => {
    expect((await fetch(`${baseUrl}/status-lists/not-a-uuid/revocation`)).status).toBe(400);
    expect((await fetch(`${baseUrl}/status-lists/${crypto.randomUUID()}/revocation`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/status-lists/${collectionId}/refresh`)).status).toBe(404);
  });

  it("is verified by an independent W3C library (signature, validity period, status over loopback HTTP)", async () => {
    for (const c of [revoked, suspended]) {
      const result = await independent.verify(exported.get(c.id)!);
      expect(result.error, JSON.stringify(result.error?.errors?.map((e: Error) => e.message) ?? result.error)).toBeUndefined();
      expect(result.verified).toBe(true);
      expect(result.statusResult.verified).toBe(true);
      expect(setBits(result)).toEqual([]);
    }
    expect(independent.loaded).toContain(listUrl("revocation"));
    expect(independent.loaded).toContain(listUrl("suspension"));
    expect(independent.loaded.every((url) => !url.startsWith("http") || isLoopback(url) || url.startsWith("https://www.w3.org/") || url.startsWith("https://w3id.org/") || url.startsWith("https://purl.imsglobal.org/"))).toBe(true);

    // One byte of a claim changed: the signature fails.
    const altered = structuredClone(exported.get(revoked.id)!);
    altered.name = "Diploma in Acousticz";
    expect((await independent.verify(altered)).verified).toBe(false);
    // Past its validUntil the credential fails too, as the library judges the validity period itself.
    const late = await independent.verify(exported.get(revoked.id)!, new Date("2099-06-01T00:00:00Z"));
    expect(late.verified).toBe(false);
    expect(JSON.stringify(late.error?.errors?.map((e: Error) => e.message) ?? late.error?.message)).toContain("validUntil");
  });

  it("reads revoked from the list once revokeCertificate is confirmed, with a new ETag", async () => {
    const before = (await getList("revocation")).headers.get("etag");
    await revokeCertificate(stack, revoked.id);
    const result = await independent.verify(exported.get(revoked.id)!);
    expect(result.verified).toBe(false);
    expect(result.statusResult.verified).toBe(false);
    expect(setBits(result)).toEqual(["revocation"]);
    const after = await getList("revocation", { "if-none-match": before! });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(before);
    // The other certificate in the same list is untouched.
    expect((await independent.verify(exported.get(suspended.id)!)).verified).toBe(true);
  });

  it("grows the list as soon as a position is drawn beyond its length, without waiting for a block", async () => {
    // A certificate whose first export draws a position past the list's end (as once half the positions are taken),
    // after the list was last signed: no block comes between.
    const late = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Certificate in Mechanics" });
    const before = (await (await getList("revocation")).json()) as Json;
    expect((await decodeList({ encodedList: before.credentialSubject.encodedList })).length).toBe(MIN_LIST_LENGTH);
    await stack.db.db.insert(statusListIndices).values({ certificateId: late.id, collectionId, statusListIndex: MIN_LIST_LENGTH + 5 });
    const after = (await (await getList("revocation")).json()) as Json;
    expect((await decodeList({ encodedList: after.credentialSubject.encodedList })).length).toBe(2 * MIN_LIST_LENGTH);
    await stack.db.db.delete(statusListIndices).where(eq(statusListIndices.certificateId, late.id));
  });

  it("reads suspended while suspended and valid again once the suspension is lifted", async () => {
    const revocationList = await (await getList("revocation")).text();
    await changeSuspension(SUSPEND, suspended.id, "SUSPENDED");
    const during = await independent.verify(exported.get(suspended.id)!);
    expect(during.verified).toBe(false);
    expect(setBits(during)).toEqual(["suspension"]);

    await changeSuspension(UNSUSPEND, suspended.id, "VALID");
    const after = await independent.verify(exported.get(suspended.id)!);
    expect(after.error).toBeUndefined();
    expect(after.verified).toBe(true);
    expect(setBits(after)).toEqual([]);
    // The indexer moved on through two blocks that changed no revocation bit: that list was not signed again.
    expect(await (await getList("revocation")).text()).toBe(revocationList);
  });

  describe("index assignment", () => {
    const rowOf = async (id: string) => (await stack.db.db.select({ collectionId: certificates.collectionId }).from(certificates).where(eq(certificates.id, id)))[0]!;

    it("draws within the minimum length until half of it is taken, then doubles", () => {
      expect(drawRange(0)).toBe(MIN_LIST_LENGTH);
      expect(drawRange(MIN_LIST_LENGTH / 2 - 1)).toBe(MIN_LIST_LENGTH);
      expect(drawRange(MIN_LIST_LENGTH / 2)).toBe(2 * MIN_LIST_LENGTH);
      expect(listLength(null)).toBe(MIN_LIST_LENGTH);
      expect(listLength(MIN_LIST_LENGTH - 1)).toBe(MIN_LIST_LENGTH);
      expect(listLength(MIN_LIST_LENGTH)).toBe(2 * MIN_LIST_LENGTH);
    });

    it("gives one index to a certificate asked for many times at once, and draws again on a taken position", async () => {
      const fresh = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: "Race" });
      const row = await rowOf(fresh.id);
      const [taken] = await stack.db.db.select().from(statusListIndices).where(eq(statusListIndices.certificateId, suspended.id));
      // The first draw lands on another certificate's position; the second is free.
      const draws = [taken!.statusListIndex, 4242];
      let drawn = 0;
      const draw = () => draws[Math.min(drawn++, draws.length - 1)]!;
      const indices = await Promise.all(Array.from({ length: 8 }, () => statusListIndexOf(stack.db.db, { id: fresh.id, collectionId: row.collectionId }, draw)));
      expect(new Set(indices)).toEqual(new Set([4242]));
      expect(drawn).toBeGreaterThanOrEqual(2);
      const rows = await stack.db.db.select().from(statusListIndices).where(eq(statusListIndices.collectionId, row.collectionId));
      expect(new Set(rows.map((r) => r.statusListIndex)).size).toBe(rows.length);
      // Asked again later, the stored index, whatever the draw would say.
      expect(await statusListIndexOf(stack.db.db, { id: fresh.id, collectionId: row.collectionId }, () => 7)).toBe(4242);
    });
  });
});
