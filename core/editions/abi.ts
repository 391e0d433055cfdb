import { id, Interface } from "ethers";
/**
 * The editions contract as Hallmark calls and reads it, written out rather than loaded from build artifacts: a
 * gallery depends on what the contract promises, and runs where nothing was built. The functions, events and errors
 * are those the published interface (contracts/interfaces/ICollectibleEditions.sol) declares, with what the
 * implementation inherits and the worker uses: OpenZeppelin's AccessControl roles, ERC-721 reads, `voucherUsed`, and
 * every error the contract can revert with, so a refusal is quoted by name (test/core/editions/abi.test.ts holds it
 * to the built contract).
 */
export const COLLECTIBLE_EDITIONS_ABI = [
  // ICollectibleEditions
  "function createEdition(string name, string uri, uint32 maxSupply, uint8 policy, uint32 lockup, uint8 maxGifts) returns (uint256 editionId)",
  "function airdrop(uint256 editionId, address[] holders) returns (uint256 firstTokenId)",
  "function claim(tuple(uint256 editionId, bytes32 code, uint64 deadline) voucher, bytes signature) returns (uint256 tokenId)",
  "function redeemFor(uint256 editionId, bytes32 code, address holder) returns (uint256 tokenId)",
  "function airdropToCustody(uint256 editionId, address[] custodians) returns (uint256 firstTokenId)",
  "function redeemForCustody(uint256 editionId, bytes32 code, address custodian) returns (uint256 tokenId)",
  "function releaseFromCustody(address from, address to, uint256[] tokenIds)",
  "function inCustody(uint256 tokenId) view returns (bool)",
  "function issuerTransfer(address from, address to, uint256 tokenId)",
  "function edition(uint256 editionId) view returns (tuple(string name, string uri, uint32 maxSupply, uint32 minted, uint8 policy, uint32 lockup, uint8 maxGifts))",
  "function itemOf(uint256 tokenId) view returns (uint256 editionId, uint32 serial)",
  "function voucherDigest(tuple(uint256 editionId, bytes32 code, uint64 deadline) voucher) view returns (bytes32)",
  "event EditionCreated(uint256 indexed editionId, string name, string uri, uint32 maxSupply, uint8 policy)",
  "event ItemMinted(uint256 indexed editionId, uint256 indexed tokenId, address indexed holder, uint32 serial)",
  "event VoucherRedeemed(bytes32 indexed code, uint256 indexed tokenId, address indexed holder)",
  "event CustodyReleased(uint256 indexed tokenId, address indexed from, address indexed to)",
  "error EditionNotFound(uint256 editionId)",
  "error EditionSoldOut(uint256 editionId)",
  "error EditionInvalid()",
  "error ItemLocked(uint256 tokenId)",
  "error ItemInLockup(uint256 tokenId, uint256 unlocksAt)",
  "error GiftLimitReached(uint256 tokenId)",
  "error ApprovalsDisabled()",
  "error VoucherExpired(bytes32 code, uint64 deadline)",
  "error VoucherAlreadyUsed(bytes32 code)",
  "error VoucherSignerInvalid(address signer)",
  "error IssuersEmpty()",
  "error IssuerInvalid(address issuer)",
  "error ItemNotInCustody(uint256 tokenId)",
  // The implementation's: the voucher ledger, roles, ERC-721
  "function voucherUsed(bytes32 code) view returns (bool)",
  "function ISSUER_ROLE() view returns (bytes32)",
  "function VOUCHER_SIGNER_ROLE() view returns (bytes32)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
  "function grantRole(bytes32 role, address account)",
  "function name() view returns (string)",
  "function ownerOf(uint256 tokenId) view returns (address)",
  "event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)",
  // Errors of what the implementation inherits (AccessControlDefaultAdminRules, ERC-721, EIP-712, ECDSA, SafeCast)
  "error AccessControlBadConfirmation()",
  "error AccessControlEnforcedDefaultAdminDelay(uint48 schedule)",
  "error AccessControlEnforcedDefaultAdminRules()",
  "error AccessControlInvalidDefaultAdmin(address defaultAdmin)",
  "error AccessControlUnauthorizedAccount(address account, bytes32 neededRole)",
  "error ECDSAInvalidSignature()",
  "error ECDSAInvalidSignatureLength(uint256 length)",
  "error ECDSAInvalidSignatureS(bytes32 s)",
  "error ERC721IncorrectOwner(address sender, uint256 tokenId, address owner)",
  "error ERC721InsufficientApproval(address operator, uint256 tokenId)",
  "error ERC721InvalidApprover(address approver)",
  "error ERC721InvalidOperator(address operator)",
  "error ERC721InvalidOwner(address owner)",
  "error ERC721InvalidReceiver(address receiver)",
  "error ERC721InvalidSender(address sender)",
  "error ERC721NonexistentToken(uint256 tokenId)",
  "error InvalidShortString()",
  "error SafeCastOverflowedUintDowncast(uint8 bits, uint256 value)",
  "error StringTooLong(string str)",
  "error StringsInsufficientHexLength(uint256 value, uint256 length)",
] as const;

let editionsInterface: Interface | undefined;

/** Built once: an Interface hashes every fragment's selector and topic when constructed. */
export function collectibleEditionsInterface(): Interface {
  return (editionsInterface ??= new Interface(COLLECTIBLE_EDITIONS_ABI));
}

/** ERC-721 `Transfer(from, to, tokenId)`, all three indexed. */
export const TRANSFER_TOPIC = id("Transfer(address,address,uint256)");
