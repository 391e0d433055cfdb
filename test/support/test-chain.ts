import { JsonRpcProvider, Wallet } from "ethers";
import { startEmbeddedChain } from "../../scripts/dev/chain.ts";

/** Hardhat's well-known mnemonic accounts #2 and #3 (funded on development chains only). */
export const ACCOUNT_2_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
export const ACCOUNT_3_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";

export interface TestChain {
  provider: JsonRpcProvider;
  wallet(key: string): Wallet;
  close(): Promise<void>;
}

/** An EDR chain for one test file, reached over JSON-RPC like any node. */
export async function startTestChain(): Promise<TestChain> {
  const chain = await startEmbeddedChain({ port: 0, chainId: 31337 });
  // cacheTimeout -1: ethers otherwise shares identical requests made within 250 ms, so back-to-back sends from
  // one wallet would reuse a stale "pending" nonce (EDR automines, so the nonce moves on every send).
  const provider = new JsonRpcProvider(chain.rpcUrl, 31337, { staticNetwork: true, pollingInterval: 50, cacheTimeout: -1 });
  return {
    provider,
    wallet: (key) => new Wallet(key, provider),
    async close() {
      provider.destroy();
      await chain.close();
    },
  };
}
