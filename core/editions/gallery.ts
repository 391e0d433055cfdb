import type { Localizable } from "../i18n/language-map.ts";
import type { Provider } from "ethers";
import type { IpfsStore } from "../ipfs/index.ts";
import { cidOfIpfsUri, type EditionMetadata } from "./metadata.ts";
import { readEditionFromChain, type EditionOnChain } from "./chain.ts";
import { EditionMetadataUnusableError } from "./errors.ts";
import { readImageHeader } from "./image-size.ts";
import { fetchEditionMetadata, readAll } from "./metadata.ts";

/** Enough of a JPEG for a start-of-frame marker behind EXIF and ICC segments (each at most 64 KiB). */
const HEADER_BYTES = 256 * 1024;

/** An image of the edition, ready to show and to describe in a IIIF canvas. */
export interface GalleryImage {
  cid: string;
  /** A string, or a language map. */
  label: Localizable;
  width: number;
  height: number;
  mediaType: string;
}

export interface EditionGallery {
  edition: EditionOnChain;
  metadataCid: string;
  metadata: EditionMetadata;
  images: GalleryImage[];
  /** Items that have a holder now. */
  held: number;
}

/**
 * An edition as a gallery shows it, read chain-first: the contract names the edition, its items and holders, and the
 * metadata's CID; IPFS supplies the metadata and images. Media type and pixel size come from each image's own header
 * when it is PNG, JPEG or GIF (the bytes are what viewers will draw), and from the metadata otherwise.
 */
export async function loadEditionGallery(deps: { provider: Provider; ipfs: IpfsStore }, contract: string, editionId: bigint): Promise<EditionGallery> {
  const edition = await readEditionFromChain(deps.provider, contract, editionId);
  const { cid: metadataCid, metadata } = await fetchEditionMetadata(deps.ipfs, edition.uri);
  const images = await Promise.all(
    metadata.images.map(async (image, i): Promise<GalleryImage> => {
      const cid = cidOfIpfsUri(image.uri)!;
      const header = readImageHeader(await readAll(deps.ipfs, cid, HEADER_BYTES, `image ${i + 1}`, { truncate: true }));
      const width = header.width ?? image.width;
      const height = header.height ?? image.height;
      const mediaType = header.mediaType ?? image.mediaType;
      const problems: string[] = [];
      if (!mediaType) problems.push(`images[${i}]: ${cid} is not a PNG, JPEG, GIF or WebP image and no mediaType is given`);
      if (!width || !height) problems.push(`images[${i}]: width and height are not given and could not be read from the image's header`);
      if (problems.length) throw new EditionMetadataUnusableError(problems);
      return { cid, label: image.label, width: width!, height: height!, mediaType: mediaType! };
    }),
  );
  return { edition, metadataCid, metadata, images, held: edition.items.filter((item) => !/^0x0{40}$/.test(item.holder)).length };
}
