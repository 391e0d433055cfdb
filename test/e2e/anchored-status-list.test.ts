import { checkStatus, decodeList } from "@digitalcredentials/vc-bitstring-status-list";
import { eq, inArray } from "drizzle-orm";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anchoredCertificates, anchoredStatusListIndices } from "../../core/db/schema.ts";
import { assignAnchoredIndices, MIN_LIST_LENGTH } from "../../core/status-lists/index.ts";
import { ERROR_FIELDS, graphqlClient } from "../support/graphql-http.ts";
import { independentSuite, loopbackDocumentLoader } from "../support/independent-status.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

const CREATE_COLLECTION = `mutation($input: CreateCollectionInput!) { createCollection(input: $input) {
  ... on CreateCollectionPayload { collection { id status kind contractAddress } } ${ERROR_FIELDS} } }`;
const COLLECTION = `query($id: ID!) { collection(id: $id) { id status error contractAddress } }`;
const ANCHOR = `mutation($input: AnchorCertificatesInput!) { anchorCertificates(input: $input) {
  ... on AnchorCertificatesPayload { created anchoredBatch { id status } } ${ERROR_FIELDS} } }`;
const BATCH = `query($id: ID!) { anchoredBatch(id: $id) { id status root certificates(first: 10) { edges { node { id digest status file } } } } }`;
const REVOKE_ONE = `mutation($input: RevokeAnchoredCertificateInput!) { revokeAnchoredCertificate(input: $input) {
  ... on AnchoredRevocationPayload { revocation { id } } ${ERROR_FIELDS} } }`;
const REVOKE_BATCH = `mutation($input: RevokeAnchoredBatchInput!) { revokeAnchoredBatch(input: $input) {
  ... on AnchoredRevocationPayload { revocation { id } } ${ERROR_FIELDS} } }`;
const REVOCATION = `query($id: ID!) { anchoredRevocation(id: $id) { id status error } }`;

type Json = Record<string, any>;
type Cert = { id: string; digest: string; status: string; file: Json };

describe("the revocation status list of an ANCHORED collection", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let api: ReturnType<typeof graphqlClient>;
  let baseUrl: string;
  let anchoredId: string;
  let first: { id: string; certificates: Cert[] };
  let second: { id: string; certificates: Cert[] };
  const loader = loopbackDocumentLoader();

  const listUrl = (purpose = "revocation") => `${baseUrl}/status-lists/${anchoredId}/${purpose}`;
  const getList = (headers: Record<string, string> = {}) => fetch(listUrl(), { headers, signal: AbortSignal.timeout(30_000) });
  const batch = async (id: string) => {
    const b = (await api.ok<{ anchoredBatch: any }>(BATCH, { id })).anchoredBatch;
    return { id: b.id, status: b.status, certificates: b.certificates.edges.map((e: any) => e.node) as Cert[] };
  };
  const anchor = async (key: string, size: number) => {
    const certificates = Array.from({ length: size }, (_, i) => ({ recipient: Wallet.createRandom().address, title: "Transcript of Records", recipientName: `Holder ${key} ${i}` }));
    const { anchorCertificates: res } = await api.ok<{ anchorCertificates: any }>(ANCHOR, { input: { collectionId: anchoredId, idempotencyKey: key, certificates } });
    const done = await waitFor(() => batch(res.anchoredBatch.id), (b) => b.status === "CONFIRMED" || b.status === "FAILED", 60_000);
    expect(done.status).toBe("CONFIRMED");
    return done;
  };
  const confirmed = async (mutation: string, input: Json) => {
    const data = await api.ok<Json>(mutation, { input: { ...input, idempotencyKey: crypto.randomUUID() } });
    const id = (Object.values(data)[0] as Json).revocation.id;
    const settled = await waitFor(async () => (await api.ok<{ anchoredRevocation: any }>(REVOCATION, { id })).anchoredRevocation, (r) => r.status === "CONFIRMED" || r.status === "FAILED", 60_000);
    expect(settled).toMatchObject({ status: "CONFIRMED", error: null });
  };
  /**
   * The independent checker's verdict on a file's entry. The file is not a verifiable credential (the anchor proves
   * it), so the entry is handed over in the smallest credential the checker accepts; that credential has no issuer of
   * its own to match, so the list's issuer is checked separately (it is the institution's DID).
   */
  const revokedPerChecker = async (file: Json): Promise<boolean> => {
    const result: Json = await checkStatus({
      credential: { "@context": ["https://www.w3.org/ns/credentials/v2"], type: ["VerifiableCredential"], credentialStatus: file.credentialStatus },
      documentLoader: loader.documentLoader,
      suite: independentSuite(),
      verifyBitstringStatusListCredential: true,
      verifyMatchingIssuers: false,
    });
    expect(result.error, String(result.error?.message ?? result.error)).toBeUndefined();
    expect(result.results).toHaveLength(1);
    return result.results[0].verified === false;
  };
  const verifyFile = async (file: unknown) => {
    const res = await fetch(`${baseUrl}/verify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(file), signal: AbortSignal.timeout(30_000) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { verdict: string }).verdict;
  };

  beforeAll(async () => {
    stack = await startTestStack();
    api = graphqlClient(stack.devInfo.graphqlUrl, stack.devInfo.apiKey);
    baseUrl = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "");
    const { createCollection } = await api.ok<{ createCollection: any }>(CREATE_COLLECTION, {
      input: { name: "Status Transcripts", symbol: "STR", kind: "ANCHORED", idempotencyKey: "anchored-status" },
    });
    anchoredId = createCollection.collection.id;
    const ready = await waitFor(async () => (await api.ok<{ collection: any }>(COLLECTION, { id: anchoredId })).collection, (c) => c.status !== "QUEUED" && c.status !== "SUBMITTED", 60_000);
    expect(ready).toMatchObject({ status: "CONFIRMED", error: null });
    first = await anchor("first-batch", 3);
    second = await anchor("second-batch", 2);
  }, 180_000);
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("gives every file a revocation BitstringStatusListEntry beside the document, at a distinct stable position", async () => {
    const all = [...first.certificates, ...second.certificates];
    for (const c of all) {
      const entry = c.file.credentialStatus;
      expect(entry).toMatchObject({ type: "BitstringStatusListEntry", statusPurpose: "revocation", statusListCredential: listUrl() });
      expect(entry.statusListIndex).toMatch(/^\d+$/);
      expect(entry.id).toBe(`${listUrl()}#${entry.statusListIndex}`);
      expect(Number(entry.statusListIndex)).toBeLessThan(MIN_LIST_LENGTH);
      // Outside the hashed document: the document carries no status of its own.
      expect(c.file.document.credentialStatus).toBeUndefined();
    }
    expect(new Set(all.map((c) => c.file.credentialStatus.statusListIndex)).size).toBe(all.length);
    // Stored when the batch was accepted: asked again, the same positions.
    const again = await batch(first.id);
    expect(again.certificates.map((c) => c.file.credentialStatus)).toEqual(first.certificates.map((c) => c.file.credentialStatus));
    // The entry is informative: the file verifies with it, and without it (as files of unrecorded batches come).
    expect(await verifyFile(first.certificates[0]!.file)).toBe("VALID");
    const { credentialStatus: _, ...bare } = first.certificates[0]!.file;
    expect(await verifyFile(bare)).toBe("VALID");
  });

  it("serves the list signed by the institution's key, at least 131,072 entries long, every bit clear", async () => {
    const res = await getList();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/vc/);
    expect(res.headers.get("etag")).toMatch(/^"[\w-]+"$/);
    const list = (await res.json()) as Json;
    expect(list).toMatchObject({ id: listUrl(), type: ["VerifiableCredential", "BitstringStatusListCredential"] });
    expect(list.credentialSubject).toMatchObject({ type: "BitstringStatusList", statusPurpose: "revocation" });
    expect(list.proof).toMatchObject({ type: "DataIntegrityProof", cryptosuite: "eddsa-rdfc-2022" });
    // The same signer as the registry collection's lists: the institution's DID.
    const registryList = (await (await fetch(`${baseUrl}/status-lists/${stack.devInfo.collectionId}/revocation`)).json()) as Json;
    expect(list.issuer.id).toBe(registryList.issuer.id);
    const bits = await decodeList({ encodedList: list.credentialSubject.encodedList });
    expect(bits.length).toBeGreaterThanOrEqual(MIN_LIST_LENGTH);
    for (const c of [...first.certificates, ...second.certificates]) {
      expect(bits.getStatus(Number(c.file.credentialStatus.statusListIndex))).toBe(false);
      expect(await revokedPerChecker(c.file)).toBe(false);
    }
    expect(loader.loaded).toContain(listUrl());
  });

  it("answers 404 for its suspension list, saying why, and for an unknown collection", async () => {
    const suspension = await fetch(listUrl("suspension"));
    expect(suspension.status).toBe(404);
    expect(await suspension.text()).toContain("cannot be suspended");
    expect((await fetch(`${baseUrl}/status-lists/${crypto.randomUUID()}/revocation`)).status).toBe(404);
    // The registry collection keeps both lists.
    expect((await fetch(`${baseUrl}/status-lists/${stack.devInfo.collectionId}/suspension`)).status).toBe(200);
  });

  it("sets the bit once revokeAnchoredCertificate confirms, with a new ETag, and only that bit", async () => {
    const before = (await getList()).headers.get("etag")!;
    const [victim, ...others] = first.certificates;
    await confirmed(REVOKE_ONE, { digest: victim!.digest, reason: "issued in error" });
    const after = await getList({ "if-none-match": before });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(before);
    expect(await revokedPerChecker(victim!.file)).toBe(true);
    for (const c of [...others, ...second.certificates]) expect(await revokedPerChecker(c.file)).toBe(false);
    // The chain agrees: the file's own check reads the anchor contract.
    expect(await verifyFile(victim!.file)).toBe("INVALID");
  }, 90_000);

  it("sets every certificate's bit once revokeAnchoredBatch confirms", async () => {
    await confirmed(REVOKE_BATCH, { anchoredBatchId: second.id, reason: "exam board annulled the session" });
    for (const c of second.certificates) expect(await revokedPerChecker(c.file)).toBe(true);
    expect(await revokedPerChecker(first.certificates[1]!.file)).toBe(false);
    const list = (await (await getList()).json()) as Json;
    const bits = await decodeList({ encodedList: list.credentialSubject.encodedList });
    const set = [...first.certificates, ...second.certificates].filter((c) => bits.getStatus(Number(c.file.credentialStatus.statusListIndex)));
    expect(set.map((c) => c.id).sort()).toEqual([first.certificates[0]!.id, ...second.certificates.map((c) => c.id)].sort());
  }, 90_000);

  it("draws again when a position is taken, inside the batch's transaction", async () => {
    const db = stack.db.db;
    const [taken] = await db.select().from(anchoredStatusListIndices).where(eq(anchoredStatusListIndices.certificateId, first.certificates[0]!.id));
    const ids = first.certificates.map((c) => c.id);
    const [template] = await db.select().from(anchoredCertificates).where(eq(anchoredCertificates.id, ids[0]!));
    // Two throwaway rows of the same batch, rolled back with the transaction.
    const rolledBack = new Error("roll back");
    let result: Map<string, number> | undefined;
    await db
      .transaction(async (tx) => {
        const rows = await tx
          .insert(anchoredCertificates)
          .values([0, 1].map((i) => ({ ...template!, id: undefined, position: 100 + i, documentId: `collision-${i}`, digest: `0x${String(i).repeat(64)}` })))
          .returning({ id: anchoredCertificates.id });
        // The first row draws another certificate's position (the database refuses it), the second a free one; drawn
        // again, the first lands on the position the second took in this batch (refused locally), then on a free one.
        const draws = [taken!.statusListIndex, 777, 777, 778];
        let drawn = 0;
        result = await assignAnchoredIndices(tx, anchoredId, rows.map((r) => r.id), () => draws[Math.min(drawn++, draws.length - 1)]!);
        throw rolledBack;
      })
      .catch((err) => {
        if (err !== rolledBack) throw err;
      });
    expect([...result!.values()].sort()).toEqual([777, 778]);
    // Nothing of it stayed.
    expect(await db.select().from(anchoredCertificates).where(inArray(anchoredCertificates.documentId, ["collision-0", "collision-1"]))).toEqual([]);
  });
});
