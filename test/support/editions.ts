import type { LanguageMap } from "../../core/i18n/language-map.ts";
import { Contract, Wallet } from "ethers";
import { loadArtifact } from "../../core/chain/artifacts.ts";
import { deployCollectibleEditions } from "../../core/chain/deploy.ts";
import { buildEditionMetadata, type EditionMetadataInput } from "../../core/editions/metadata.ts";
import { DEV_KEYS } from "../../scripts/dev/chain.ts";
import { encodePng, type Painter } from "../../scripts/dev/demo-edition.ts";
import type { RunningStack } from "../../scripts/dev/stack.ts";

export interface TestImage {
  label: string;
  width: number;
  height: number;
  paint?: Painter;
  /** Leave width and height out of the metadata, so the gallery must read them from the PNG header. */
  omitSize?: boolean;
}

export interface TestEdition {
  contract: string;
  editionId: number;
  images: { cid: string; bytes: Uint8Array; label: string; width: number; height: number }[];
  metadataUri: string;
  editions: Contract;
}

const stripes: Painter = (x, y) => ((x >> 3) + (y >> 3)) % 2 ? [20, 70, 140] : [240, 200, 80];

/**
 * Deploys a CollectibleEditions contract (admin and issuer: the dev stack's deployer, idle once the stack is up),
 * pins PNG images and edition metadata to the stack's IPFS, creates the edition and airdrops to `holders`.
 */
export async function createTestEdition(
  stack: RunningStack,
  opts: {
    name?: string;
    images: TestImage[];
    holders: string[];
    maxSupply: number;
    policy?: number;
    lockup?: number;
    maxGifts?: number;
    dublinCore?: EditionMetadataInput["dublinCore"];
    story?: string;
    contract?: string;
    /** Pin these bytes as the metadata instead of a built document. */
    rawMetadata?: Uint8Array;
    /** The metadata's name, description and story in several languages (the chain keeps `name`). */
    languages?: { name: LanguageMap; description?: LanguageMap; story?: LanguageMap };
  },
): Promise<TestEdition> {
  const deployer = new Wallet(DEV_KEYS.deployer, stack.provider);
  const images = await Promise.all(
    opts.images.map(async (img) => {
      const bytes = encodePng(img.width, img.height, img.paint ?? stripes);
      return { cid: await stack.ipfs.add(bytes), bytes, label: img.label, width: img.width, height: img.height, omitSize: img.omitSize };
    }),
  );
  const name = opts.name ?? "Test edition";
  const metadataBytes =
    opts.rawMetadata ??
    buildEditionMetadata({
      name: opts.languages?.name ?? name,
      description: opts.languages?.description ?? `${name}, made by a test.`,
      story: opts.languages?.story ?? opts.story,
      images: images.map((img) => ({ cid: img.cid, label: img.label, ...(img.omitSize ? {} : { width: img.width, height: img.height, mediaType: "image/png" as const }) })),
      dublinCore: opts.dublinCore,
    }).bytes;
  const metadataUri = `ipfs://${await stack.ipfs.add(metadataBytes)}`;
  const address = opts.contract ?? (await deployCollectibleEditions(deployer, { name: "Test Museum", symbol: "TM", admin: deployer.address, issuer: deployer.address })).address;
  const editions = new Contract(address, loadArtifact("CollectibleEditions").abi, deployer);
  const receipt = await (await editions.createEdition!(name, metadataUri, opts.maxSupply, opts.policy ?? 0, opts.lockup ?? 0, opts.maxGifts ?? 0)).wait();
  const created = receipt.logs.map((l: never) => editions.interface.parseLog(l)).find((e: { name?: string } | null) => e?.name === "EditionCreated");
  const editionId = Number(created.args.editionId);
  if (opts.holders.length) await (await editions.airdrop!(editionId, opts.holders)).wait();
  return { contract: address, editionId, images: images.map(({ omitSize: _, ...img }) => img), metadataUri, editions };
}
