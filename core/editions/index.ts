export { COLLECTIBLE_EDITIONS_ABI, TRANSFER_POLICIES, type TransferPolicy } from "./abi.ts";
export { readEditionFromChain, type EditionItem, type EditionOnChain } from "./chain.ts";
export { EditionMetadataUnusableError, EditionNotFoundError, EditionUnavailableError } from "./errors.ts";
export { loadEditionGallery, type EditionGallery, type GalleryImage } from "./gallery.ts";
export { readImageHeader, type ImageHeader } from "./image-size.ts";
export { fetchEditionMetadata, MAX_METADATA_BYTES } from "./metadata.ts";
export { readHoldings, type HeldItem } from "./holdings.ts";
