import { execFile } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack } from "../support/stack.ts";

const run = promisify(execFile);
type Result = { code: number; stdout: string; stderr: string };
const node = (...args: string[]): Promise<Result> =>
  run("node", args, { maxBuffer: 1 << 24 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );

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
});
