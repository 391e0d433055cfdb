import { eq } from "drizzle-orm";
import { Contract, Wallet } from "ethers";
import { deployCollectibleEditions } from "../../core/chain/deploy.ts";
import { sealSecret } from "../../core/custody/sealed.ts";
import { editionContracts, institutions } from "../../core/db/schema.ts";
import { collectibleEditionsInterface } from "../../core/editions/abi.ts";
import type { WorkerDeps } from "../deps.ts";

export type EditionContractRow = typeof editionContracts.$inferSelect;

/** No key can deploy an editions contract: the edition fails with this message rather than waiting for ever. */
export class NoDeployerError extends Error {}

type Deps = Pick<WorkerDeps, "db" | "config" | "logger" | "deployer" | "senders" | "adminSender" | "custody">;

/**
 * Each institution's editions contract, deployed on first use by the deployer key (admin), with the worker's
 * signing keys as issuers and a voucher key as its voucher signer. Concurrent asks for one institution share one
 * deployment.
 */
export class EditionContracts {
  private readonly deps: Deps;
  private readonly deploying = new Map<string, Promise<EditionContractRow>>();

  constructor(deps: Deps) {
    this.deps = deps;
  }

  /** The institution's contract, deployed now if it has none; NoDeployerError when no key can deploy it. */
  contractFor(institutionId: string): Promise<EditionContractRow> {
    let pending = this.deploying.get(institutionId);
    if (!pending) {
      pending = this.deploy(institutionId).finally(() => this.deploying.delete(institutionId));
      this.deploying.set(institutionId, pending);
    }
    return pending;
  }

  private async deploy(institutionId: string): Promise<EditionContractRow> {
    const { db, config, logger, deployer, senders, adminSender } = this.deps;
    const existing = async () => (await db.select().from(editionContracts).where(eq(editionContracts.institutionId, institutionId)))[0];
    const found = await existing();
    if (found) return found;
    if (!deployer) throw new NoDeployerError("no deployer key is configured (DEPLOYER_PRIVATE_KEY or ADMIN_PRIVATE_KEY)");
    const [institution] = await db.select().from(institutions).where(eq(institutions.id, institutionId));
    const admin = await deployer.getAddress();
    const voucherKey = Wallet.createRandom();
    const name = `${institution!.name} Collectibles`;
    const deployment = await deployCollectibleEditions(deployer, { name, symbol: "HMC", admin, issuer: senders[0]!.address });
    const contract = new Contract(deployment.address, collectibleEditionsInterface(), deployer);
    const role = (await contract.ISSUER_ROLE!()) as string;
    for (const account of senders.slice(1).map((s) => s.address)) {
      await (await contract.grantRole!(role, account)).wait();
    }
    // The voucher key only signs vouchers: it gets no issuer role, so it cannot mint or move items.
    await (await contract.grantRole!((await contract.VOUCHER_SIGNER_ROLE!()) as string, voucherKey.address)).wait();
    // The deployer sent these itself: a nonce-managed sender of the same key resyncs with the node.
    for (const sender of [adminSender, ...senders]) if (sender && sender.address === admin) await sender.init();
    await db
      .insert(editionContracts)
      .values({
        institutionId,
        chainId: config.chain.chainId,
        contractAddress: deployment.address,
        name,
        deployTxHash: deployment.txHash,
        deployBlock: deployment.blockNumber,
        voucherSignerKey: sealSecret(voucherKey.privateKey, this.deps.custody.keyring()),
      })
      .onConflictDoNothing({ target: editionContracts.institutionId });
    logger.info({ institutionId, contract: deployment.address }, "editions contract deployed");
    return (await existing())!;
  }
}
