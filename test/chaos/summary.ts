import { mkdirSync, readFileSync, rmSync } from "node:fs";

const file = "test-results/chaos-summary.txt";

/** Prints the chaos suite's closing line after vitest's own summary, where outside checks read it. */
export function setup() {
  mkdirSync("test-results", { recursive: true });
  rmSync(file, { force: true });
}

export function teardown() {
  try {
    process.stdout.write(readFileSync(file, "utf8"));
  } catch {
    process.stdout.write("chaos: no summary (the suite did not finish)\n");
  }
}
