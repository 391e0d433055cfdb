import { existsSync, readFileSync } from "node:fs";
import { crc32, deflateSync } from "node:zlib";
import { Contract, id, isCallException, Wallet, type Signer } from "ethers";
import { loadArtifact } from "../../core/chain/artifacts.ts";
import { deployCollectibleEditions } from "../../core/chain/deploy.ts";
import { issuerRegistryAt } from "../../core/chain/issuer-registry.ts";
import type { IpfsStore } from "../../core/ipfs/index.ts";
import { buildEditionMetadata } from "../../core/editions/metadata.ts";

/** A pixel painter: RGB in 0–255 for the pixel at (x, y) of a w × h image. */
export type Painter = (x: number, y: number, w: number, h: number) => [number, number, number];

/** Encodes an RGB image as a real PNG (8-bit truecolour, one IDAT, filter 0 rows), with node:zlib only. */
export function encodePng(width: number, height: number, paint: Painter): Uint8Array {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const [r, g, b] = paint(x, y, width, height);
      raw.set([r, g, b], row + 1 + x * 3);
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, "latin1");
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace
  return new Uint8Array(
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]),
  );
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/** The demo's three pictures: a harbour at dusk, a woven textile and a tiled floor, in simple drawn patterns. */
export const DEMO_IMAGES: { label: string; width: number; height: number; paint: Painter }[] = [
  {
    label: "Harbour lights at dusk: a low orange sun over dark blue water, with bands of reflected light",
    width: 480,
    height: 320,
    paint: (x, y, w, h) => {
      const horizon = h * 0.62;
      const sun = Math.hypot(x - w * 0.5, y - horizon + h * 0.08);
      if (y < horizon) {
        if (sun < h * 0.12) return [255, 196, 92];
        const t = y / horizon;
        return [clamp(40 + 200 * t), clamp(50 + 80 * t), clamp(110 - 40 * t)];
      }
      const depth = (y - horizon) / (h - horizon);
      const glint = Math.abs(x - w * 0.5) < w * (0.05 + 0.1 * depth) && Math.sin(y * 0.9) > 0.3;
      return glint ? [250, 180, 90] : [clamp(20 + 20 * (1 - depth)), clamp(45 + 30 * (1 - depth)), clamp(90 + 40 * (1 - depth))];
    },
  },
  {
    label: "Woven textile detail: red and ochre diamonds on an indigo ground",
    width: 320,
    height: 320,
    paint: (x, y) => {
      const d = (Math.abs((x % 40) - 20) + Math.abs((y % 40) - 20)) | 0;
      if (d < 8) return [178, 34, 34];
      if (d < 12) return [214, 160, 60];
      return (x + y) % 4 < 2 ? [38, 48, 110] : [30, 40, 96];
    },
  },
  {
    label: "Tiled floor: a cream and slate chequerboard with a green border",
    width: 360,
    height: 240,
    paint: (x, y, w, h) => {
      if (x < 12 || y < 12 || x >= w - 12 || y >= h - 12) return [34, 110, 70];
      return ((Math.floor(x / 24) + Math.floor(y / 24)) & 1) === 0 ? [238, 230, 210] : [70, 80, 92];
    },
  },
];

/** Deterministic visitors who received an item in the demo airdrop (keys derived from fixed labels). */
export const DEMO_HOLDERS = [1, 2, 3].map((n) => new Wallet(id(`hallmark demo museum visitor ${n}`)).address);
export const DEMO_EDITION_SIZE = 100;

export interface DemoEdition {
  /** The CollectibleEditions contract. */
  contract: string;
  editionId: number;
  /** Path on the server: `/gallery/<contract>/<editionId>`. */
  galleryPath: string;
  manifestPath: string;
}

/** Pins the demo edition's images and metadata; the same bytes every time, so the same CIDs. */
export async function pinDemoEditionMetadata(ipfs: IpfsStore): Promise<{ uri: string; name: string }> {
  const images = await Promise.all(
    DEMO_IMAGES.map(async (img) => ({ cid: await ipfs.add(encodePng(img.width, img.height, img.paint)), label: img.label, width: img.width, height: img.height, mediaType: "image/png" as const })),
  );
  const name = "Harbour Lights";
  const { bytes } = buildEditionMetadata({
    name,
    description: "A limited edition from the Demo Museum's maritime collection, given to visitors of its harbour exhibition.",
    story:
      "For a century the harbour lights guided fishing boats home at dusk. The museum's collection keeps the lamps, the nets " +
      "and the patterned cloth the families wove while they waited.\n\n" +
      "This edition gathers three pictures from the exhibition. Each item is unique, numbered within the edition, and stays " +
      "with the visitor it was given to: it is a keepsake, never a thing to trade.",
    images,
    dublinCore: {
      creator: "Demo Museum, maritime department",
      date: "2024",
      subject: ["Harbours", "Fishing", "Textiles"],
      rights: "https://creativecommons.org/licenses/by/4.0/",
      identifier: "DM.2024.HL.1",
      type: "StillImage",
      format: "image/png",
      source: "Demo Museum exhibition “Harbour Lights”",
      language: "en",
      coverage: "North Sea coast, 1900–2000",
    },
  });
  return { uri: `ipfs://${await ipfs.add(bytes)}`, name };
}

/**
 * The dev stack's museum edition: a CollectibleEditions contract with one edition ("Harbour Lights", three PNGs drawn
 * in code and pinned to IPFS) and a few items airdropped. Set up once per chain: when dev.json names a contract that
 * still holds this edition (a persistent chain), it is reused; a fresh embedded chain gets a new one.
 */
export async function ensureDemoEdition(opts: { ipfs: IpfsStore; deployer: Signer; devInfoPath: string; issuerRegistry?: string; certificateRegistry?: string }): Promise<DemoEdition> {
  const edition = await ensureDemoEditionContract(opts);
  // The gallery names the museum from the issuer registry: the demo's editions contract belongs to the demo institution.
  if (opts.issuerRegistry && opts.certificateRegistry) {
    const registry = issuerRegistryAt(opts.issuerRegistry, opts.deployer);
    const institutionId = (await registry.institutionOf!(opts.certificateRegistry)) as bigint;
    if (institutionId !== 0n && ((await registry.institutionOf!(edition.contract)) as bigint) === 0n) {
      // A registry the deployer does not operate (ISSUER_REGISTRY_ADDRESS) refuses: the gallery then says so.
      await registry.bindAccount!(institutionId, edition.contract).then((tx: { wait(): Promise<unknown> }) => tx.wait(), (err: unknown) => {
        if (!isCallException(err)) throw err;
      });
    }
  }
  return edition;
}

async function ensureDemoEditionContract(opts: { ipfs: IpfsStore; deployer: Signer; devInfoPath: string }): Promise<DemoEdition> {
  const { uri, name } = await pinDemoEditionMetadata(opts.ipfs);
  const { abi } = loadArtifact("CollectibleEditions");
  const done = (contract: string): DemoEdition => ({
    contract,
    editionId: 1,
    galleryPath: `/gallery/${contract}/1`,
    manifestPath: `/iiif/${contract}/1/manifest.json`,
  });

  const previous = existsSync(opts.devInfoPath)
    ? (JSON.parse(readFileSync(opts.devInfoPath, "utf8")) as { contracts?: { CollectibleEditions?: string } }).contracts?.CollectibleEditions
    : undefined;
  if (previous && (await opts.deployer.provider!.getCode(previous)) !== "0x") {
    const existing = new Contract(previous, abi, opts.deployer);
    const edition = await existing.edition!(1).catch(() => undefined);
    if (edition?.uri === uri) return done(previous);
  }

  const admin = await opts.deployer.getAddress();
  const { address } = await deployCollectibleEditions(opts.deployer, { name: "Demo Museum Collectibles", symbol: "DMC", admin, issuer: admin });
  const editions = new Contract(address, abi, opts.deployer);
  // Policy 0 (Locked): the items are keepsakes that never move.
  await (await editions.createEdition!(name, uri, DEMO_EDITION_SIZE, 0, 0, 0)).wait();
  await (await editions.airdrop!(1, DEMO_HOLDERS)).wait();
  return done(address);
}
