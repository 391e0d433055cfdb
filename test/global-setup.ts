import { execFileSync } from "node:child_process";

/** Compiles the contracts once per run; every suite reads the artifacts. */
export default function setup() {
  // Set by hand, it runs against the artifacts already built (e.g. while contracts are mid-edit).
  if (process.env.HALLMARK_CONTRACTS_BUILT) return;
  execFileSync("npx", ["hardhat", "build", "--quiet"], { stdio: "inherit" });
  // Inherited by the test workers: stacks they start skip their own build.
  process.env.HALLMARK_CONTRACTS_BUILT = "1";
}
