import { eq, sql } from "drizzle-orm";
import { Wallet } from "ethers";
import { GraphQLClient, gql } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificates, editions } from "../../core/db/schema.ts";
import { reconcile } from "../../core/reconcile.ts";
import { encodePng } from "../../scripts/dev/demo-edition.ts";
import { issueCertificate, revokeCertificate } from "../core/verification/certificates.ts";
import { startTestStack, waitFor } from "../support/stack.ts";

const OPERATION = gql`query($id: ID!) { certificateOperation(id: $id) { status error } }`;

/**
 * The reconciler (`npm run audit`, `reconcile()`) after every kind of change the platform makes on chain, then
 * after the database was made to disagree with the chain in each way it checks.
 */
describe("the reconciler: database against chain, for certificates and editions", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let client: GraphQLClient;
  const ids: Record<string, { id: string; tokenId: string }> = {};
  let editionId: string;

  const operate = async (mutation: string, input: Record<string, unknown>) => {
    const res = await client.request<Record<string, { operation?: { id: string }; code?: string; message?: string }>>(
      gql`mutation($input: ${mutation === "correctCertificateMetadata" ? "CorrectCertificateMetadataInput" : mutation === "recoverCertificate" ? "RecoverCertificateInput" : "CertificateSuspensionInput"}!) {
        ${mutation}(input: $input) { ... on CertificateOperationPayload { operation { id } } ... on Error { code message } } }`,
      { input },
    );
    const id = res[mutation]!.operation?.id;
    expect(id, JSON.stringify(res)).toBeTruthy();
    const done = await waitFor(async () => (await client.request<any>(OPERATION, { id })).certificateOperation, (o) => o.status === "CONFIRMED" || o.status === "FAILED");
    expect(done).toEqual({ status: "CONFIRMED", error: null });
  };

  beforeAll(async () => {
    stack = await startTestStack();
    client = new GraphQLClient(stack.devInfo.graphqlUrl, { headers: { authorization: `Bearer ${stack.devInfo.apiKey}` } });
    for (const name of ["kept", "revoked", "suspended", "corrected", "recovered"]) {
      ids[name] = await issueCertificate(stack, { recipient: Wallet.createRandom().address, title: `Audit ${name}` });
    }
    await revokeCertificate(stack, ids.revoked!.id);
    await operate("suspendCertificate", { certificateId: ids.suspended!.id, reason: "Audit", idempotencyKey: "audit-suspend" });
    await operate("correctCertificateMetadata", { certificateId: ids.corrected!.id, title: "Audit corrected", reason: "Typo", idempotencyKey: "audit-correct" });
    await operate("recoverCertificate", { certificateId: ids.recovered!.id, newHolder: Wallet.createRandom().address, reason: "Lost wallet", idempotencyKey: "audit-recover" });

    const form = new FormData();
    form.set("file", new Blob([new Uint8Array(encodePng(4, 4, () => [1, 2, 3]))]), "audit.png");
    const url = stack.devInfo.graphqlUrl.replace(/\/graphql$/, "/media");
    const { cid } = (await (await fetch(url, { method: "POST", headers: { authorization: `Bearer ${stack.devInfo.apiKey}`, "x-graphql-csrf": "1" }, body: form })).json()) as { cid: string };
    const made = await client.request<any>(
      gql`mutation($cid: String!) { createEdition(input: { name: "Audit", images: [{ cid: $cid, label: "x" }], maxSupply: 10, transferPolicy: LOCKED, idempotencyKey: "audit-edition" }) { ... on CreateEditionPayload { edition { id } } } }`,
      { cid },
    );
    editionId = made.createEdition.edition.id;
    await waitFor(async () => (await client.request<any>(gql`query($id: ID!) { edition(id: $id) { status } }`, { id: editionId })).edition.status, (s) => s === "CONFIRMED");
    const drop = await client.request<any>(
      gql`mutation($input: AirdropInput!) { airdrop(input: $input) { ... on EditionOperationPayload { operation { id } } } }`,
      { input: { editionId, holders: [Wallet.createRandom().address, Wallet.createRandom().address, Wallet.createRandom().address], idempotencyKey: "audit-airdrop" } },
    );
    await waitFor(
      async () => (await client.request<any>(gql`query($id: ID!) { editionOperation(id: $id) { status } }`, { id: drop.airdrop.operation.id })).editionOperation.status,
      (s) => s === "CONFIRMED",
    );
  }, 180_000);
  afterAll(async () => {
    await stack?.cleanup();
  });

  const audit = () => reconcile(stack.db.db, stack.provider, stack.devInfo.chainId);

  it("finds nothing after issue, revoke, suspend, correct, recover, edition and airdrop: the database says what the chain says", async () => {
    const report = await audit();
    expect(report.mismatches).toEqual([]);
    expect(report).toMatchObject({ duplicates: 0, stuck: 0 });
    // The recovery's successor is an issuance of its own, on chain like the others.
    expect(report.onChain).toBe(report.requested);
    expect(report.requested).toBeGreaterThanOrEqual(6);
  });

  it("names each way the database can disagree: a status, a document, an edition's mints", async () => {
    const db = stack.db.db;
    const [before] = await db.select().from(certificates).where(eq(certificates.id, ids.revoked!.id));
    const [corrected] = await db.select().from(certificates).where(eq(certificates.id, ids.corrected!.id));
    try {
      await db.update(certificates).set({ status: "VALID" }).where(eq(certificates.id, ids.revoked!.id));
      await db.update(certificates).set({ status: "VALID" }).where(eq(certificates.id, ids.suspended!.id));
      await db.update(certificates).set({ metadataUri: "ipfs://bafkreiexample" }).where(eq(certificates.id, ids.corrected!.id));
      await db.update(editions).set({ minted: sql`${editions.minted} + 1` }).where(eq(editions.id, editionId));
      const report = await audit();
      const seen = report.mismatches.map((m) => [m.kind, m.detail.split(":")[0]]);
      expect(seen).toEqual(
        expect.arrayContaining([
          ["status-mismatch", `token ${ids.revoked!.tokenId}`],
          ["status-mismatch", `token ${ids.suspended!.tokenId}`],
          ["metadata-mismatch", `token ${ids.corrected!.tokenId}`],
        ]),
      );
      expect(report.mismatches.find((m) => m.kind === "status-mismatch" && m.detail.startsWith(`token ${ids.revoked!.tokenId}`))!.detail).toContain("chain REVOKED");
      expect(report.mismatches.find((m) => m.kind === "edition-minted-mismatch")).toMatchObject({ editionId, detail: expect.stringContaining("database 4 minted, chain 3") });
      expect(report.mismatches).toHaveLength(4);
    } finally {
      await db.update(certificates).set({ status: before!.status }).where(eq(certificates.id, ids.revoked!.id));
      await db.update(certificates).set({ status: "SUSPENDED" }).where(eq(certificates.id, ids.suspended!.id));
      await db.update(certificates).set({ metadataUri: corrected!.metadataUri }).where(eq(certificates.id, ids.corrected!.id));
      await db.update(editions).set({ minted: sql`${editions.minted} - 1` }).where(eq(editions.id, editionId));
    }
    expect((await audit()).mismatches).toEqual([]);
  });
});
