// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";
import {ICollectibleEditions} from "./interfaces/ICollectibleEditions.sol";
import {IERC5192} from "./interfaces/IERC5192.sol";
import {IERC7572} from "./interfaces/IERC7572.sol";

/// @title Hallmark collectible editions
/// @notice Limited editions of unique ERC-721 items with serial numbers, airdrops, EIP-712 claim vouchers and a
/// transfer policy per edition enforced in `_update`, and ERC-7572 contract-level metadata.
/// @dev No ERC-4906: nothing an item shows ever changes. An edition's URI is fixed at its creation, items are never
/// burned or revoked, and a move is the ERC-721 {Transfer} it is.
contract CollectibleEditions is
    ERC721,
    AccessControlDefaultAdminRules,
    EIP712,
    ICollectibleEditions,
    IERC5192,
    IERC7572
{
    /// @notice Role of the keys that create editions, airdrop, redeem codes for holders and mediate transfers.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice Role of the keys whose EIP-712 signature makes a claim voucher valid, and nothing else: such a key
    /// can neither mint nor move items itself, so a leaked voucher key can at most sign vouchers until the admin
    /// revokes the role. Issuer keys do not sign vouchers. Administered by the default admin.
    bytes32 public constant VOUCHER_SIGNER_ROLE = keccak256("VOUCHER_SIGNER_ROLE");
    /// @notice EIP-712 type of a voucher.
    // solhint-disable-next-line gas-small-strings
    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(uint256 editionId,bytes32 code,uint64 deadline)");

    using BitMaps for BitMaps.BitMap;

    struct Item {
        uint64 editionId;
        uint32 serial;
        uint40 receivedAt;
        uint8 gifts;
    }

    Edition[] private _editions;
    mapping(uint256 tokenId => Item) private _items;
    mapping(bytes32 code => bool) public voucherUsed;
    /// @dev Items minted into a custodial account (one the platform keeps for a holder without a wallet) and not
    /// moved since: set at mint, cleared by the release or by any other move. A bitmap beside the items rather than
    /// a field of theirs, so an ordinary mint writes exactly what it did before; consecutive custodial items share
    /// a word.
    BitMaps.BitMap private _custodial;
    uint256 private _nextTokenId = 1;
    bool private transient _issuerMove;
    string private _contractURI;

    /// @param name_ ERC-721 collection name (also the EIP-712 domain name).
    /// @param symbol_ ERC-721 symbol.
    /// @param admin Default admin (two-step transfer, 2 days).
    /// @param issuers Holders of the issuer role; at least one, none the zero address.
    /// @param voucherSigner Holder of the voucher-signer role, or the zero address for none yet; never one of
    /// `issuers` (issuer keys do not sign vouchers).
    /// @param contractURI_ The ERC-7572 contract-level metadata URI, or a base ending in `/` to which
    /// {contractURI} appends this contract's address (not known before creation), or empty for none yet.
    /// @dev Everything a deployment needs is set here, so that creating the contract is one transaction: a sender
    /// that crashes mid-deployment has one stored transaction to re-broadcast, never a half-configured contract.
    constructor(
        string memory name_,
        string memory symbol_,
        address admin,
        address[] memory issuers,
        address voucherSigner,
        string memory contractURI_
    ) ERC721(name_, symbol_) AccessControlDefaultAdminRules(2 days, admin) EIP712(name_, "1") {
        uint256 count = issuers.length;
        if (count == 0) revert IssuersEmpty();
        for (uint256 i = 0; i < count; ++i) {
            address issuer = issuers[i];
            if (issuer == address(0)) revert IssuerInvalid(address(0));
            if (issuer == voucherSigner) revert VoucherSignerInvalid(voucherSigner);
            _grantRole(ISSUER_ROLE, issuer);
        }
        if (voucherSigner != address(0)) _grantRole(VOUCHER_SIGNER_ROLE, voucherSigner);
        // No {ContractURIUpdated} here: indexers read {contractURI} of a contract they discover anyway.
        if (bytes(contractURI_).length != 0) _contractURI = contractURI_;
    }

    /// @inheritdoc ICollectibleEditions
    function createEdition(
        string calldata name,
        string calldata uri,
        uint32 maxSupply,
        TransferPolicy policy,
        uint32 lockup,
        uint8 maxGifts
    ) external onlyRole(ISSUER_ROLE) returns (uint256 editionId) {
        if (bytes(name).length == 0 || bytes(uri).length == 0 || maxSupply == 0) revert EditionInvalid();
        _editions.push(Edition(name, uri, maxSupply, 0, policy, lockup, maxGifts));
        editionId = _editions.length;
        emit EditionCreated(editionId, name, uri, maxSupply, policy);
    }

    /// @inheritdoc ICollectibleEditions
    function airdrop(uint256 editionId, address[] calldata holders)
        external
        onlyRole(ISSUER_ROLE)
        returns (uint256 firstTokenId)
    {
        firstTokenId = _nextTokenId;
        for (uint256 i = 0; i < holders.length; ++i) {
            _mintItem(editionId, holders[i]);
        }
    }

    /// @inheritdoc ICollectibleEditions
    function airdropToCustody(uint256 editionId, address[] calldata custodians)
        external
        onlyRole(ISSUER_ROLE)
        returns (uint256 firstTokenId)
    {
        firstTokenId = _nextTokenId;
        for (uint256 i = 0; i < custodians.length; ++i) {
            _custodial.set(_mintItem(editionId, custodians[i]));
        }
    }

    /// @inheritdoc ICollectibleEditions
    function claim(Voucher calldata voucher, bytes calldata signature) external returns (uint256 tokenId) {
        if (block.timestamp > voucher.deadline) revert VoucherExpired(voucher.code, voucher.deadline);
        if (voucherUsed[voucher.code]) revert VoucherAlreadyUsed(voucher.code);
        address signer = ECDSA.recover(voucherDigest(voucher), signature);
        if (!hasRole(VOUCHER_SIGNER_ROLE, signer)) revert VoucherSignerInvalid(signer);
        voucherUsed[voucher.code] = true;
        tokenId = _mintItem(voucher.editionId, msg.sender);
        emit VoucherRedeemed(voucher.code, tokenId, msg.sender);
    }

    /// @inheritdoc ICollectibleEditions
    function redeemFor(uint256 editionId, bytes32 code, address holder) external onlyRole(ISSUER_ROLE) returns (uint256 tokenId) {
        if (voucherUsed[code]) revert VoucherAlreadyUsed(code);
        voucherUsed[code] = true;
        tokenId = _mintItem(editionId, holder);
        emit VoucherRedeemed(code, tokenId, holder);
    }

    /// @inheritdoc ICollectibleEditions
    function redeemForCustody(uint256 editionId, bytes32 code, address custodian)
        external
        onlyRole(ISSUER_ROLE)
        returns (uint256 tokenId)
    {
        if (voucherUsed[code]) revert VoucherAlreadyUsed(code);
        voucherUsed[code] = true;
        tokenId = _mintItem(editionId, custodian);
        _custodial.set(tokenId);
        emit VoucherRedeemed(code, tokenId, custodian);
    }

    /// @inheritdoc ICollectibleEditions
    /// @dev Moves each item with ERC-721's {_update} itself, not this contract's policy-checking override, so no flag
    /// or state exists that could open another path.
    function releaseFromCustody(address from, address to, uint256[] calldata tokenIds) external onlyRole(ISSUER_ROLE) {
        if (to == address(0)) revert ERC721InvalidReceiver(address(0));
        for (uint256 i = 0; i < tokenIds.length; ++i) {
            uint256 tokenId = tokenIds[i];
            if (!_custodial.get(tokenId)) {
                _requireOwned(tokenId);
                revert ItemNotInCustody(tokenId);
            }
            _custodial.unset(tokenId);
            // ERC-721's own move, past this contract's policy check: the holder receiving their own item.
            address previous = super._update(to, tokenId, address(0));
            if (previous != from) revert ERC721IncorrectOwner(from, tokenId, previous);
            emit CustodyReleased(tokenId, from, to);
        }
    }

    /// @inheritdoc ICollectibleEditions
    function issuerTransfer(address from, address to, uint256 tokenId) external onlyRole(ISSUER_ROLE) {
        _requireOwned(tokenId);
        if (_editions[_items[tokenId].editionId - 1].policy != TransferPolicy.IssuerMediated) revert ItemLocked(tokenId);
        _issuerMove = true;
        address previous = _update(to, tokenId, address(0));
        _issuerMove = false;
        if (previous != from) revert ERC721IncorrectOwner(from, tokenId, previous);
    }

    /// @inheritdoc ICollectibleEditions
    function setContractURI(string calldata uri) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _contractURI = uri;
        emit ContractURIUpdated();
    }

    /// @inheritdoc IERC7572
    /// @dev A stored URI ending in `/` is a base: this contract's address (lower-case hex) and `/contract.json`
    /// follow it, so a base given at creation names a document for this very contract.
    function contractURI() external view returns (string memory) {
        string memory uri = _contractURI;
        uint256 length = bytes(uri).length;
        if (length == 0 || bytes(uri)[length - 1] != "/") return uri;
        return string.concat(uri, Strings.toHexString(address(this)), "/contract.json");
    }

    /// @notice Disabled: no approvals, so no sale or marketplace path.
    function approve(address, uint256) public pure override {
        revert ApprovalsDisabled();
    }

    /// @notice Disabled: no approvals, so no sale or marketplace path.
    function setApprovalForAll(address, bool) public pure override {
        revert ApprovalsDisabled();
    }

    /// @inheritdoc ICollectibleEditions
    function edition(uint256 editionId) public view returns (Edition memory) {
        if (editionId == 0 || editionId > _editions.length) revert EditionNotFound(editionId);
        return _editions[editionId - 1];
    }

    /// @inheritdoc ICollectibleEditions
    function itemOf(uint256 tokenId) external view returns (uint256 editionId, uint32 serial) {
        _requireOwned(tokenId);
        Item memory item = _items[tokenId];
        return (item.editionId, item.serial);
    }

    /// @inheritdoc ICollectibleEditions
    function inCustody(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        return _custodial.get(tokenId);
    }

    /// @inheritdoc ICollectibleEditions
    function voucherDigest(Voucher calldata voucher) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(VOUCHER_TYPEHASH, voucher.editionId, voucher.code, voucher.deadline))
        );
    }

    /// @inheritdoc IERC5192
    /// @dev True for `Locked` and `IssuerMediated` editions, and for a `GiftAfterLockup` item in its lockup or
    /// out of gifts.
    function locked(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        Item memory item = _items[tokenId];
        Edition storage e = _editions[item.editionId - 1];
        if (e.policy != TransferPolicy.GiftAfterLockup) return true;
        return !(item.gifts < e.maxGifts) || block.timestamp < uint256(item.receivedAt) + e.lockup;
    }

    /// @notice The edition's metadata URI (shared by its items; the serial is in {itemOf}).
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireOwned(tokenId);
        return _editions[_items[tokenId].editionId - 1].uri;
    }

    /// @notice ERC-165: ERC-721, ERC-721 Metadata, ERC-5192, AccessControl (not ERC-4906: no metadata update
    /// exists here; ERC-7572 defines no interface id).
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721, AccessControlDefaultAdminRules)
        returns (bool)
    {
        return interfaceId == type(IERC5192).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @dev The single choke point of every move but a release from custody (which takes ERC-721's own: the holder
    /// receiving their own item, no gift counted, the lockup still running from the mint): mints pass; moves between
    /// two addresses follow the edition's policy, and take an item out of custody for good.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = _ownerOf(tokenId);
        if (from != address(0)) {
            Item storage item = _items[tokenId];
            Edition storage e = _editions[item.editionId - 1];
            if (to == address(0)) revert ItemLocked(tokenId);
            if (e.policy == TransferPolicy.IssuerMediated) {
                if (!_issuerMove) revert ItemLocked(tokenId);
            } else if (e.policy == TransferPolicy.GiftAfterLockup) {
                uint256 unlocksAt = uint256(item.receivedAt) + e.lockup;
                if (block.timestamp < unlocksAt) revert ItemInLockup(tokenId, unlocksAt);
                if (!(item.gifts < e.maxGifts)) revert GiftLimitReached(tokenId);
                ++item.gifts;
            } else {
                revert ItemLocked(tokenId);
            }
            item.receivedAt = uint40(block.timestamp);
            if (_custodial.get(tokenId)) _custodial.unset(tokenId);
        }
        return super._update(to, tokenId, auth);
    }

    function _mintItem(uint256 editionId, address holder) private returns (uint256 tokenId) {
        Edition storage e = _editions[_editionIndex(editionId)];
        uint32 serial = e.minted + 1;
        if (serial > e.maxSupply) revert EditionSoldOut(editionId);
        e.minted = serial;
        tokenId = _nextTokenId;
        _nextTokenId = tokenId + 1;
        _items[tokenId] = Item({editionId: uint64(editionId), serial: serial, receivedAt: uint40(block.timestamp), gifts: 0});
        emit ItemMinted(editionId, tokenId, holder, serial);
        if (e.policy != TransferPolicy.GiftAfterLockup) emit Locked(tokenId);
        _safeMint(holder, tokenId);
    }

    function _editionIndex(uint256 editionId) private view returns (uint256) {
        if (editionId == 0 || editionId > _editions.length) revert EditionNotFound(editionId);
        return editionId - 1;
    }
}
