import { Worker } from "node:worker_threads";

/** An EDR chain (Hardhat's simulated network) served as plain JSON-RPC over HTTP from a worker thread of its own. */
export interface EmbeddedChain {
  rpcUrl: string;
  chainId: number;
  /** The CPU time (microseconds) of the chain's thread. */
  threadCpuUsage(): Promise<NodeJS.CpuUsage>;
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

/** How long the chain's thread may take to close before it is terminated. */
const CLOSE_MS = 10_000;

/**
 * Starts EDR and a JSON-RPC HTTP endpoint for it in a worker thread (scripts/dev/chain-thread.ts): executing
 * transactions and answering requests then leaves the thread that serves the API and runs the worker. Everything
 * outside dev tooling talks to the chain only through this endpoint, exactly as it would to a Besu or GoQuorum node.
 * `close` stops the thread; the thread also ends with the process.
 */
export async function startEmbeddedChain(opts: EmbeddedChainOptions): Promise<EmbeddedChain> {
  const thread = new Worker(new URL("./chain-thread.ts", import.meta.url), { workerData: { ...opts } });
  const exited = new Promise<void>((resolve) => thread.once("exit", () => resolve()));
  let threadError: unknown;
  thread.on("error", (err) => (threadError = err));
  let rpcUrl: string;
  try {
    rpcUrl = await new Promise<string>((resolve, reject) => {
      const onMessage = (m: { rpcUrl?: string; error?: string }) => {
        if (m.rpcUrl) resolve(m.rpcUrl);
        else if (m.error) reject(new Error(`the embedded chain did not start: ${m.error}`));
        else return;
        thread.off("message", onMessage);
      };
      thread.on("message", onMessage);
      void exited.then(() => reject(threadError ?? new Error("the embedded chain's thread exited before it was ready")));
    });
  } catch (err) {
    await thread.terminate();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    rpcUrl,
    chainId: opts.chainId,
    threadCpuUsage: () =>
      new Promise((resolve, reject) => {
        const onMessage = (m: { cpu?: NodeJS.CpuUsage }) => {
          if (!m.cpu) return;
          thread.off("message", onMessage);
          resolve(m.cpu);
        };
        thread.on("message", onMessage);
        thread.postMessage({ cpu: true });
        void exited.then(() => reject(new Error("the embedded chain's thread has exited")));
      }),
    close: () =>
      (closing ??= (async () => {
        const timer = setTimeout(() => void thread.terminate(), CLOSE_MS);
        thread.postMessage({ close: true });
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
