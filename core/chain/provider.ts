import { JsonRpcProvider, Network, type JsonRpcError, type JsonRpcPayload, type JsonRpcResult } from "ethers";

/**
 * A provider for any EVM JSON-RPC endpoint. The network is fixed from config so a node that is briefly
 * unreachable at start does not leave ethers re-detecting it forever. ethers' 250 ms cache of identical requests
 * is off: a key sending transactions back to back would be handed its previous nonce.
 */
export function createChainProvider(rpcUrl: string, chainId: number): JsonRpcProvider {
  return new FetchJsonRpcProvider(rpcUrl, chainId);
}

const TIMEOUT_MS = 15_000;

/**
 * JSON-RPC over the platform's own `fetch`. ethers' transport encodes and decodes bodies with its pure-JS UTF-8
 * routines, which for the worker's large calldata and log responses cost more than anything else it does per
 * certificate; the native ones are an order of magnitude faster.
 */
class FetchJsonRpcProvider extends JsonRpcProvider {
  readonly #url: string;

  constructor(url: string, chainId: number) {
    super(url, Network.from(chainId), { staticNetwork: true, pollingInterval: 250, cacheTimeout: -1 });
    this.#url = url;
  }

  // Error objects come back in the same array (ethers declares only results here, and reads `error` from them).
  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const res = await fetch(this.#url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    // Some nodes send JSON-RPC errors with an HTTP error status: the body still says what went wrong.
    const body = (await res.json().catch(() => undefined)) as JsonRpcResult | JsonRpcError | (JsonRpcResult | JsonRpcError)[] | undefined;
    if (body === undefined || (!res.ok && !(Array.isArray(body) || "error" in body))) {
      throw new Error(`${this.#url} answered HTTP ${res.status} ${res.statusText}`);
    }
    return (Array.isArray(body) ? body : [body]) as JsonRpcResult[];
  }
}
