import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anyHasCode } from "../../../core/chain/code-check.ts";
import { DEV_KEYS } from "../../../scripts/dev/chain.ts";
import { startTestChain, type TestChain } from "../../support/test-chain.ts";

describe("anyHasCode", () => {
  let chain: TestChain;
  let contract: string;
  const accounts = Array.from({ length: 300 }, () => Wallet.createRandom().address);
  beforeAll(async () => {
    chain = await startTestChain();
    // A contract whose runtime code is one byte (STOP), deployed by init code returning it.
    const deployer = chain.wallet(DEV_KEYS.deployer);
    const receipt = await (await deployer.sendTransaction({ data: "0x6001600c60003960016000f300" })).wait();
    contract = receipt!.contractAddress!;
    expect(await chain.provider.getCode(contract)).toBe("0x00");
  });
  afterAll(async () => {
    await chain?.close();
  });

  it("says no for accounts without code, funded or not, and for none at all", async () => {
    expect(await anyHasCode(chain.provider, accounts)).toBe(false);
    expect(await anyHasCode(chain.provider, [chain.wallet(DEV_KEYS.deployer).address, ...accounts.slice(0, 3)])).toBe(false);
    expect(await anyHasCode(chain.provider, [])).toBe(false);
  });

  it("says yes when one has code, wherever it is in the list", async () => {
    expect(await anyHasCode(chain.provider, [contract])).toBe(true);
    expect(await anyHasCode(chain.provider, [contract, ...accounts])).toBe(true);
    expect(await anyHasCode(chain.provider, [...accounts.slice(0, 150), contract, ...accounts.slice(150)])).toBe(true);
    expect(await anyHasCode(chain.provider, [...accounts, contract.toLowerCase()])).toBe(true);
  });
});
