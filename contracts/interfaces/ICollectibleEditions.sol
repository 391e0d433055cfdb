// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Hallmark collectible editions
/// @notice Limited editions for museums and culture: every item is a unique ERC-721 token with a serial number
/// within its edition (#12/1000), never a fungible fraction. Items are airdropped or claimed with single-use
/// EIP-712 vouchers, and move only as their edition's transfer policy allows: there is no sale, approval or
/// marketplace path.
interface ICollectibleEditions {
    /// @notice How items of an edition may move.
    /// @param Locked Never (soulbound).
    /// @param GiftAfterLockup The holder may give an item away after holding it `lockup` seconds, at most
    /// `maxGifts` times over the item's life; each receiver's own lockup starts when they receive it.
    /// @param IssuerMediated Only the issuer moves items (recovery), through {issuerTransfer}.
    enum TransferPolicy {
        Locked,
        GiftAfterLockup,
        IssuerMediated
    }

    /// @notice An edition.
    // solhint-disable-next-line gas-struct-packing
    struct Edition {
        string name;
        string uri;
        uint32 maxSupply;
        uint32 minted;
        TransferPolicy policy;
        uint32 lockup;
        uint8 maxGifts;
    }

    /// @notice A claim code: whoever presents it with the issuer's signature before `deadline` receives one item.
    struct Voucher {
        uint256 editionId;
        bytes32 code;
        uint64 deadline;
    }

    /// @notice No edition has this id.
    error EditionNotFound(uint256 editionId);
    /// @notice The edition has no items left.
    error EditionSoldOut(uint256 editionId);
    /// @notice An edition needs a name, a URI and a non-zero max supply.
    error EditionInvalid();
    /// @notice The item's policy forbids this move (or any move).
    error ItemLocked(uint256 tokenId);
    /// @notice The item is still in its holder's lockup period.
    error ItemInLockup(uint256 tokenId, uint256 unlocksAt);
    /// @notice The item was already given away as often as its edition allows.
    error GiftLimitReached(uint256 tokenId);
    /// @notice Approvals do not exist here.
    error ApprovalsDisabled();
    /// @notice The voucher's deadline passed.
    error VoucherExpired(bytes32 code, uint64 deadline);
    /// @notice The voucher's code was already used.
    error VoucherAlreadyUsed(bytes32 code);
    /// @notice The voucher was not signed, for this contract on this chain, by an account with the voucher-signer
    /// role (an issuer without that role included); at creation, the voucher signer named is one of the issuers.
    error VoucherSignerInvalid(address signer);
    /// @notice A contract is created with at least one issuer key.
    error IssuersEmpty();
    /// @notice The zero address cannot hold the issuer role.
    error IssuerInvalid(address issuer);
    /// @notice The item was not minted into custody, or has left it since (released, or moved).
    error ItemNotInCustody(uint256 tokenId);

    /// @notice Emitted when an edition is created.
    event EditionCreated(uint256 indexed editionId, string name, string uri, uint32 maxSupply, TransferPolicy policy);
    /// @notice Emitted for every item minted, with its serial number.
    event ItemMinted(uint256 indexed editionId, uint256 indexed tokenId, address indexed holder, uint32 serial);
    /// @notice Emitted when a voucher is redeemed.
    event VoucherRedeemed(bytes32 indexed code, uint256 indexed tokenId, address indexed holder);
    /// @notice Emitted when an item held in custody for its holder is released to the holder's own wallet.
    event CustodyReleased(uint256 indexed tokenId, address indexed from, address indexed to);

    /// @notice Creates an edition.
    /// @dev Requirements: caller has the issuer role; name and URI non-empty; max supply non-zero.
    /// Emits an {EditionCreated} event.
    /// @return editionId The new edition's id (from 1).
    function createEdition(
        string calldata name,
        string calldata uri,
        uint32 maxSupply,
        TransferPolicy policy,
        uint32 lockup,
        uint8 maxGifts
    ) external returns (uint256 editionId);

    /// @notice Mints one item of an edition to each holder, serials in order.
    /// @dev Requirements: caller has the issuer role; the edition exists and has enough items left.
    /// Emits an {ItemMinted} and a {Transfer} event per item.
    /// @return firstTokenId The first token id.
    function airdrop(uint256 editionId, address[] calldata holders) external returns (uint256 firstTokenId);

    /// @notice Mints one item of an edition to each custodial account, serials in order, each marked as held in
    /// custody: the platform keeps these accounts for holders without a wallet, and {releaseFromCustody} later
    /// moves the items to the wallet the holder claims, whatever the edition's transfer policy.
    /// @dev Requirements: caller has the issuer role; the edition exists and has enough items left.
    /// Emits an {ItemMinted} and a {Transfer} event per item.
    /// @return firstTokenId The first token id.
    function airdropToCustody(uint256 editionId, address[] calldata custodians) external returns (uint256 firstTokenId);

    /// @notice Redeems a claim voucher: mints one item to the caller.
    /// @dev Requirements: the voucher is unexpired, unused, signed (EIP-712, this chain and contract) by an
    /// account with the voucher-signer role; the edition has items left. Anyone may send the transaction.
    /// Emits a {VoucherRedeemed}, an {ItemMinted} and a {Transfer} event.
    /// @return tokenId The minted token.
    function claim(Voucher calldata voucher, bytes calldata signature) external returns (uint256 tokenId);

    /// @notice Redeems a claim code for a holder, as the issuer: the code's voucher is spent with it, so the
    /// item cannot also be claimed on chain (nor this call succeed after such a claim).
    /// @dev Requirements: caller has the issuer role; the code is unused; the edition exists and has items left.
    /// Emits a {VoucherRedeemed}, an {ItemMinted} and a {Transfer} event.
    /// @return tokenId The minted token.
    function redeemFor(uint256 editionId, bytes32 code, address holder) external returns (uint256 tokenId);

    /// @notice {redeemFor} into a custodial account: the item is marked as held in custody, as by {airdropToCustody}.
    /// @dev Requirements: caller has the issuer role; the code is unused; the edition exists and has items left.
    /// Emits a {VoucherRedeemed}, an {ItemMinted} and a {Transfer} event.
    /// @return tokenId The minted token.
    function redeemForCustody(uint256 editionId, bytes32 code, address custodian) external returns (uint256 tokenId);

    /// @notice Releases items held in custody to their holder's wallet, once each, whatever their edition's transfer
    /// policy: the holder receiving their own item, neither a gift (the gift count and the lockup are unchanged)
    /// nor a trade. Only items minted into custody and never moved since qualify; each leaves custody for good.
    /// @dev Requirements: caller has the issuer role; `to` is not the zero address ({ERC721InvalidReceiver}); every
    /// item is in custody ({ItemNotInCustody}; {ERC721NonexistentToken} for none) and held by `from`
    /// ({ERC721IncorrectOwner}). All or nothing. Emits a {Transfer} and a {CustodyReleased} event per item.
    /// @param from The custodial account the items were minted to.
    /// @param to The holder's wallet.
    /// @param tokenIds The items.
    function releaseFromCustody(address from, address to, uint256[] calldata tokenIds) external;

    /// @notice Moves an item of an `IssuerMediated` edition (recovery).
    /// @dev Requirements: caller has the issuer role; the item's edition is `IssuerMediated`; `from` owns it.
    /// Emits a {Transfer} event.
    function issuerTransfer(address from, address to, uint256 tokenId) external;

    /// @notice Sets the ERC-7572 contract-level metadata URI: a full URI, or a base ending in `/` to which
    /// `contractURI()` appends this contract's address and `/contract.json`; empty removes it.
    /// @dev Requirements: caller has the default admin role, else reverts with
    /// {IAccessControl-AccessControlUnauthorizedAccount}. Emits an ERC-7572 {ContractURIUpdated} event.
    /// @param uri The URI or base.
    function setContractURI(string calldata uri) external;

    /// @notice An edition.
    function edition(uint256 editionId) external view returns (Edition memory);

    /// @notice An item's edition and serial number (1-based).
    function itemOf(uint256 tokenId) external view returns (uint256 editionId, uint32 serial);

    /// @notice Whether an item is still held in custody (minted by {airdropToCustody} or {redeemForCustody}, and
    /// neither released nor moved since).
    function inCustody(uint256 tokenId) external view returns (bool);

    /// @notice The EIP-712 digest a voucher's signer signs.
    function voucherDigest(Voucher calldata voucher) external view returns (bytes32);
}
