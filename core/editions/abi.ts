import { id } from "ethers";
/**
 * The editions contract's published interface (contracts/interfaces/ICollectibleEditions.sol), written out rather
 * than loaded from build artifacts: a gallery depends on what the contract promises, and runs where nothing was built.
 */
export const COLLECTIBLE_EDITIONS_ABI = [
  "function edition(uint256 editionId) view returns (tuple(string name, string uri, uint32 maxSupply, uint32 minted, uint8 policy, uint32 lockup, uint8 maxGifts))",
  "function itemOf(uint256 tokenId) view returns (uint256 editionId, uint32 serial)",
  "function ownerOf(uint256 tokenId) view returns (address)",
  "error EditionNotFound(uint256 editionId)",
  "event EditionCreated(uint256 indexed editionId, string name, string uri, uint32 maxSupply, uint8 policy)",
  "event ItemMinted(uint256 indexed editionId, uint256 indexed tokenId, address indexed holder, uint32 serial)",
  "event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)",
] as const;

/** `ICollectibleEditions.TransferPolicy`, by its numeric value. */
export const TRANSFER_POLICIES = ["Locked", "GiftAfterLockup", "IssuerMediated"] as const;
export type TransferPolicy = (typeof TRANSFER_POLICIES)[number];

/** A policy as the contract returns it (its enum index); an index this code does not know reads as the strictest. */
export function policyName(index: bigint | number): TransferPolicy {
  return TRANSFER_POLICIES[Number(index)] ?? "Locked";
}

/** ERC-721 `Transfer(from, to, tokenId)`, all three indexed. */
export const TRANSFER_TOPIC = id("Transfer(address,address,uint256)");
