import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const dir = "test-results";
/** The pipeline's summary; other chaos files write `chaos-summary-<name>.txt` beside it. */
const file = join(dir, "chaos-summary.txt");
const summaries = () => readdirSync(dir).filter((f) => f.startsWith("chaos-summary")).sort();

/** Prints the chaos suite's closing lines after vitest's own summary, where outside checks read them. */
export function setup() {
  mkdirSync(dir, { recursive: true });
  for (const f of summaries()) rmSync(join(dir, f), { force: true });
}

export function teardown() {
  try {
    process.stdout.write(readFileSync(file, "utf8"));
  } catch {
    process.stdout.write("chaos: no summary (the suite did not finish)\n");
  }
  for (const f of summaries().filter((f) => join(dir, f) !== file)) process.stdout.write(readFileSync(join(dir, f), "utf8"));
}
