import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

/** `npm run test:chaos`: fault tests against PostgreSQL and Redis servers and killed worker processes. */
export default defineConfig({
  resolve: { alias: { graphql: createRequire(import.meta.url).resolve("graphql") } },
  test: {
    include: ["test/chaos/**/*.chaos.test.ts"],
    globalSetup: ["test/global-setup.ts", "test/chaos/summary.ts"],
    // A settle fails when nothing moves for a minute (harness.ts); this only catches a test that hangs outright.
    testTimeout: 600_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
