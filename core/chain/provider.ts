import { FetchRequest, JsonRpcProvider, Network } from "ethers";

/**
 * A provider for any EVM JSON-RPC endpoint. The network is fixed from config so a node that is briefly
 * unreachable at start does not leave ethers re-detecting it forever. ethers' 250 ms cache of identical requests
 * is off: a key sending transactions back to back would be handed its previous nonce.
 */
export function createChainProvider(rpcUrl: string, chainId: number): JsonRpcProvider {
  const request = new FetchRequest(rpcUrl);
  request.timeout = 15_000;
  const provider = new JsonRpcProvider(request, Network.from(chainId), { staticNetwork: true, pollingInterval: 250, cacheTimeout: -1 });
  return provider;
}
