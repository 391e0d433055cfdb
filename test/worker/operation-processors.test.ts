import { createHash } from "node:crypto";
import { UnrecoverableError } from "bullmq";
import { eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateRegistryAt } from "../../core/chain/certificate-registry.ts";
import { certificateOperations, certificates, chainTxs, revocations } from "../../core/db/schema.ts";
import { requestCertificateOperation } from "../../core/operations/certificate-operations.ts";
import { requestRevocation } from "../../core/operations/revoke.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { certificateOperation } from "../../worker/processors/certificate-operation.ts";
import { revokeCertificate } from "../../worker/processors/revoke-certificate.ts";
import { ACCOUNT_2_KEY } from "../support/test-chain.ts";
import { startStageFixture, type StageFixture } from "../support/stage-fixture.ts";

/**
 * The processors that carry one operation on an existing certificate to the chain (revocation; suspension,
 * correction, recovery): each job, however often delivered, signs at most one transaction; the contract's refusal
 * fails the operation for good with its reason and takes no nonce.
 */
describe("the operation processors: one transaction per operation, the contract's refusals final", () => {
  let fx: StageFixture;
  /** Another key with the issuer role: what it does on chain, the worker did not send. */
  let outside: ReturnType<typeof certificateRegistryAt>;

  beforeAll(async () => {
    fx = await startStageFixture();
    const admin = certificateRegistryAt(fx.collection.contractAddress, fx.chain.wallet(DEV_KEYS.deployer));
    const other = fx.chain.wallet(ACCOUNT_2_KEY);
    await (await admin.getFunction("grantRole")(await admin.getFunction("ISSUER_ROLE")(), other.address)).wait();
    outside = certificateRegistryAt(fx.collection.contractAddress, other);
  });
  afterAll(async () => {
    await fx?.close();
  });

  const signedFor = (purpose: string) => fx.db.select().from(chainTxs).where(like(chainTxs.purpose, purpose));
  const revocation = async (id: string) => (await fx.db.select().from(revocations).where(eq(revocations.id, id)))[0]!;
  const operation = async (id: string) => (await fx.db.select().from(certificateOperations).where(eq(certificateOperations.id, id)))[0]!;

  it("a revocation job delivered twice at once and once more later signs one revoke transaction", async () => {
    const [certificate] = await fx.certify(1, "revoke-once");
    const { revocation: requested } = await requestRevocation(fx.db, fx.institutionId, { certificateId: certificate!.id, reason: "revoked once" });
    const job = { revocationId: requested.id };
    await Promise.all([revokeCertificate(fx.deps, job), revokeCertificate(fx.deps, job)]);
    await revokeCertificate(fx.deps, job);

    const signed = await signedFor(`revoke:${requested.id}`);
    expect(signed).toHaveLength(1);
    expect(await revocation(requested.id)).toMatchObject({ status: "SUBMITTED", chainTxId: signed[0]!.id, txHash: signed[0]!.txHash });
    expect(fx.moves("revocation", "SUBMITTED", requested.id)).toBe(1);
    expect((await fx.chain.provider.getTransactionReceipt(signed[0]!.txHash))?.status).toBe(1);
    expect(await fx.registry.getFunction("status")(BigInt(certificate!.tokenId))).toBe(3n); // REVOKED
  });

  it("a certificate already revoked on chain: the revocation is SUBMITTED for the indexer to confirm, and nothing is sent", async () => {
    const [certificate] = await fx.certify(1, "revoke-already");
    await (await outside.getFunction("revoke")(BigInt(certificate!.tokenId), 0)).wait();
    const { revocation: requested } = await requestRevocation(fx.db, fx.institutionId, { certificateId: certificate!.id, reason: "revoked elsewhere" });
    await revokeCertificate(fx.deps, { revocationId: requested.id });
    expect(await revocation(requested.id)).toMatchObject({ status: "SUBMITTED", chainTxId: null });
    expect(await signedFor(`revoke:${requested.id}`)).toHaveLength(0);
  });

  it("a revocation the contract refuses (no such token) fails for good with the contract's reason, and takes no nonce", async () => {
    const [issuance] = await fx.requestIssuances(1, { prefix: "revoke-missing" });
    // A record naming a token the registry never minted.
    const [certificate] = await fx.db
      .insert(certificates)
      .values({
        issuanceId: issuance!.id,
        institutionId: fx.institutionId,
        collectionId: fx.collection.id,
        tokenId: "999999",
        owner: issuance!.recipient,
        metadataUri: "ipfs://bafkqaaa",
        digest: `0x${createHash("sha256").update("").digest("hex")}`,
        txHash: `0x${"ab".repeat(32)}`,
        blockNumber: 1,
      })
      .returning();
    const { revocation: requested } = await requestRevocation(fx.db, fx.institutionId, { certificateId: certificate!.id, reason: "never minted" });
    const noncesBefore = (await fx.db.select().from(chainTxs)).length;
    await expect(revokeCertificate(fx.deps, { revocationId: requested.id })).rejects.toBeInstanceOf(UnrecoverableError);
    const failed = await revocation(requested.id);
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toBe("rejected by the contract: CertificateNotFound(999999)");
    expect((await fx.db.select().from(chainTxs)).length).toBe(noncesBefore);
  });

  it("a suspension of a certificate suspended on chain already fails for good, saying so", async () => {
    const [certificate] = await fx.certify(1, "suspend-already");
    await (await outside.getFunction("suspend")(BigInt(certificate!.tokenId))).wait();
    const { operation: requested } = await requestCertificateOperation(fx.db, fx.institutionId, {
      kind: "SUSPEND",
      input: { certificateId: certificate!.id, reason: "under review", idempotencyKey: `suspend-${certificate!.id}` },
    });
    await expect(certificateOperation(fx.deps, { operationId: requested.id })).rejects.toBeInstanceOf(UnrecoverableError);
    expect(await operation(requested.id)).toMatchObject({
      status: "FAILED",
      chainTxId: null,
      error: "rejected by the contract: the certificate is already suspended on chain (CertificateAlreadySuspended)",
    });
  });

  it("a metadata correction pins the corrected document, then signs one updateMetadata however often its job runs", async () => {
    const [certificate] = await fx.certify(1, "correct");
    const { operation: requested } = await requestCertificateOperation(fx.db, fx.institutionId, {
      kind: "CORRECT_METADATA",
      input: { certificateId: certificate!.id, title: "Corrected title", reason: "typo", idempotencyKey: `correct-${certificate!.id}` },
    });
    const job = { operationId: requested.id };
    await Promise.all([certificateOperation(fx.deps, job), certificateOperation(fx.deps, job)]);
    await certificateOperation(fx.deps, job);

    const sent = await operation(requested.id);
    expect(sent.status).toBe("SUBMITTED");
    expect(fx.moves("certificateOperation", "PINNED", requested.id)).toBe(1);
    expect(fx.moves("certificateOperation", "SUBMITTED", requested.id)).toBe(1);
    expect(await signedFor(`correct_metadata:${requested.id}`)).toHaveLength(1);
    const chunks: Uint8Array[] = [];
    for await (const chunk of fx.ipfs.cat(sent.metadataCid!)) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    expect(sent.digest).toBe(`0x${createHash("sha256").update(bytes).digest("hex")}`);
    expect(bytes.toString("utf8")).toContain("Corrected title");
    expect(await fx.registry.getFunction("tokenURI")(BigInt(certificate!.tokenId))).toBe(`ipfs://${sent.metadataCid}`);
  });
});
