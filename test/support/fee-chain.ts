import { network } from "hardhat";
import { JsonRpcProvider, Network, type JsonRpcPayload, type JsonRpcResult } from "ethers";

type Eip1193 = { request(args: { method: string; params?: unknown[] }): Promise<unknown> };

/** EDR options that shape a chain's fees: `initialBaseFeePerGas: 0` (a zero base fee), `minGasPrice`. */
export interface FeeChainOptions {
  initialBaseFeePerGas?: number;
  minGasPrice?: number;
}

export interface NodeAnswers {
  /** Methods answered with these results instead of EDR's. */
  fixed?: Record<string, unknown>;
  /**
   * Blocks answered without `baseFeePerGas`, as a pre-London node gives them. EDR cannot itself run a pre-London
   * hardfork here (the contracts are compiled for Cancun), and legacy transactions are valid after London too.
   */
  noBaseFee?: boolean;
}

export interface FeeChain {
  provider: JsonRpcProvider;
  /** Every JSON-RPC method the provider sent, in order. */
  sent: string[];
  close(): Promise<void>;
}

/**
 * An in-process EDR chain configured for a fee profile, reached through an ethers provider as over JSON-RPC.
 * `answers` make the node answer some methods as another node would: EDR always quotes a gas price of at least
 * 1 gwei, where a Besu QBFT node with `--min-gas-price=0` quotes 0, so a zero-fee network is EDR with a zero base
 * fee plus `eth_gasPrice` and `eth_maxPriorityFeePerGas` answered 0.
 */
export async function startFeeChain(opts: FeeChainOptions, answers: NodeAnswers = {}): Promise<FeeChain> {
  const fixed = answers.fixed ?? {};
  const connection = await network.connect({ override: { chainId: 31337, ...opts } as never });
  const node = connection.provider as unknown as Eip1193;
  const sent: string[] = [];
  class EdrProvider extends JsonRpcProvider {
    override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
      const calls = Array.isArray(payload) ? payload : [payload];
      return Promise.all(
        calls.map(async ({ id, method, params }) => {
          sent.push(method);
          if (method in fixed) return { id, result: fixed[method] };
          try {
            const result = await node.request({ method, params: params as unknown[] });
            if (answers.noBaseFee && method.startsWith("eth_getBlockBy") && result) {
              const { baseFeePerGas: _dropped, ...block } = result as Record<string, unknown>;
              return { id, result: block };
            }
            return { id, result };
          } catch (err) {
            const e = err as { code?: number; message?: string; data?: unknown };
            return { id, error: { code: e.code ?? -32603, message: e.message ?? String(err), data: e.data } } as unknown as JsonRpcResult;
          }
        }),
      );
    }
  }
  const provider = new EdrProvider("http://edr.invalid", Network.from(31337), { staticNetwork: true, pollingInterval: 50, cacheTimeout: -1 });
  return {
    provider,
    sent,
    async close() {
      provider.destroy();
      await connection.close();
    },
  };
}
