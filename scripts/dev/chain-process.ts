/**
 * The embedded chain's process: EDR (Hardhat's simulated network) and the JSON-RPC HTTP endpoint in front of it, so
 * executing transactions and answering the node's requests runs beside the process that started it, not in it. (A
 * worker thread would do, but EDR's native module cannot be loaded again in a second thread once a first has ended.)
 *
 * Started by `startEmbeddedChain` with an IPC channel: its first message is the EmbeddedChainOptions. Sends
 * `{ rpcUrl }` once listening (or `{ error }`), answers `{ cpu: true }` with `{ cpu }` (this process's CPU time,
 * microseconds) and `{ close: true }` with `{ closed: true }`, then exits. It exits too when the channel closes:
 * the process that started it has ended, however it ended.
 *
 * Erasable TypeScript only: Node runs this file itself (type stripping), outside any bundler a test runner uses.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { network } from "hardhat";
import type { EmbeddedChainOptions } from "./chain.ts";

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

/**
 * A block gas limit far above what blocks here use. EIP-1559 raises the base fee after a block more than half full
 * (by at least 1 wei, even from 0) and cannot lower it from 1 wei again; Besu's zero-base-fee genesis pins it at 0,
 * EDR has no such setting, so a zero-fee chain here keeps every block below half full instead, as a QBFT genesis's
 * large gas limit does in practice.
 */
const ZERO_FEE_BLOCK_GAS_LIMIT = 2_000_000_000;

/** Answers a zero-fee node gives that EDR does not. */
const ZERO_FEE_ANSWERS: Record<string, string> = { eth_gasPrice: "0x0", eth_maxPriorityFeePerGas: "0x0" };

/** Starts EDR and a JSON-RPC HTTP endpoint for it, in this thread. */
async function serveChain(opts: EmbeddedChainOptions): Promise<{ rpcUrl: string; close(): Promise<void> }> {
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
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
    },
  };
}

type Message = { options?: EmbeddedChainOptions; cpu?: boolean; close?: boolean };
const send = (message: unknown) => new Promise<void>((resolve) => process.send!(message, undefined, {}, () => resolve()));
process.on("disconnect", () => process.exit(0));
let chain: { rpcUrl: string; close(): Promise<void> } | undefined;
process.on("message", async (message: Message) => {
  if (message.options) {
    try {
      chain = await serveChain(message.options);
      await send({ rpcUrl: chain.rpcUrl });
    } catch (err) {
      await send({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      process.exit(1);
    }
  }
  if (message.cpu) await send({ cpu: process.cpuUsage() });
  if (message.close) {
    await chain?.close().catch(() => {});
    await send({ closed: true });
    process.exit(0);
  }
});
