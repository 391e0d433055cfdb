import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { Contract, Interface, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadArtifact } from "../../../core/chain/artifacts.ts";
import { certificateRegistryCreation, collectibleEditionsCreation, contractMetadataBase, contractOf, createdAddress } from "../../../core/chain/contract-creation.ts";
import { deployIssuerRegistry } from "../../../core/chain/deploy.ts";
import { sendOperation } from "../../../core/chain/send-operation.ts";
import { TxSender } from "../../../core/chain/tx-sender.ts";
import type { DatabaseHandle } from "../../../core/db/index.ts";
import { chainTxs } from "../../../core/db/schema.ts";
import { createLogger } from "../../../core/logger.ts";
import { DEV_KEYS } from "../../../scripts/dev/chain.ts";
import type { WorkerDeps } from "../../../worker/deps.ts";
import { TxMonitor } from "../../../worker/tx-monitor.ts";
import { openMigratedDatabase } from "../../support/stage-fixture.ts";
import { ACCOUNT_3_KEY, startTestChain, type TestChain } from "../../support/test-chain.ts";

/**
 * A contract is created like any operation's call: estimated, signed and stored under the key's nonce, broadcast,
 * and its address read from the transaction that was mined, which the monitor may have re-signed under another nonce.
 */
describe("contract creation through the nonce-managed sender", () => {
  let chain: TestChain;
  let dir: string;
  let handle: DatabaseHandle;
  let sender: TxSender;
  const logger = createLogger("silent");
  const noSteps = { claim: async () => true, record: async () => {}, refused: async () => false };

  beforeAll(async () => {
    chain = await startTestChain();
    dir = await mkdtemp(join(tmpdir(), "hallmark-creation-"));
    handle = await openMigratedDatabase(dir);
    sender = new TxSender({ db: handle.db, provider: chain.provider, wallet: chain.wallet(ACCOUNT_3_KEY), chainId: 31337, logger });
    await sender.init();
  });
  afterAll(async () => {
    await handle?.close();
    await rm(dir, { recursive: true, force: true });
    await chain?.close();
  });

  async function mined(monitor: TxMonitor, id: string) {
    for (let i = 0; i < 40; i++) {
      const [row] = await handle.db.select().from(chainTxs).where(eq(chainTxs.id, id));
      if (row!.status === "MINED" || row!.status === "DROPPED") return row!;
      await monitor.tick();
    }
    throw new Error(`transaction ${id} not settled after 40 ticks`);
  }

  it("creates a registry set up in its one transaction (every issuer, the issuer registry linked) at the address of the signer's nonce", async () => {
    const issuerRegistry = (await deployIssuerRegistry(chain.wallet(DEV_KEYS.deployer), { admin: sender.address, operator: sender.address })).address;
    const issuers = [Wallet.createRandom().address, Wallet.createRandom().address];
    const contractURIBase = contractMetadataBase("https://hallmark.example/", 31337);
    expect(contractURIBase).toBe("https://hallmark.example/contracts/31337/");
    const data = certificateRegistryCreation({ name: "Created", symbol: "CRT", admin: sender.address, issuers, issuerRegistry, contractURIBase });
    const stored = await sendOperation({ provider: chain.provider, logger }, sender, { to: null, data, purpose: "test:create-registry" }, noSteps);
    expect(stored).toMatchObject({ to: null, purpose: "test:create-registry" });
    const row = await mined(new TxMonitor({ db: handle.db, logger } as unknown as WorkerDeps, [sender]), stored!.id);

    const created = await contractOf(chain.provider, row);
    expect(created!.address).toBe(createdAddress(sender.address, stored!.nonce));
    const registry = new Contract(created!.address, loadArtifact("CertificateRegistry").abi, chain.provider);
    const role = await registry.getFunction("ISSUER_ROLE")();
    for (const issuer of issuers) expect(await registry.getFunction("hasRole")(role, issuer)).toBe(true);
    expect(await registry.getFunction("issuerRegistry")()).toBe(issuerRegistry);
    expect(await registry.getFunction("name")()).toBe("Created");
    // Its address was unknown when the creation was signed; the contract appends it on read.
    expect(await registry.getFunction("contractURI")()).toBe(`https://hallmark.example/contracts/31337/${created!.address.toLowerCase()}/contract.json`);
  });

  it("a contract URI base: from the public URL, none without one; a base must end in / (else it would name no contract's document)", () => {
    expect(contractMetadataBase(undefined, 31337)).toBeUndefined();
    expect(contractMetadataBase("https://hallmark.example//", 1337)).toBe("https://hallmark.example/contracts/1337/");
    const params = { name: "R", symbol: "R", admin: sender.address, issuers: [sender.address] };
    expect(() => certificateRegistryCreation({ ...params, contractURIBase: "https://hallmark.example/contracts/31337" })).toThrow(/ends in "\/"/);
    expect(() => collectibleEditionsCreation({ ...params, contractURIBase: "https://hallmark.example/contracts/31337" })).toThrow(/ends in "\/"/);
  });

  it("a dropped creation is re-signed under a new nonce by the monitor; the contract is where the mined one put it, and nothing is at the first address", async () => {
    const wallet = chain.wallet(ACCOUNT_3_KEY);
    const data = collectibleEditionsCreation({ name: "Moved", symbol: "MOV", admin: sender.address, issuers: [sender.address] });
    const first = await sender.prepare(async () => ({ to: null, data, purpose: "test:create-editions", gasLimit: 8_000_000n }), async () => {});
    // Another transaction of the key takes the nonce before the creation is ever broadcast.
    await (await wallet.sendTransaction({ to: wallet.address, value: 0n, nonce: first!.nonce })).wait();

    const monitor = new TxMonitor({ db: handle.db, logger } as unknown as WorkerDeps, [sender]);
    expect((await mined(monitor, first!.id)).status).toBe("DROPPED");
    const candidates = await handle.db.select().from(chainTxs).where(eq(chainTxs.purpose, "test:create-editions"));
    expect(candidates).toHaveLength(2);
    const next = candidates.find((t) => t.id !== first!.id)!;
    expect(next).toMatchObject({ to: null });
    expect(next.nonce).toBeGreaterThan(first!.nonce);
    await expect(contractOf(chain.provider, first!)).resolves.toBeUndefined();
    const created = await contractOf(chain.provider, await mined(monitor, next.id));
    expect(created!.address).toBe(createdAddress(sender.address, next.nonce));
    expect(created!.address).not.toBe(createdAddress(sender.address, first!.nonce));
    expect(await chain.provider.getCode(createdAddress(sender.address, first!.nonce))).toBe("0x");
    expect(await chain.provider.getCode(created!.address)).not.toBe("0x");
  });

  it("a creation the constructor refuses is settled by the estimate, costing no nonce; contractOf refuses a call", async () => {
    // A voucher signer that is also an issuer is refused by the constructor (VoucherSignerInvalid).
    const data = collectibleEditionsCreation({ name: "Bad", symbol: "BAD", admin: sender.address, issuers: [sender.address], voucherSigner: sender.address });
    const nonceBefore = await sender.pendingNonce();
    const refusals: unknown[] = [];
    const stored = await sendOperation({ provider: chain.provider, logger }, sender, { to: null, data, purpose: "test:create-refused" }, {
      ...noSteps,
      refused: async (err) => (refusals.push(err), true),
    });
    expect(stored).toBeUndefined();
    const revert = new Interface(loadArtifact("CollectibleEditions").abi).parseError((refusals[0] as { data: string }).data);
    expect(revert).toMatchObject({ name: "VoucherSignerInvalid", args: [sender.address] });
    expect(await handle.db.select().from(chainTxs).where(eq(chainTxs.purpose, "test:create-refused"))).toEqual([]);
    expect(await sender.pendingNonce()).toBe(nonceBefore);
    await expect(contractOf(chain.provider, { txHash: "0x" + "00".repeat(32), signer: sender.address, nonce: 0, to: sender.address })).rejects.toThrow(/not a contract creation/);
  });
});
