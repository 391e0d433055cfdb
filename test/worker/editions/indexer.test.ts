import { eq } from "drizzle-orm";
import { Contract, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSecret } from "../../../core/custody/sealed.ts";
import { claimCodes, editionContracts, indexerCursors } from "../../../core/db/schema.ts";
import { collectibleEditionsInterface } from "../../../core/editions/abi.ts";
import { voucherCodeOf, VOUCHER_TYPES } from "../../../core/editions/operations.ts";
import { confirmedEdition, editionRow, indexToHead, issueClaimCode, startEditionsFixture, type EditionsFixture } from "./fixture.ts";

describe("editions stage: indexer", () => {
  let f: EditionsFixture;
  beforeAll(async () => {
    f = await startEditionsFixture();
  });
  afterAll(async () => {
    await f?.close();
  });

  it("a voucher claimed on chain by its holder marks the code used and counts the item; the cursor keeps it from being counted twice", async () => {
    const edition = await confirmedEdition(f, { maxSupply: 5 });
    const [contract] = await f.db.select().from(editionContracts).where(eq(editionContracts.id, edition.contractId!));
    const { code, claim } = await issueClaimCode(f, edition);
    const voucher = { editionId: BigInt(edition.chainEditionId!), code: voucherCodeOf(code), deadline: BigInt(Math.floor(Date.now() / 1000) + 3600) };
    const signer = new Wallet(openSecret(contract!.voucherSignerKey, f.deps.custody.keyring()));
    const signature = await signer.signTypedData({ name: contract!.name, version: "1", chainId: 31337, verifyingContract: contract!.contractAddress }, VOUCHER_TYPES, voucher);
    const asHolder = new Contract(contract!.contractAddress, collectibleEditionsInterface(), f.outsider);
    await (await asHolder.claim!(voucher, signature)).wait();

    await indexToHead(f);
    const [used] = await f.db.select().from(claimCodes).where(eq(claimCodes.id, claim.id));
    expect(used!.redeemedBy).toBe(f.outsider.address);
    expect(used!.redeemedAt).toBeInstanceOf(Date);
    expect((await editionRow(f, edition.id)).minted).toBe(1);

    const [cursor] = await f.db.select().from(indexerCursors).where(eq(indexerCursors.name, f.cursor));
    expect(cursor!.lastBlock).toBe(await f.chain.provider.getBlockNumber());
    await indexToHead(f);
    expect((await editionRow(f, edition.id)).minted).toBe(1);
  });
});
