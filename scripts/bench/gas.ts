import { execFileSync } from "node:child_process";
import { ContractFactory, JsonRpcProvider, NonceManager, Wallet, getAddress, hexlify, keccak256, randomBytes, concat, type Contract } from "ethers";
import { DEV_KEYS, startEmbeddedChain } from "../dev/chain.ts";
import { loadArtifact } from "../../core/chain/artifacts.ts";
import { packIssueBatch } from "../../core/chain/calldata.ts";
import { deployCertificateAnchor, deployCertificateRegistry } from "../../core/chain/deploy.ts";
import { operationsGas } from "./operations-gas.ts";

/**
 * `npm run bench:gas`: gas per certificate of `CertificateRegistry.issueBatch` for batches of 1, 10 and 100
 * distinct holders, and per anchored certificate of `CertificateAnchor.issue(root)` for 1,000 and 10,000 digests,
 * each beside a plain OpenZeppelin ERC-721 `_mint` baseline (contracts/test/BaselineERC721.sol) compiled and
 * measured in the same run. Gas is the whole transaction's `gasUsed` (21,000 base and calldata included)
 * divided by the number of certificates. Holders are fresh addresses, so every balance slot is new, in both.
 * Then the gas of each change after issue (revoke, suspend, reissue, correction, burn) and of contract creation.
 */

// Compile everything, the baseline included, in this run.
execFileSync("npx", ["hardhat", "build"], { stdio: ["ignore", process.stderr, process.stderr] });

const chain = await startEmbeddedChain({ port: 0, chainId: 31337 });
const provider = new JsonRpcProvider(chain.rpcUrl, 31337, { staticNetwork: true, pollingInterval: 20, cacheTimeout: -1 });
const deployer = new Wallet(DEV_KEYS.deployer, provider);
const signer = new NonceManager(deployer);

try {
  const freshHolders = (n: number) => Array.from({ length: n }, () => getAddress(hexlify(randomBytes(20))));

  const { address } = await deployCertificateRegistry(deployer, { name: "Bench", symbol: "BEN", admin: deployer.address, issuers: [deployer.address] });
  const registry = new ContractFactory(loadArtifact("CertificateRegistry").abi, "0x", signer).attach(address) as Contract;
  // Deployed by the wallet itself before the nonce manager signs anything, so the two never share a nonce.
  const anchorAddress = (await deployCertificateAnchor(deployer, { name: "Bench anchor", admin: deployer.address, issuer: deployer.address })).address;
  const anchor = new ContractFactory(loadArtifact("CertificateAnchor").abi, "0x", signer).attach(anchorAddress) as Contract;
  const baselineArtifact = loadArtifact("BaselineERC721", "test/BaselineERC721.sol");
  const baseline = (await (await new ContractFactory(baselineArtifact.abi, baselineArtifact.bytecode, signer).deploy()).waitForDeployment()) as Contract;

  // Warm-up: first writes to the id counters cost more than steady state; neither side pays them in the table.
  await (await registry.issueBatch(packIssueBatch([request(freshHolders(1)[0]!)]))).wait();
  await (await baseline.mintBatch(freshHolders(1))).wait();

  function request(holder: string) {
    return { digest: hexlify(randomBytes(32)), holder, validUntil: 4_102_444_800n };
  }

  async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<bigint> {
    const receipt = await (await tx).wait();
    return receipt!.gasUsed;
  }

  /** Baseline gas per token for `n` holders, minted in chunks of at most 250 per transaction. */
  async function baselinePerToken(n: number): Promise<number> {
    let total = 0n;
    for (let done = 0; done < n; done += 250) total += await gasOf(baseline.mintBatch(freshHolders(Math.min(250, n - done))));
    return Number(total) / n;
  }

  /** Merkle root with OpenAttestation / OpenZeppelin commutative hashing: parent = keccak256(sorted(a, b)). */
  function merkleRoot(leaves: string[]): string {
    let level = leaves;
    while (level.length > 1) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += 2) {
        const a = level[i]!;
        const b = level[i + 1];
        if (b === undefined) next.push(a);
        else next.push(keccak256(BigInt(a) < BigInt(b) ? concat([a, b]) : concat([b, a])));
      }
      level = next;
    }
    return level[0]!;
  }

  const rows: { what: string; n: number; ours: number; base: number }[] = [];
  for (const n of [1, 10, 100]) {
    const ours = Number(await gasOf(registry.issueBatch(packIssueBatch(freshHolders(n).map(request))))) / n;
    rows.push({ what: "certificate (issueBatch)", n, ours, base: await baselinePerToken(n) });
  }
  for (const n of [1_000, 10_000]) {
    const root = merkleRoot(Array.from({ length: n }, () => hexlify(randomBytes(32))));
    const ours = Number(await gasOf(anchor.issue(root))) / n;
    rows.push({ what: "anchored certificate (issue root)", n, ours, base: await baselinePerToken(n) });
  }

  const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(2));
  const header = ["mode", "batch", "gas/certificate", "baseline gas/token", "ratio"];
  const table = rows.map((r) => [r.what, r.n.toLocaleString("en-US"), fmt(r.ours), fmt(r.base), (r.ours / r.base).toFixed(3)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const row of table) console.log(line(row));
  console.log(
    "stored per certificate: holder, validUntil, issuedAt, flags (1 word keyed by the token id, which is the document " +
      "digest: record, digest and single-use guard at once), holder balance (1 word); the URI is derived from the digest; " +
      "baseline: owner, balance = 2 words",
  );
  // Measured by the plain wallet: the nonce manager above has finished its transactions and is not used again.
  console.log("");
  const ops = await operationsGas(deployer);
  const opWidth = Math.max(...ops.map((o) => o.what.length));
  for (const o of ops) console.log(`${o.what.padEnd(opWidth)}  ${Number(o.gas).toLocaleString("en-US").padStart(9)}`);
  const batch100 = rows.find((r) => r.n === 100)!;
  console.log(`gas-per-certificate-ratio-batch100: ${(batch100.ours / batch100.base).toFixed(3)}`);
} finally {
  provider.destroy();
  await chain.close();
}
