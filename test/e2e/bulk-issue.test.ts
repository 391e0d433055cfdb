import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { count, eq, isNotNull } from "drizzle-orm";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificates, issuances } from "../../core/db/schema.ts";
import { startTestStack } from "../support/stack.ts";

const run = promisify(execFile);

describe("bulk issuance from a CSV file", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let csv: string;
  beforeAll(async () => {
    stack = await startTestStack();
    const lines = ["recipient,title,recipientName,attr:Degree"];
    for (let i = 0; i < 30; i++) {
      const recipient = i === 4 ? "0x1234" : i === 17 ? "0x0000000000000000000000000000000000000000" : Wallet.createRandom().address;
      lines.push(`${recipient},"Diploma, class of 2026",Student ${i},MSc`);
    }
    csv = join(mkdtempSync(join(tmpdir(), "hallmark-csv-")), "diplomas.csv");
    writeFileSync(csv, `${lines.join("\n")}\n`);
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const issue = () =>
    run(process.execPath, ["scripts/issue.ts", "--csv", csv, "--collection", stack.devInfo.collectionId, "--url", stack.devInfo.graphqlUrl, "--api-key", stack.devInfo.apiKey]).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it("issues every good row, confirms them on chain, and names each bad row by its line", async () => {
    const result = await issue();
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("30 rows, 28 accepted, 2 rejected, 0 failed on chain");
    // Lines count the header as line 1: rows 4 and 17 (from 0) are lines 6 and 19.
    expect(result.stdout).toMatch(/line 6: BAD_USER_INPUT \(recipient\)/);
    expect(result.stdout).toMatch(/line 19: BAD_USER_INPUT \(recipient\): recipient must not be the zero address/);
    expect(result.stderr).toMatch(/confirmed .* 30\/30 100%/);
    const [confirmed] = await stack.db.db.select({ n: count() }).from(certificates);
    expect(confirmed!.n).toBe(28);
  });

  it("run again (as after an interruption), it issues nothing twice", async () => {
    const result = await issue();
    expect(result.stdout).toContain("30 rows, 28 accepted, 2 rejected");
    const [all] = await stack.db.db.select({ n: count() }).from(issuances).where(isNotNull(issuances.bulkId));
    expect(all!.n).toBe(28);
    const [confirmed] = await stack.db.db.select({ n: count() }).from(issuances).where(eq(issuances.status, "CONFIRMED"));
    expect(confirmed!.n).toBe(28);
  });
});
