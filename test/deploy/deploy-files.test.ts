import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { loadArtifact } from "../../core/chain/artifacts.ts";
import { SETTING_NAMES, loadConfig } from "../../core/config.ts";

const root = join(import.meta.dirname, "..", "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const run = promisify(execFile);

/**
 * The deployment files cannot start a Besu network or pull images here, so what can be checked is checked: that
 * they agree with the platform (its settings, its contracts, its compiler target, its limits) and with each other.
 */
describe("deploy/besu: the QBFT network's genesis and node configuration", () => {
  const input = JSON.parse(read("deploy/besu/qbftConfigFile.json"));
  const genesis = input.genesis;
  const node = parseToml(read("deploy/besu/config.toml")) as Record<string, unknown>;
  const config = loadConfig({});

  it("is QBFT with 4 validators, its own chain id and blocks every few seconds", () => {
    expect(input.blockchain.nodes).toEqual({ generate: true, count: 4 });
    expect(genesis.config.qbft.blockperiodseconds).toBeGreaterThanOrEqual(1);
    expect(genesis.config.qbft.blockperiodseconds).toBeLessThanOrEqual(5);
    expect(genesis.config.qbft.requesttimeoutseconds).toBeGreaterThan(genesis.config.qbft.blockperiodseconds);
    expect(genesis.config.ibft2).toBeUndefined();
    // Not a public network's id, nor a development chain's.
    expect([1, 5, 11155111, 17000, 1337, 31337]).not.toContain(genesis.config.chainId);
  });

  it("is free gas: zero base fee from London on, and nodes that take a gas price of 0", () => {
    expect(genesis.config.londonBlock).toBe(0);
    expect(genesis.config.zeroBaseFee).toBe(true);
    expect(node["min-gas-price"]).toBe(0);
  });

  it("runs the EVM the contracts are compiled for", () => {
    expect(read("hardhat.config.ts")).toMatch(/evmVersion: "cancun"/);
    expect(genesis.config.shanghaiTime).toBe(0);
    expect(genesis.config.cancunTime).toBe(0);
  });

  it("takes every contract (its code and its creation) and the largest transaction the platform sends", () => {
    const limit = genesis.config.contractSizeLimit ?? 24_576;
    for (const name of ["CertificateRegistry", "CertificateAnchor", "CollectibleEditions", "IssuerRegistry"]) {
      const artifact = loadArtifact(name) as ReturnType<typeof loadArtifact> & { deployedBytecode: string };
      expect((artifact.deployedBytecode.length - 2) / 2, name).toBeLessThanOrEqual(limit);
      // EIP-3860: creation code up to twice the code size limit.
      expect((artifact.bytecode.length - 2) / 2, name).toBeLessThanOrEqual(2 * limit);
    }
    expect(Number(BigInt(genesis.gasLimit))).toBeGreaterThanOrEqual(config.chain.txGasCap);
  });

  it("holds every transaction a signing key has in flight, and offers only the standard JSON-RPC namespaces", () => {
    expect(node["tx-pool"]).toBe("layered");
    expect(node["tx-pool-max-future-by-sender"] as number).toBeGreaterThanOrEqual(config.chain.maxInFlightPerKey * 10);
    const apis = node["rpc-http-api"] as string[];
    expect(apis).toEqual(expect.arrayContaining(["ETH", "NET"]));
    for (const risky of ["ADMIN", "DEBUG", "MINER", "TRACE", "PERM", "PLUGINS"]) expect(apis).not.toContain(risky);
    expect(node["discovery-enabled"]).toBe(false);
  });

  it("the network script writes what the node configuration and compose read", () => {
    const script = read("deploy/besu/init-network.sh");
    expect(node["genesis-file"]).toBe("/network/genesis.json");
    expect(node["static-nodes-file"]).toBe("/network/static-nodes.json");
    expect(script).toContain("/network/genesis.json");
    expect(script).toContain("/network/static-nodes.json");
    expect(script).toContain("--config-file=/config/qbftConfigFile.json");
  });
});

describe("deploy/: the image and the compose file", () => {
  const compose = parseYaml(read("deploy/compose.yaml"), { merge: true }) as { services: Record<string, any> };
  const hallmark = Object.entries(compose.services).filter(([, s]) => s.image === "hallmark:local");

  it("runs the release steps, an API server and a worker from the one image, each with a role the entrypoint knows", async () => {
    expect(hallmark.map(([name]) => name).sort()).toEqual(["deploy", "migrate", "server", "worker"]);
    const entrypoint = read("deploy/entrypoint.sh");
    for (const [name, service] of hallmark) {
      const role = service.command[0];
      expect(entrypoint, name).toMatch(new RegExp(`^\\s*${role}\\) exec node scripts/\\w+\\.ts`, "m"));
      const script = entrypoint.match(new RegExp(`^\\s*${role}\\) exec node (scripts/\\w+\\.ts)`, "m"))![1]!;
      expect(existsSync(join(root, script)), script).toBe(true);
    }
    const refused = await run("sh", [join(root, "deploy/entrypoint.sh"), "bogus"]).catch((e) => e);
    expect(refused.code).toBe(64);
    expect(refused.stderr).toContain("usage: hallmark server|worker|migrate|deploy|audit");
  });

  it("gives Hallmark only settings it reads, production's required ones included, on the genesis' chain", () => {
    const genesis = JSON.parse(read("deploy/besu/qbftConfigFile.json")).genesis;
    for (const [name, service] of hallmark) {
      const env = service.environment as Record<string, string>;
      for (const key of Object.keys(env)) expect(SETTING_NAMES, `${name}: ${key}`).toContain(key);
      for (const key of ["DATABASE_URL", "REDIS_URL", "CHAIN_RPC_URL", "IPFS_API_URL", "CUSTODY_SECRET", "PUBLIC_URL", "SIGNER_PRIVATE_KEY"]) {
        expect(env[key], `${name}: ${key}`).toBeTruthy();
      }
      expect(Number(env.CHAIN_ID), name).toBe(genesis.config.chainId);
      expect(env.NODE_ENV).toBe("production");
    }
    expect(compose.services.deploy.environment.DEPLOYER_PRIVATE_KEY).toBeTruthy();
    expect(compose.services.server.environment.DEPLOYER_PRIVATE_KEY).toBeUndefined();
  });

  it("the example environment names every variable compose reads, and no secret", () => {
    const used = new Set([...read("deploy/compose.yaml").matchAll(/\$\{(\w+)/g)].map((m) => m[1]));
    const example = Object.fromEntries(
      read("deploy/example.env").split("\n").filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    expect(Object.keys(example).sort()).toEqual([...used].sort());
    for (const key of ["POSTGRES_PASSWORD", "CUSTODY_SECRET", "DEPLOYER_PRIVATE_KEY", "ADMIN_PRIVATE_KEY", "SIGNER_PRIVATE_KEY"]) expect(example[key]).toBe("");
  });

  it("builds from the lock file and copies only what exists", () => {
    const dockerfile = read("deploy/Dockerfile");
    expect(dockerfile).toMatch(/RUN npm ci --no-audit/);
    expect(dockerfile).toMatch(/RUN npm ci --omit=dev/);
    expect(dockerfile).not.toMatch(/npm install/);
    for (const [, source] of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) {
      for (const path of [source!]) expect(existsSync(join(root, path)), path).toBe(true);
    }
    expect(dockerfile).toMatch(/FROM node:24/);
  });

  it("gives the server and the worker the same heap limit as npm start and npm run worker, under the size where V8 lets a heap grow to four times what is alive", () => {
    const limitIn = (text: string) => [...text.matchAll(/--max-old-space-size=(\d+)/g)].map((m) => Number(m[1]));
    const image = limitIn(read("deploy/Dockerfile"));
    const scripts = JSON.parse(read("package.json")).scripts as Record<string, string>;
    const npm = ["start", "worker", "bench:issue"].flatMap((name) => limitIn(scripts[name]!));
    expect(image).toHaveLength(1);
    expect(npm).toEqual([image[0], image[0], image[0]]);
    // V8 grows the old generation by up to 4x a collection's survivors from a 2 GiB limit up, by at most 2x below it.
    expect(image[0]).toBeLessThan(2048);
  });

  it("gives the server and the worker two allocator arenas, as npm start and npm run worker do", () => {
    const arenas = (text: string) => [...text.matchAll(/MALLOC_ARENA_MAX=(\d+)/g)].map((m) => Number(m[1]));
    const scripts = JSON.parse(read("package.json")).scripts as Record<string, string>;
    expect(arenas(read("deploy/Dockerfile"))).toEqual([2]);
    expect(["start", "worker", "bench:issue"].flatMap((name) => arenas(scripts[name]!))).toEqual([2, 2, 2]);
  });
});
