import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/** An EDR chain (Hardhat's simulated network) served as plain JSON-RPC over HTTP from a process of its own. */
export interface EmbeddedChain {
  rpcUrl: string;
  chainId: number;
  /** The chain's process. */
  pid: number;
  /** The CPU time (microseconds) the chain's process has used. */
  cpuUsage(): Promise<NodeJS.CpuUsage>;
  close(): Promise<void>;
}

export interface EmbeddedChainOptions {
  port: number;
  chainId: number;
  host?: string;
  /**
   * Mine a block every `blockTimeMs` milliseconds, empty or not, instead of one block per transaction at once
   * (automine): a chain with real block times, as a QBFT network's block period gives it.
   */
  blockTimeMs?: number;
  /**
   * Fees as on a Besu QBFT network with a zero base fee and `--min-gas-price=0`: base fee 0 in every block, and
   * `eth_gasPrice` / `eth_maxPriorityFeePerGas` answered 0 (EDR itself never quotes below 1 gwei).
   */
  zeroFees?: boolean;
}

/** How long the chain's process may take to start, and to close before it is killed. */
const START_MS = 60_000;
const CLOSE_MS = 10_000;

/**
 * Starts EDR and a JSON-RPC HTTP endpoint for it in a process of its own (scripts/dev/chain-process.ts): executing
 * transactions and answering requests then leaves the process that serves the API and runs the worker. Everything
 * outside dev tooling talks to the chain only through this endpoint, exactly as it would to a Besu or GoQuorum node.
 * `close` ends the process; it also ends when this process ends, however that happens (its IPC channel closes).
 */
export async function startEmbeddedChain(opts: EmbeddedChainOptions): Promise<EmbeddedChain> {
  const child = fork(fileURLToPath(new URL("./chain-process.ts", import.meta.url)), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => process.off("exit", killOnExit));
  let rpcUrl: string;
  try {
    rpcUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the embedded chain did not start within ${START_MS} ms`)), START_MS);
      const onMessage = (m: { rpcUrl?: string; error?: string }) => {
        if (m.rpcUrl) resolve(m.rpcUrl);
        else if (m.error) reject(new Error(`the embedded chain did not start: ${m.error}`));
        else return;
        clearTimeout(timer);
        child.off("message", onMessage);
      };
      child.on("message", onMessage);
      child.once("error", reject);
      void exited.then(() => reject(new Error("the embedded chain's process exited before it was ready")));
      child.send({ options: { ...opts } });
    });
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    rpcUrl,
    chainId: opts.chainId,
    pid: child.pid!,
    cpuUsage: () =>
      new Promise((resolve, reject) => {
        const onMessage = (m: { cpu?: NodeJS.CpuUsage }) => {
          if (!m.cpu) return;
          child.off("message", onMessage);
          resolve(m.cpu);
        };
        child.on("message", onMessage);
        void exited.then(() => reject(new Error("the embedded chain's process has exited")));
        child.send({ cpu: true });
      }),
    close: () =>
      (closing ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const timer = setTimeout(() => child.kill("SIGKILL"), CLOSE_MS);
        child.send({ close: true }, (err) => err && child.kill("SIGKILL"));
        await exited;
        clearTimeout(timer);
      })()),
  };
}

/** Hardhat's well-known development keys: public knowledge, valid only on development chains. */
export const DEV_KEYS = {
  deployer: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  minter: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
} as const;
