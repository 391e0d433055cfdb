export { COLLECTIBLE_EDITIONS_ABI, collectibleEditionsInterface } from "./abi.ts";
export {
  ON_CHAIN_POLICIES,
  onChainPolicy,
  policyIndex,
  policyNamed,
  policyShownAs,
  TRANSFER_POLICIES,
  type OnChainPolicy,
  type TransferPolicy,
} from "./transfer-policy.ts";
export { listEditionsFromChain, readEditionFromChain, type EditionItem, type EditionListing, type EditionOnChain } from "./chain.ts";
export { EditionMetadataUnusableError, EditionNotFoundError, ChainReadError } from "./errors.ts";
export { loadEditionGallery, type EditionGallery, type GalleryImage } from "./gallery.ts";
export { readImageHeader, type ImageHeader } from "./image-size.ts";
export { fetchEditionMetadata, MAX_METADATA_BYTES } from "./metadata.ts";
export { readHoldings, type EditionsContractRef, type HeldItem } from "./holdings.ts";
export { editionsContractsOn } from "./contracts.ts";
export {
  COLLECTIBLE_EVENT_KINDS,
  readCollectible,
  readCollectibleHistories,
  tokenIdOfSerial,
  type CollectibleEvent,
  type CollectibleEventKind,
  type CollectibleOnChain,
  type HistoryRequest,
} from "./history.ts";
