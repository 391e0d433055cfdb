import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { network } from "hardhat";

/** An in-process EDR chain (Hardhat's simulated network) served as plain JSON-RPC over HTTP. */
export interface EmbeddedChain {
  rpcUrl: string;
  chainId: number;
  close(): Promise<void>;
}

interface RpcRequest {
  jsonrpc?: string;
  id?: string | number | null;
  method?: unknown;
  params?: unknown;
}

type Provider = { request(args: { method: string; params?: unknown[] | object }): Promise<unknown> };

async function answer(provider: Provider, req: RpcRequest) {
  const id = req.id ?? null;
  if (typeof req.method !== "string") {
    return { jsonrpc: "2.0", id, error: { code: -32600, message: "Invalid request" } };
  }
  try {
    const params = Array.isArray(req.params) ? req.params : [];
    const result = await provider.request({ method: req.method, params });
    return { jsonrpc: "2.0", id, result };
  } catch (err) {
    // Keep the node's error shape (code, message, revert data) so clients decode custom errors as from any node.
    const e = err as { code?: number; message?: string; data?: unknown };
    const error: Record<string, unknown> = { code: typeof e.code === "number" ? e.code : -32603, message: e.message ?? String(err) };
    if (e.data !== undefined) error.data = e.data;
    return { jsonrpc: "2.0", id, error };
  }
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

/**
 * A block gas limit far above what blocks here use. EIP-1559 raises the base fee after a block more than half full
 * (by at least 1 wei, even from 0) and cannot lower it from 1 wei again; Besu's zero-base-fee genesis pins it at 0,
 * EDR has no such setting, so a zero-fee chain here keeps every block below half full instead, as a QBFT genesis's
 * large gas limit does in practice.
 */
const ZERO_FEE_BLOCK_GAS_LIMIT = 2_000_000_000;

/** Answers a zero-fee node gives that EDR does not. */
const ZERO_FEE_ANSWERS: Record<string, string> = { eth_gasPrice: "0x0", eth_maxPriorityFeePerGas: "0x0" };

/**
 * Starts EDR and a JSON-RPC HTTP endpoint for it. Everything outside dev tooling talks to the chain only
 * through this endpoint, exactly as it would to a Besu or GoQuorum node.
 */
export async function startEmbeddedChain(opts: EmbeddedChainOptions): Promise<EmbeddedChain> {
  const override: Record<string, unknown> = { chainId: opts.chainId };
  // FIFO: at zero fees a priority order has nothing to rank by; transactions go in as they came, as Besu's pool takes them.
  if (opts.blockTimeMs !== undefined) override.mining = { auto: false, interval: opts.blockTimeMs, mempool: { order: "fifo" } };
  if (opts.zeroFees) Object.assign(override, { initialBaseFeePerGas: 0, minGasPrice: 0, blockGasLimit: ZERO_FEE_BLOCK_GAS_LIMIT });
  const connection = await network.connect({ override: override as never });
  const node = connection.provider as unknown as Provider;
  const fixed = opts.zeroFees ? ZERO_FEE_ANSWERS : {};
  const provider: Provider = {
    request: (args) => (args.method in fixed ? Promise.resolve(fixed[args.method]) : node.request(args)),
  };
  const server: Server = createServer((request, response) => {
    if (request.method !== "POST") {
      response.writeHead(405, { allow: "POST" }).end();
      return;
    }
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", async () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }));
        return;
      }
      const out = Array.isArray(body)
        ? await Promise.all(body.map((r) => answer(provider, r as RpcRequest)))
        : await answer(provider, body as RpcRequest);
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(out, (_k, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v)));
    });
  });
  server.keepAliveTimeout = 60_000;
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    rpcUrl: `http://${host}:${port}`,
    chainId: opts.chainId,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
    },
  };
}

/** Hardhat's well-known development keys: public knowledge, valid only on development chains. */
export const DEV_KEYS = {
  deployer: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  minter: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
} as const;
