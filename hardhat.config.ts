import { createRequire } from "node:module";
import { defineConfig } from "hardhat/config";

// No compiler can be downloaded on these machines: compile with the solc-js build shipped in the npm `solc` package.
const require = createRequire(import.meta.url);
const solcVersion: string = require("solc/package.json").version;

export default defineConfig({
  solidity: {
    version: solcVersion,
    path: require.resolve("solc/soljson.js"),
    settings: {
      optimizer: { enabled: true, runs: 200 },
      // Cancun is what current Besu / GoQuorum QBFT networks run; EDR executes it unchanged.
      evmVersion: "cancun",
    },
  },
  paths: { sources: "./contracts" },
  // Solidity tests (contracts/**/*.t.sol): sized for a 2-core CI machine.
  test: {
    solidity: {
      fuzz: { runs: 256 },
      invariant: { runs: 48, depth: 40, failOnRevert: false },
    },
  },
});
