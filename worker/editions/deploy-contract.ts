import { desc, eq } from "drizzle-orm";
import { Wallet } from "ethers";
import { isRevert } from "../../core/chain/contract-errors.ts";
import { collectibleEditionsCreation, contractMetadataBase, contractOf, CreationRevertedError } from "../../core/chain/contract-creation.ts";
import { sendOperation } from "../../core/chain/send-operation.ts";
import type { TxSender } from "../../core/chain/tx-sender.ts";
import { sealSecret } from "../../core/custody/sealed.ts";
import { chainTxs, editionContractCreations, editionContracts, institutions } from "../../core/db/schema.ts";
import type { WorkerDeps } from "../deps.ts";
import { contractRefusal } from "./failures.ts";

export type EditionContractRow = typeof editionContracts.$inferSelect;

/**
 * No key can deploy an editions contract, or the constructor refuses it: the edition fails with this message rather
 * than waiting for ever.
 */
export class NoDeployerError extends Error {}

type Deps = Pick<WorkerDeps, "db" | "config" | "logger" | "provider" | "deployer" | "senders" | "adminSender" | "custody">;

/** The purpose an institution's editions contract creation is stored under; a re-signed replacement keeps it. */
export function editionsContractPurpose(institutionId: string): string {
  return `editions:contract:${institutionId}`;
}

/** EIP-712 domain names are at most 31 bytes (OpenZeppelin's ShortStrings): the constructor reverts on a longer one. */
const MAX_NAME_BYTES = 31;

/**
 * The contract's ERC-721 and EIP-712 domain name: "<institution> Collectibles", the institution's name cut (at a
 * character, never inside one) so that the whole fits the domain name's 31 bytes.
 */
export function editionsContractName(institutionName: string): string {
  const suffix = " Collectibles";
  const chars = [...institutionName.trim()];
  while (chars.length && Buffer.byteLength(chars.join("").trimEnd() + suffix) > MAX_NAME_BYTES) chars.pop();
  return chars.join("").trimEnd() + suffix;
}

/**
 * Each institution's editions contract, created on first use as one stored transaction through a nonce-managed
 * sender: the deployer key is its admin, the worker's signing keys its issuers and a fresh voucher key its voucher
 * signer, all set by the constructor. Nothing here waits for a block: `contractFor` answers undefined while the
 * creation is on its way, and the edition waits a tick. A worker restarted after signing finds the stored creation
 * by its purpose (the transaction monitor broadcasts it again) and never signs a second; the contract is recorded
 * at the address of the creation that was mined, which a re-signed replacement may have moved.
 */
export class EditionContracts {
  private readonly deps: Deps;
  private readonly pending = new Map<string, Promise<EditionContractRow | undefined>>();

  constructor(deps: Deps) {
    this.deps = deps;
  }

  /**
   * The institution's contract; undefined while its creation is signed but not mined (it is signed now when there is
   * none). NoDeployerError when no key can deploy it.
   */
  contractFor(institutionId: string): Promise<EditionContractRow | undefined> {
    let pending = this.pending.get(institutionId);
    if (!pending) {
      pending = this.advance(institutionId).finally(() => this.pending.delete(institutionId));
      this.pending.set(institutionId, pending);
    }
    return pending;
  }

  private async advance(institutionId: string): Promise<EditionContractRow | undefined> {
    const { db } = this.deps;
    const found = await this.recorded(institutionId);
    if (found) return found;
    const [creation] = await db.select().from(editionContractCreations).where(eq(editionContractCreations.institutionId, institutionId));
    if (creation) return this.follow(creation);
    await this.create(institutionId);
    return undefined;
  }

  private async recorded(institutionId: string): Promise<EditionContractRow | undefined> {
    return (await this.deps.db.select().from(editionContracts).where(eq(editionContracts.institutionId, institutionId)))[0];
  }

  /** Signs and stores the creation, with the row naming its voucher key in the same database transaction. */
  private async create(institutionId: string): Promise<void> {
    const { db, config, logger, deployer, senders } = this.deps;
    if (!deployer) throw new NoDeployerError("no deployer key is configured (DEPLOYER_PRIVATE_KEY or ADMIN_PRIVATE_KEY)");
    const admin = await deployer.getAddress();
    const sender = this.creator(admin);
    if (!sender) return; // No key can pay now: tried again next tick.
    const [institution] = await db.select().from(institutions).where(eq(institutions.id, institutionId));
    const name = editionsContractName(institution!.name);
    const voucherKey = Wallet.createRandom();
    // The voucher key only signs vouchers: it gets no issuer role, so it cannot mint or move items.
    const data = collectibleEditionsCreation({
      name,
      symbol: "HMC",
      admin,
      issuers: senders.map((s) => s.address),
      voucherSigner: voucherKey.address,
      contractURIBase: contractMetadataBase(config.publicUrl, config.chain.chainId),
    });
    const stored = await sendOperation(this.deps, sender, { to: null, data, purpose: editionsContractPurpose(institutionId) }, {
      claim: async (tx) => {
        // Under the institution's row lock, so that no other worker is between its own reads and its signature: one
        // that signed first, or recorded the mined contract meanwhile, leaves this key dropped unused, never stored.
        await tx.select({ id: institutions.id }).from(institutions).where(eq(institutions.id, institutionId)).for("update");
        const [contract] = await tx.select({ id: editionContracts.id }).from(editionContracts).where(eq(editionContracts.institutionId, institutionId));
        const [creation] = await tx.select({ id: editionContractCreations.id }).from(editionContractCreations).where(eq(editionContractCreations.institutionId, institutionId));
        if (contract || creation) return false;
        await tx
          .insert(editionContractCreations)
          .values({ institutionId, chainId: config.chain.chainId, name, voucherSignerKey: sealSecret(voucherKey.privateKey, this.deps.custody.keyring()) });
        return true;
      },
      record: async () => {},
      refused: async (err) => {
        // The node failing is retried next tick; the constructor refusing would refuse every time, so the editions
        // waiting for this contract fail saying why instead of waiting for ever.
        if (!isRevert(err)) return false;
        throw new NoDeployerError(`the editions contract cannot be created: rejected by the contract: ${contractRefusal(err) ?? "reverted"}`);
      },
    });
    if (stored) logger.info({ institutionId, txHash: stored.txHash, signer: stored.signer, nonce: stored.nonce }, "editions contract creation sent");
  }

  /**
   * The stored creation's progress: the contract recorded once it is mined; undefined while it is not. A creation
   * that reverted made no contract: its row goes, so the next tick signs a new one.
   */
  private async follow(creation: typeof editionContractCreations.$inferSelect): Promise<EditionContractRow | undefined> {
    const { db, logger, provider } = this.deps;
    const txs = await db
      .select()
      .from(chainTxs)
      .where(eq(chainTxs.purpose, editionsContractPurpose(creation.institutionId)))
      .orderBy(desc(chainTxs.createdAt));
    const mined = txs.find((t) => t.status === "MINED");
    if (!mined) {
      const latest = txs[0];
      if (latest?.status === "REVERTED" && latest.createdAt >= creation.createdAt) await this.forget(creation, latest.txHash);
      // SIGNED or SENT: the monitor carries it. DROPPED: the monitor signs its replacement under the same purpose.
      return undefined;
    }
    let created: Awaited<ReturnType<typeof contractOf>>;
    try {
      created = await contractOf(provider, mined);
    } catch (err) {
      if (err instanceof CreationRevertedError) {
        await this.forget(creation, mined.txHash);
        return undefined;
      }
      throw err;
    }
    if (!created) return undefined;
    await db.transaction(async (tx) => {
      await tx
        .insert(editionContracts)
        .values({
          institutionId: creation.institutionId,
          chainId: creation.chainId,
          contractAddress: created.address,
          name: creation.name,
          deployTxHash: mined.txHash,
          deployBlock: created.blockNumber,
          voucherSignerKey: creation.voucherSignerKey,
        })
        .onConflictDoNothing({ target: editionContracts.institutionId });
      await tx.delete(editionContractCreations).where(eq(editionContractCreations.id, creation.id));
    });
    logger.info({ institutionId: creation.institutionId, contract: created.address, txHash: mined.txHash }, "editions contract deployed");
    return this.recorded(creation.institutionId);
  }

  private async forget(creation: typeof editionContractCreations.$inferSelect, txHash: string): Promise<void> {
    this.deps.logger.warn({ institutionId: creation.institutionId, txHash }, "editions contract creation reverted: no contract was made; signing a new one");
    await this.deps.db.delete(editionContractCreations).where(eq(editionContractCreations.id, creation.id));
  }

  /**
   * The key that signs the creation: the deployer's own nonce-managed sender when the worker has one (it pays, as it
   * is the admin), else the admin key's, else a signing key; never a key that cannot pay. The contract's admin is
   * the deployer whichever key sends it: the constructor names it.
   */
  private creator(admin: string): TxSender | undefined {
    const { adminSender, senders } = this.deps;
    const keys = [...(adminSender ? [adminSender] : []), ...senders].filter((s) => s.health().canPay);
    return keys.find((s) => s.address === admin) ?? keys[0];
  }
}
