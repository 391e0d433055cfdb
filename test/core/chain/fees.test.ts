import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, hexlify, Wallet } from "ethers";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeIssueBatch } from "../../../core/chain/calldata.ts";
import { deployCertificateRegistry } from "../../../core/chain/deploy.ts";
import { signingKeyStates } from "../../../core/chain/signing-keys.ts";
import { CANNOT_PAY, feesFrom, TxSender } from "../../../core/chain/tx-sender.ts";
import type { DatabaseHandle } from "../../../core/db/index.ts";
import { DEV_KEYS } from "../../../scripts/dev/chain.ts";
import { startFeeChain, type FeeChain, type FeeChainOptions, type NodeAnswers } from "../../support/fee-chain.ts";
import { openMigratedDatabase } from "../../support/stage-fixture.ts";

const GWEI = 1_000_000_000n;

describe("fees chosen from the node's answers", () => {
  it("legacy at the node's gas price without a base fee; EIP-1559 over twice the base fee with one; 0 on a free chain", () => {
    expect(feesFrom({ gasPrice: 8n * GWEI })).toEqual({ type: 0, gasPrice: 8n * GWEI });
    expect(feesFrom({ gasPrice: 0n })).toEqual({ type: 0, gasPrice: 0n });
    expect(feesFrom({ gasPrice: 0n, maxPriorityFeePerGas: 0n, baseFeePerGas: 0n })).toEqual({ type: 2, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n });
    // A node quoting a priority fee on a free chain (as EDR does) is not followed where its gas price says 0.
    expect(feesFrom({ gasPrice: 0n, maxPriorityFeePerGas: GWEI, baseFeePerGas: 0n })).toEqual({ type: 2, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n });
    expect(feesFrom({ gasPrice: GWEI, maxPriorityFeePerGas: GWEI, baseFeePerGas: 0n })).toEqual({ type: 2, maxFeePerGas: GWEI, maxPriorityFeePerGas: GWEI });
    expect(feesFrom({ gasPrice: 2n * GWEI, maxPriorityFeePerGas: GWEI, baseFeePerGas: GWEI })).toEqual({ type: 2, maxFeePerGas: 3n * GWEI, maxPriorityFeePerGas: GWEI });
    // No eth_maxPriorityFeePerGas on the node: what its gas price asks above the base fee.
    expect(feesFrom({ gasPrice: 3n * GWEI, baseFeePerGas: GWEI })).toEqual({ type: 2, maxFeePerGas: 4n * GWEI, maxPriorityFeePerGas: 2n * GWEI });
  });
});

describe("a node refusing a transaction its sender cannot pay", () => {
  it("is recognised in geth's, Besu's and EDR's words, and not in other refusals", () => {
    for (const said of [
      "insufficient funds for gas * price + value: balance 0, tx cost 1500000000000000",
      "Upfront cost exceeds account balance",
      "Sender doesn't have enough funds to send tx. The max upfront cost is: 3000000000000000 and the sender's balance is: 0.",
    ]) expect(said).toMatch(CANNOT_PAY);
    for (const said of ["nonce too low", "already known", "transaction underpriced", "intrinsic gas too low"]) expect(said).not.toMatch(CANNOT_PAY);
  });
});

/** Besu QBFT with `--min-gas-price=0` quotes these, where EDR quotes at least 1 gwei. */
const FREE_NODE = { eth_gasPrice: "0x0", eth_maxPriorityFeePerGas: "0x0" };

const profiles: { name: string; chain: FeeChainOptions; answers?: NodeAnswers; free: boolean; type: 0 | 2 }[] = [
  { name: "zero base fee, gas price 0 (Besu QBFT)", chain: { initialBaseFeePerGas: 0, minGasPrice: 0 }, answers: { fixed: FREE_NODE }, free: true, type: 2 },
  { name: "no base fee, gas price 0 (a free pre-London node)", chain: { initialBaseFeePerGas: 0, minGasPrice: 0 }, answers: { fixed: { eth_gasPrice: "0x0" }, noBaseFee: true }, free: true, type: 0 },
  { name: "priced, EIP-1559", chain: {}, free: false, type: 2 },
  { name: "priced, no base fee (legacy only)", chain: {}, answers: { noBaseFee: true }, free: false, type: 0 },
];

describe.each(profiles)("a certificate transaction on a chain with $name", (profile) => {
  let chain: FeeChain;
  let handle: DatabaseHandle;
  let dir: string;
  let registry: string;
  const issuer = new Wallet(Wallet.createRandom().privateKey);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hallmark-fees-"));
    handle = await openMigratedDatabase(join(dir, "db"));
    chain = await startFeeChain(profile.chain, profile.answers);
    const deployer = new Wallet(DEV_KEYS.deployer, chain.provider);
    // The issuer is funded on the priced chains only.
    const funded = new Wallet(DEV_KEYS.minter, chain.provider);
    if (!profile.free) await (await funded.sendTransaction({ to: issuer.address, value: 10n ** 18n })).wait();
    registry = (await deployCertificateRegistry(deployer, { name: "Fees", symbol: "FEE", admin: deployer.address, issuers: [issuer.address] })).address;
  }, 120_000);

  afterAll(async () => {
    await chain?.close();
    await handle?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(profile.free ? "is mined from a key holding no ether, at fees of 0" : "is mined at the node's price", async () => {
    const logger = pino({ level: "silent" });
    const sender = new TxSender({ db: handle.db, provider: chain.provider, wallet: issuer.connect(chain.provider), chainId: 31337, logger });
    await sender.init();
    expect(sender.health()).toMatchObject({ address: issuer.address, canPay: true });

    const gasPrice = BigInt((await chain.provider.send("eth_gasPrice", [])) as string);
    const block = (await chain.provider.send("eth_getBlockByNumber", ["latest", false])) as { baseFeePerGas?: string };
    const fees = await sender.fees();
    expect(fees.type).toBe(profile.type);
    if (profile.free) expect(fees).toEqual(profile.type === 2 ? { type: 2, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n } : { type: 0, gasPrice: 0n });
    else if (fees.type === 0) expect(fees.gasPrice).toBe(gasPrice);
    else {
      const tip = BigInt((await chain.provider.send("eth_maxPriorityFeePerGas", [])) as string);
      expect(fees).toEqual({ type: 2, maxPriorityFeePerGas: tip, maxFeePerGas: BigInt(block.baseFeePerGas!) * 2n + tip });
    }

    const data = encodeIssueBatch([{ digest: hexlify(randomBytes(32)), holder: Wallet.createRandom().address, validUntil: 0n }]);
    const stored = await sender.prepare(async () => ({ to: registry, data, purpose: "issueBatch:1", gasLimit: 1_000_000n }), async () => {});
    await sender.broadcast(stored!);
    const receipt = await chain.provider.waitForTransaction(stored!.txHash, 1, 30_000);
    expect(receipt?.status).toBe(1);
    const mined = await chain.provider.getTransaction(stored!.txHash);
    expect(mined?.type).toBe(profile.type);
    if (profile.free) expect(mined?.gasPrice).toBe(0n);
    else if (profile.type === 0) expect(mined?.gasPrice).toBe(gasPrice);
    else expect(mined?.maxPriorityFeePerGas).toBe(fees.type === 2 ? fees.maxPriorityFeePerGas : -1n);
    if (profile.free) expect(await chain.provider.getBalance(issuer.address)).toBe(0n);
  });

  it(
    profile.free
      ? "records a key holding no ether as able to pay"
      : "records a key holding no ether as unable to pay, with its reason, and as able once funded",
    async () => {
      const logger = pino({ level: "silent" });
      const wallet = new Wallet(Wallet.createRandom().privateKey, chain.provider);
      const sender = new TxSender({ db: handle.db, provider: chain.provider, wallet, chainId: 31337, logger });
      await sender.init();
      // What every process reads: the key's signer_nonces row, as the worker's start left it.
      const stateOf = async () => (await signingKeyStates(handle.db, { chainId: 31337, addresses: [wallet.address] }))[0];
      if (profile.free) {
        expect(await stateOf()).toMatchObject({ address: wallet.address, canPay: true, reason: null, checkedAt: sender.health().checkedAt });
        return;
      }
      expect(await stateOf()).toEqual({
        address: wallet.address,
        chainId: 31337,
        canPay: false,
        reason: expect.stringMatching(/^balance 0 wei is below \d+ wei, one transaction of 500000 gas at current fees$/),
        checkedAt: sender.health().checkedAt,
        inFlight: 0,
        nextNonce: 0,
      });
      await (await new Wallet(DEV_KEYS.minter, chain.provider).sendTransaction({ to: wallet.address, value: 10n ** 18n })).wait();
      expect(await sender.checkFunds()).toMatchObject({ canPay: true });
      expect(await stateOf()).toMatchObject({ canPay: true, reason: null, checkedAt: sender.health().checkedAt });
    },
  );
});
