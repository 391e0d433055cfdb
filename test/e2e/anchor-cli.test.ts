import { execFile } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { Wallet } from "ethers";
import { deployCertificateAnchor } from "../../core/chain/deploy.ts";
import { openDatabase } from "../../core/db/index.ts";
import { anchoredBatches, anchoredCertificates, collections, institutions } from "../../core/db/schema.ts";
import { requestAnchoredRevocation } from "../../core/operations/anchored.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { startPostgres } from "../support/postgres.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack } from "../support/stack.ts";

const run = promisify(execFile);
type Result = { code: number; stdout: string; stderr: string };
const nodeWith = (env: Record<string, string>, ...args: string[]): Promise<Result> =>
  run("node", args, { maxBuffer: 1 << 24, env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );
const node = (...args: string[]): Promise<Result> => nodeWith({}, ...args);

describe("`npm run anchor`: a CSV anchored as one Merkle root, each holder's file verifiable", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let csv: string;
  const ROWS = 250;

  beforeAll(async () => {
    stack = await startTestStack();
    csv = join(stack.dataDir, "class-of-2026.csv");
    const lines = Array.from({ length: ROWS }, (_, i) => `${Wallet.createRandom().address},Bachelor of Arts,Graduate ${i},${i % 2 ? "First" : "Second"}`);
    writeFileSync(csv, `recipient,title,recipientName,attr:Class\n${lines.join("\n")}\n`);
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it("refuses a file with an invalid row, naming every bad line, and anchors nothing", async () => {
    const bad = join(stack.dataDir, "bad.csv");
    writeFileSync(bad, `recipient,title\n0x0000000000000000000000000000000000000000,BA\nnot-an-address,BA\n${Wallet.createRandom().address},BA\n`);
    const result = await node("scripts/anchor.ts", "--csv", bad, "--deploy", "--data-dir", stack.dataDir);
    expect(result.code).toBe(65);
    expect(result.stderr).toMatch(/2 of 3 rows are invalid; nothing was anchored/);
    expect(result.stderr).toMatch(/line 2: /);
    expect(result.stderr).toMatch(/line 3: /);
  });

  it("anchors 250 certificates in one transaction; a holder's file verifies VALID and an edited one INVALID", async () => {
    const out = join(stack.dataDir, "anchored");
    const anchored = await node("scripts/anchor.ts", "--csv", csv, "--deploy", "--out", out, "--data-dir", stack.dataDir);
    expect(anchored.code, anchored.stderr).toBe(0);
    expect(anchored.stdout).toMatch(/^anchored 250 certificates under root 0x[0-9a-f]{64} in block \d+/);
    const files = readdirSync(out).filter((f) => f !== "batch.json");
    expect(files).toHaveLength(ROWS);
    const batch = JSON.parse(readFileSync(join(out, "batch.json"), "utf8"));
    expect(batch).toMatchObject({ chainId: 31337, count: ROWS });

    const verify = (file: string) => node("scripts/verify.ts", file, "--data-dir", stack.dataDir);
    const first = await verify(join(out, files[0]!));
    expect(first.stdout).toContain("verdict: VALID");
    expect(first.stdout).toMatch(/✓ issuer +valid +issued by "Demo University"/);
    expect(first.code).toBe(0);

    const edited = join(stack.dataDir, "edited.json");
    const holderFile = JSON.parse(readFileSync(join(out, files[7]!), "utf8"));
    expect(holderFile.document.certificate.recipient.name).toBe("Graduate 7");
    holderFile.document.certificate.recipient.name = "Graduate 700";
    writeFileSync(edited, JSON.stringify(holderFile));
    const forged = await verify(edited);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(/✗ integrity +invalid .*the document or its proof was altered/);
  });

  it("with --record, records the batch in the database under its ANCHORED collection: CONFIRMED, its files and proofs, revocable through the API", async () => {
    const pg = await startPostgres();
    try {
      const handle = await openDatabase({ url: pg.url, dir: "", migrations: "apply" });
      try {
        const db = handle.db;
        const deployer = new Wallet(DEV_KEYS.deployer, stack.provider);
        const anchor = await deployCertificateAnchor(deployer, { name: "Recorded Transcripts", admin: deployer.address, issuer: deployer.address });
        const [institution] = await db.insert(institutions).values({ name: "Recording College", slug: `recording-${randomUUID().slice(0, 8)}` }).returning();
        const values = { institutionId: institution!.id, chainId: 31337, deployBlock: anchor.blockNumber };
        const [anchored] = await db.insert(collections).values({ ...values, name: "Recorded Transcripts", symbol: "RT", kind: "ANCHORED", contractAddress: anchor.address }).returning();
        const [registry] = await db.insert(collections).values({ ...values, name: "Diplomas", symbol: "DIP", contractAddress: Wallet.createRandom().address }).returning();
        const small = join(stack.dataDir, "recorded.csv");
        writeFileSync(small, `recipient,title,recipientName\n${Array.from({ length: 5 }, (_, i) => `${Wallet.createRandom().address},Transcript,Student ${i}`).join("\n")}\n`);
        const env = { DATABASE_URL: pg.url };

        const refused = await nodeWith(env, "scripts/anchor.ts", "--csv", small, "--record", registry!.id, "--data-dir", stack.dataDir);
        expect(refused.code).toBe(64);
        expect(refused.stderr).toContain("must be ANCHORED and CONFIRMED");

        const out = join(stack.dataDir, "recorded");
        const result = await nodeWith(env, "scripts/anchor.ts", "--csv", small, "--record", anchored!.id, "--out", out, "--data-dir", stack.dataDir);
        expect(result.code, result.stderr).toBe(0);
        const batchId = /recorded as anchored batch ([0-9a-f-]{36})/.exec(result.stdout)?.[1];
        expect(batchId).toBeDefined();
        const written = JSON.parse(readFileSync(join(out, "batch.json"), "utf8"));
        const [batch] = await db.select().from(anchoredBatches).where(eq(anchoredBatches.id, batchId!));
        expect(batch).toMatchObject({ status: "CONFIRMED", size: 5, root: written.root, txHash: written.txHash, blockNumber: written.blockNumber, collectionId: anchored!.id });
        const certificates = await db.select().from(anchoredCertificates).where(eq(anchoredCertificates.batchId, batchId!)).orderBy(anchoredCertificates.position);
        const files = readdirSync(out).filter((f) => f !== "batch.json").sort().map((f) => JSON.parse(readFileSync(join(out, f), "utf8")));
        expect(certificates.map((c) => [c.digest, c.proof])).toEqual(files.map((f) => [f.anchor.digest, f.anchor.proof]));
        // The documents name the collection and the institution as the API's batches do.
        expect(files[0].document.certificate.collection).toMatchObject({ id: anchored!.id, contract: anchor.address });
        expect(files[0].document.certificate.issuer).toEqual({ id: institution!.id, name: "Recording College" });

        const { revocation, created } = await requestAnchoredRevocation(db, institution!.id, "apiKey:test", { target: { digest: files[2].anchor.digest }, reason: "recorded", idempotencyKey: "cli-revoke" });
        expect(created).toBe(true);
        expect(revocation).toMatchObject({ status: "QUEUED", target: files[2].anchor.digest, batchId });
      } finally {
        await handle.close();
      }
    } finally {
      await pg.stop();
    }
  }, 120_000);
});
