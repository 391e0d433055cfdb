import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");

/**
 * Installs are reproducible only while the committed lock file is exactly what npm derives from package.json:
 * `scripts/setup.sh` installs with `npm ci`, which refuses a lock out of step. Resolving the lock again (from npm's
 * cache, no network) must therefore change nothing, on every platform's optional packages included.
 */
describe("the committed lock file", () => {
  const dir = mkdtempSync(join(tmpdir(), "hallmark-lock-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is what npm resolves from package.json, so npm ci installs from it", async () => {
    copyFileSync(join(root, "package.json"), join(dir, "package.json"));
    copyFileSync(join(root, "package-lock.json"), join(dir, "package-lock.json"));
    await run("npm", ["install", "--package-lock-only", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: dir, timeout: 120_000 });
    const committed = readFileSync(join(root, "package-lock.json"), "utf8");
    expect(readFileSync(join(dir, "package-lock.json"), "utf8") === committed, "npm install rewrote package-lock.json: commit the lock npm resolves").toBe(true);
  });

  it("setup installs with npm ci, never npm install", () => {
    const setup = readFileSync(join(root, "scripts", "setup.sh"), "utf8").split("\n").filter((l) => !l.trim().startsWith("#"));
    expect(setup.some((l) => /^\s*npm ci\b/.test(l))).toBe(true);
    expect(setup.some((l) => /^\s*npm install\b/.test(l))).toBe(false);
  });
});
