import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { InterfaceAbi } from "ethers";

export interface ContractArtifact {
  contractName: string;
  abi: InterfaceAbi;
  bytecode: string;
}

const root = fileURLToPath(new URL("../../", import.meta.url));
const cache = new Map<string, ContractArtifact>();

/** Reads a Hardhat build artifact (`npm run build:contracts` writes them). */
export function loadArtifact(contractName: string, sourceFile = `${contractName}.sol`): ContractArtifact {
  const key = `${sourceFile}:${contractName}`;
  let artifact = cache.get(key);
  if (!artifact) {
    const path = `${root}artifacts/contracts/${sourceFile}/${contractName}.json`;
    try {
      artifact = JSON.parse(readFileSync(path, "utf8")) as ContractArtifact;
    } catch (err) {
      throw new Error(`Contract artifact ${path} is missing: run \`npm run build:contracts\` first (${(err as Error).message})`);
    }
    cache.set(key, artifact);
  }
  return artifact;
}
