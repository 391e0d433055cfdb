import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // graphql ships CJS and ESM builds; Node loads one copy for the app, so must the tests, or a GraphQLError made
    // in our code is not an instance of the class Yoga checks against and gets masked.
    alias: { graphql: createRequire(import.meta.url).resolve("graphql") },
  },
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/chaos/**", "**/node_modules/**"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites boot real services (EDR, Redis, PGlite): keep the two cores from thrashing.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
