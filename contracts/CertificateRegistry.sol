// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ICertificateRegistry} from "./interfaces/ICertificateRegistry.sol";
import {IERC5192} from "./interfaces/IERC5192.sol";
import {IERC5484} from "./interfaces/IERC5484.sol";
import {IERC7572} from "./interfaces/IERC7572.sol";
import {IIssuerRegistry} from "./interfaces/IIssuerRegistry.sol";
import {IpfsCid} from "./libraries/IpfsCid.sol";

/// @title Hallmark certificate registry
/// @notice Non-transferable ERC-721 certificates (ERC-5192, ERC-5484, ERC-4906, ERC-7572) whose token id is the
/// sha-256 of the certificate document, revocable with an RFC 5280 reason, suspendable, reissuable after a lost
/// wallet.
/// @dev Storage per certificate is one word keyed by its token id besides the holder's balance, as for a plain
/// ERC-721: holder, validUntil, issuedAt and flags packed. Because the token id is the document digest and the
/// document names the request id, that one word is at once the digest, the record and the single-use guard: a
/// retried request builds the same document, finds the word taken and reverts with {RequestAlreadyUsed}. The
/// metadata URI is never stored: {tokenURI} derives `ipfs://<CIDv1 raw sha2-256>` from the digest, which is the
/// CID the platform pins the document under. Only what occurs later is stored apart, for the tokens it touches:
/// a corrected digest, a revocation reason, recovery links.
contract CertificateRegistry is
    IERC721Metadata,
    IERC721Errors,
    IERC4906,
    AccessControlDefaultAdminRules,
    Pausable,
    ICertificateRegistry,
    IERC5192,
    IERC5484,
    IERC7572
{
    /// @notice Role of the keys that issue, revoke, suspend, reissue and correct metadata.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice Role of hot keys that only issue (under the mint cap) and revoke.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    /// @notice Role of the keys that pause and unpause issuance.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Delay of a default admin transfer or delay change scheduled by the admin.
    uint48 public constant INITIAL_ADMIN_DELAY = 2 days;

    // The token word: holder in bits 0..159, validUntil 160..199, issuedAt 200..239, flags 240..247.
    uint256 private constant _VALID_UNTIL_SHIFT = 160;
    uint256 private constant _ISSUED_AT_SHIFT = 200;
    uint256 private constant _FLAGS_SHIFT = 240;
    uint256 private constant _ADDRESS_MASK = (1 << 160) - 1;
    uint256 private constant _UINT40_MASK = (1 << 40) - 1;

    uint8 private constant _REVOKED = 1;
    uint8 private constant _SUSPENDED = 1 << 1;
    uint8 private constant _SUPERSEDED = 1 << 2;
    uint8 private constant _BURNED = 1 << 3;
    uint8 private constant _DIGEST_UPDATED = 1 << 4;
    uint8 private constant _BURN_AUTH_SHIFT = 6; // two bits

    /// @dev Bytes per {issueBatch} entry: digest (32), holder (20), validUntil (5).
    uint256 private constant _ENTRY_SIZE = 57;
    /// @dev keccak256("Transfer(address,address,uint256)"), logged by the batch loop in assembly.
    bytes32 private constant _TRANSFER_TOPIC = 0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef;

    /// @dev Mint cap of minters: one storage word.
    struct MintCap {
        uint64 cap;
        uint32 period;
        uint64 windowStart;
        uint64 used;
    }

    string private _name;
    string private _symbol;
    // These two share a word, read once per issuing transaction.
    IIssuerRegistry private _issuerRegistry;
    BurnAuth private _defaultBurnAuth = BurnAuth.Neither;
    MintCap private _mintCap;

    /// @dev The token word (see the shifts above); zero exactly when the token id was never issued (issuedAt is
    /// never zero), so it stays non-zero after a burn and the digest can never be issued again.
    mapping(uint256 tokenId => uint256 word) private _tokens;
    mapping(address holder => uint256) private _balances;
    mapping(uint256 tokenId => bytes32) private _updatedDigests;
    /// @dev The token each corrected document belongs to, so a corrected document leads to its certificate.
    mapping(bytes32 digest => uint256 tokenId) private _correctedTokens;
    mapping(uint256 tokenId => RevocationReason) private _reasons;
    mapping(uint256 tokenId => uint256) private _supersededBy;
    mapping(uint256 tokenId => uint256) private _replaces;
    /// @dev Read by {contractURI} only, never on an issuing path.
    string private _contractURI;

    /// @param name_ ERC-721 collection name.
    /// @param symbol_ ERC-721 collection symbol.
    /// @param admin Holder of the default admin role (two-step transfer, {INITIAL_ADMIN_DELAY}) and, at first,
    /// of the pauser role.
    /// @param issuers Holders of the issuer role (the worker's signing keys); at least one, none the zero address.
    /// @param issuerRegistry_ The platform's issuer registry to link now (as {setIssuerRegistry} would, emitting
    /// {IssuerRegistrySet}), or the zero address to link none yet.
    /// @param contractURI_ The ERC-7572 contract-level metadata URI, or a base ending in `/` to which
    /// {contractURI} appends this contract's address (not known before creation), or empty for none yet.
    /// @dev Everything a deployment needs is set here, so that creating a registry is one transaction: a sender that
    /// crashes mid-deployment has one stored transaction to re-broadcast, never a half-configured contract.
    constructor(
        string memory name_,
        string memory symbol_,
        address admin,
        address[] memory issuers,
        IIssuerRegistry issuerRegistry_,
        string memory contractURI_
    ) AccessControlDefaultAdminRules(INITIAL_ADMIN_DELAY, admin) {
        _name = name_;
        _symbol = symbol_;
        uint256 count = issuers.length;
        if (count == 0) revert IssuersEmpty();
        for (uint256 i = 0; i < count; ++i) {
            if (issuers[i] == address(0)) revert IssuerInvalid(address(0));
            _grantRole(ISSUER_ROLE, issuers[i]);
        }
        _grantRole(PAUSER_ROLE, admin);
        if (address(issuerRegistry_) != address(0)) {
            _issuerRegistry = issuerRegistry_;
            emit IssuerRegistrySet(address(issuerRegistry_));
        }
        // No {ContractURIUpdated} here: indexers read {contractURI} of a contract they discover anyway.
        if (bytes(contractURI_).length != 0) _contractURI = contractURI_;
    }

    // ------------------------------------------------------------------------------------------------------
    // Issuing

    /// @inheritdoc ICertificateRegistry
    function issue(bytes32 digest, address holder, uint40 validUntil)
        external
        whenNotPaused
        returns (uint256 tokenId)
    {
        _authorizeIssue(1);
        _requireIssuerActive();
        BurnAuth auth = _defaultBurnAuth;
        tokenId = _mint(digest, holder, validUntil, _stamp(auth));
        emit CertificatesIssued(msg.sender, 1, auth);
    }

    /// @inheritdoc ICertificateRegistry
    /// @dev The loop is assembly: per certificate it does what {_mint} does (same checks, same word, same
    /// {Transfer}) without Solidity's calldata slicing and checked arithmetic, which would cost more than the
    /// calldata itself.
    function issueBatch(bytes calldata certificates) external whenNotPaused {
        uint256 length = certificates.length;
        if (length == 0) revert BatchEmpty();
        if (length % _ENTRY_SIZE != 0) revert BatchMalformed(length);
        uint256 count = length / _ENTRY_SIZE;
        _authorizeIssue(count);
        _requireIssuerActive();
        BurnAuth auth = _defaultBurnAuth;
        uint256 stamp = _stamp(auth);
        bytes4 digestInvalid = DigestInvalid.selector;
        bytes4 holderInvalid = HolderInvalid.selector;
        bytes4 alreadyUsed = RequestAlreadyUsed.selector;
        assembly ("memory-safe") {
            let tokensSlot := _tokens.slot
            let balancesSlot := _balances.slot
            let end := add(certificates.offset, length)
            for { let p := certificates.offset } lt(p, end) { p := add(p, _ENTRY_SIZE) } {
                let digest := calldataload(p)
                // Holder (20 bytes), validUntil (5), then 7 bytes of the next entry (or zeros past the end).
                let rest := calldataload(add(p, 32))
                let holder := shr(96, rest)
                if iszero(digest) {
                    mstore(0, digestInvalid)
                    revert(0, 4)
                }
                if iszero(holder) {
                    mstore(0, holderInvalid)
                    mstore(4, 0)
                    revert(0, 36)
                }
                mstore(0, digest)
                mstore(32, tokensSlot)
                let slot := keccak256(0, 64)
                if sload(slot) {
                    mstore(0, alreadyUsed)
                    mstore(4, digest)
                    revert(0, 36)
                }
                sstore(slot, or(or(holder, shl(_VALID_UNTIL_SHIFT, and(shr(56, rest), _UINT40_MASK))), stamp))
                mstore(0, holder)
                mstore(32, balancesSlot)
                let counter := keccak256(0, 64)
                sstore(counter, add(sload(counter), 1))
                log4(0, 0, _TRANSFER_TOPIC, 0, holder, digest)
            }
        }
        emit CertificatesIssued(msg.sender, count, auth);
    }

    /// @inheritdoc ICertificateRegistry
    function reissue(uint256 previousTokenId, bytes32 digest, address holder, uint40 validUntil)
        external
        whenNotPaused
        onlyRole(ISSUER_ROLE)
        returns (uint256 tokenId)
    {
        _requireIssuerActive();
        uint256 previous = _existing(previousTokenId);
        uint8 flags = _flagsOf(previous);
        if (flags & (_REVOKED | _BURNED) != 0) revert CertificateAlreadyRevoked(previousTokenId);
        if (flags & _SUPERSEDED != 0) revert CertificateAlreadySuperseded(previousTokenId);
        _setFlags(previousTokenId, previous, flags | _SUPERSEDED);
        tokenId = uint256(digest);
        _supersededBy[previousTokenId] = tokenId;
        _replaces[tokenId] = previousTokenId;
        emit CertificateReissued(previousTokenId, tokenId, holder);
        emit MetadataUpdate(previousTokenId);
        BurnAuth auth = _defaultBurnAuth;
        _mint(digest, holder, validUntil, _stamp(auth));
        emit CertificatesIssued(msg.sender, 1, auth);
    }

    // ------------------------------------------------------------------------------------------------------
    // Revocation, suspension, burning, metadata

    /// @inheritdoc ICertificateRegistry
    function revoke(uint256 tokenId, RevocationReason reason) external {
        _revoke(tokenId, reason);
        emit MetadataUpdate(tokenId);
    }

    /// @inheritdoc ICertificateRegistry
    function revokeWithApprovals(uint256 tokenId, RevocationReason reason, bytes32 approvalsHash) external {
        if (approvalsHash == bytes32(0)) revert ApprovalsHashEmpty();
        _revoke(tokenId, reason);
        emit RevocationApproved(tokenId, approvalsHash);
        emit MetadataUpdate(tokenId);
    }

    /// @inheritdoc ICertificateRegistry
    function suspend(uint256 tokenId) external onlyRole(ISSUER_ROLE) {
        uint256 word = _existing(tokenId);
        uint8 flags = _flagsOf(word);
        if (flags & (_REVOKED | _BURNED) != 0) revert CertificateAlreadyRevoked(tokenId);
        if (flags & _SUSPENDED != 0) revert CertificateAlreadySuspended(tokenId);
        _setFlags(tokenId, word, flags | _SUSPENDED);
        emit CertificateSuspended(tokenId, msg.sender);
        emit MetadataUpdate(tokenId);
    }

    /// @inheritdoc ICertificateRegistry
    function unsuspend(uint256 tokenId) external onlyRole(ISSUER_ROLE) {
        uint256 word = _existing(tokenId);
        uint8 flags = _flagsOf(word);
        if (flags & (_REVOKED | _BURNED) != 0) revert CertificateAlreadyRevoked(tokenId);
        if (flags & _SUSPENDED == 0) revert CertificateNotSuspended(tokenId);
        _setFlags(tokenId, word, flags & ~_SUSPENDED);
        emit CertificateUnsuspended(tokenId, msg.sender);
        emit MetadataUpdate(tokenId);
    }

    /// @inheritdoc ICertificateRegistry
    function burn(uint256 tokenId) external {
        uint256 word = _existing(tokenId);
        address holder = _ownerOf(word);
        uint8 flags = _flagsOf(word);
        BurnAuth auth = BurnAuth((flags >> _BURN_AUTH_SHIFT) & 3);
        bool allowed;
        if (holder != address(0)) {
            if (msg.sender == holder) allowed = auth == BurnAuth.OwnerOnly || auth == BurnAuth.Both;
            else if (hasRole(ISSUER_ROLE, msg.sender)) allowed = auth == BurnAuth.IssuerOnly || auth == BurnAuth.Both;
        }
        if (!allowed) revert BurnNotAllowed(tokenId, msg.sender);
        emit CertificateBurned(tokenId, holder, msg.sender);
        emit MetadataUpdate(tokenId);
        _setFlags(tokenId, word, flags | _BURNED);
        _update(tokenId, address(0), address(0));
    }

    /// @inheritdoc ICertificateRegistry
    /// @dev The token id stays the digest given at issue: the new digest is stored apart and the word flagged
    /// to read it from there.
    function updateMetadata(uint256 tokenId, bytes32 digest) external whenNotPaused onlyRole(ISSUER_ROLE) {
        uint256 word = _existing(tokenId);
        uint8 flags = _flagsOf(word);
        if (flags & (_REVOKED | _BURNED) != 0) revert CertificateAlreadyRevoked(tokenId);
        if (digest == bytes32(0)) revert DigestInvalid();
        _updatedDigests[tokenId] = digest;
        _correctedTokens[digest] = tokenId;
        if (flags & _DIGEST_UPDATED == 0) _setFlags(tokenId, word, flags | _DIGEST_UPDATED);
        emit CertificateMetadataUpdated(tokenId, digest);
        emit MetadataUpdate(tokenId);
    }

    /// @dev What both revocations share: the caller's role, the token, its flag and reason, {CertificateRevoked}.
    function _revoke(uint256 tokenId, RevocationReason reason) private {
        if (!hasRole(ISSUER_ROLE, msg.sender) && !hasRole(MINTER_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, ISSUER_ROLE);
        }
        uint256 word = _existing(tokenId);
        uint8 flags = _flagsOf(word);
        if (flags & _REVOKED != 0) revert CertificateAlreadyRevoked(tokenId);
        _setFlags(tokenId, word, flags | _REVOKED);
        _reasons[tokenId] = reason;
        emit CertificateRevoked(tokenId, reason, msg.sender);
    }

    // ------------------------------------------------------------------------------------------------------
    // Configuration

    /// @inheritdoc ICertificateRegistry
    function setIssuerRegistry(IIssuerRegistry issuerRegistry_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(_issuerRegistry) != address(0)) revert IssuerRegistryAlreadySet(address(_issuerRegistry));
        if (address(issuerRegistry_) == address(0)) revert IssuerInactive(address(this));
        _issuerRegistry = issuerRegistry_;
        emit IssuerRegistrySet(address(issuerRegistry_));
        // From now on the operator's freezes there show in {status}: any token may read otherwise. Token ids are
        // digests, so the range is every id there is.
        emit BatchMetadataUpdate(1, type(uint256).max);
    }

    /// @inheritdoc ICertificateRegistry
    function setContractURI(string calldata uri) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _contractURI = uri;
        emit ContractURIUpdated();
    }

    /// @inheritdoc ICertificateRegistry
    function setMintCap(uint64 cap, uint32 period) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (cap != 0 && period == 0) revert MintCapInvalid(cap, period);
        _mintCap = MintCap({cap: cap, period: period, windowStart: 0, used: 0});
        emit MintCapSet(cap, period);
    }

    /// @inheritdoc ICertificateRegistry
    function setDefaultBurnAuth(BurnAuth burnAuth_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _defaultBurnAuth = burnAuth_;
        emit DefaultBurnAuthSet(burnAuth_);
    }

    /// @inheritdoc ICertificateRegistry
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc ICertificateRegistry
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------------------------------------------
    // Views

    /// @inheritdoc ICertificateRegistry
    /// @dev Precedence: Unknown, then Revoked (revoked or burned), Superseded, Expired, Suspended (by the
    /// issuer, or frozen by the platform operator in the linked issuer registry), Valid.
    function status(uint256 tokenId) external view returns (Status) {
        uint256 word = _tokens[tokenId];
        if (word == 0) return Status.Unknown;
        uint8 flags = _flagsOf(word);
        if (flags & (_REVOKED | _BURNED) != 0) return Status.Revoked;
        if (flags & _SUPERSEDED != 0) return Status.Superseded;
        uint256 validUntil = (word >> _VALID_UNTIL_SHIFT) & _UINT40_MASK;
        if (validUntil != 0 && block.timestamp > validUntil) return Status.Expired;
        if (flags & _SUSPENDED != 0) return Status.Suspended;
        IIssuerRegistry registry = _issuerRegistry;
        if (address(registry) != address(0) && registry.isTokenFrozen(address(this), tokenId)) {
            return Status.Suspended;
        }
        return Status.Valid;
    }

    /// @inheritdoc ICertificateRegistry
    /// @dev `revoked` is also true for a burned certificate.
    function certificate(uint256 tokenId) external view returns (CertificateRecord memory) {
        uint256 word = _existing(tokenId);
        uint8 flags = _flagsOf(word);
        return CertificateRecord({
            digest: _currentDigest(tokenId, flags),
            issuedAt: uint64((word >> _ISSUED_AT_SHIFT) & _UINT40_MASK),
            validUntil: uint64((word >> _VALID_UNTIL_SHIFT) & _UINT40_MASK),
            revoked: flags & (_REVOKED | _BURNED) != 0,
            revocationReason: _reasons[tokenId]
        });
    }

    /// @inheritdoc ICertificateRegistry
    function tokenOfDocument(bytes32 digest) external view returns (uint256) {
        if (_tokens[uint256(digest)] != 0) return uint256(digest);
        return _correctedTokens[digest];
    }

    /// @inheritdoc ICertificateRegistry
    function supersededBy(uint256 tokenId) external view returns (uint256) {
        return _supersededBy[tokenId];
    }

    /// @inheritdoc ICertificateRegistry
    function replaces(uint256 tokenId) external view returns (uint256) {
        return _replaces[tokenId];
    }

    /// @inheritdoc ICertificateRegistry
    function isSuspended(uint256 tokenId) external view returns (bool) {
        return _flagsOf(_tokens[tokenId]) & _SUSPENDED != 0;
    }

    /// @inheritdoc ICertificateRegistry
    function defaultBurnAuth() external view returns (BurnAuth) {
        return _defaultBurnAuth;
    }

    /// @inheritdoc ICertificateRegistry
    function issuerRegistry() external view returns (IIssuerRegistry) {
        return _issuerRegistry;
    }

    /// @inheritdoc ICertificateRegistry
    function mintCap() external view returns (uint64 cap, uint32 period, uint256 remaining) {
        MintCap memory m = _mintCap;
        if (m.cap == 0) return (0, 0, type(uint256).max);
        uint256 used = block.timestamp < m.windowStart + m.period ? m.used : 0;
        return (m.cap, m.period, m.cap - used);
    }

    /// @notice ERC-5192: every certificate is locked for good; no {Locked} event is emitted at mint (the standard
    /// only recommends it), this answer is the authority.
    /// @param tokenId The certificate; reverts with {ERC721NonexistentToken} when not owned.
    /// @return Always true.
    function locked(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        return true;
    }

    /// @inheritdoc IERC5484
    function burnAuth(uint256 tokenId) external view returns (BurnAuth) {
        return BurnAuth((_flagsOf(_existing(tokenId)) >> _BURN_AUTH_SHIFT) & 3);
    }

    /// @notice The metadata URI of a certificate: `ipfs://` and the CIDv1 (raw codec, sha2-256) of its document
    /// digest, the token id or the corrected digest; derived, never stored.
    /// @param tokenId The certificate; reverts with {ERC721NonexistentToken} when not owned.
    /// @return The URI.
    function tokenURI(uint256 tokenId) external view returns (string memory) {
        uint256 word = _tokens[tokenId];
        if (_ownerOf(word) == address(0)) revert ERC721NonexistentToken(tokenId);
        return IpfsCid.uriOf(_currentDigest(tokenId, _flagsOf(word)));
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

    /// @inheritdoc IERC721Metadata
    function name() external view returns (string memory) {
        return _name;
    }

    /// @inheritdoc IERC721Metadata
    function symbol() external view returns (string memory) {
        return _symbol;
    }

    /// @inheritdoc IERC721
    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(address(0));
        return _balances[owner];
    }

    /// @inheritdoc IERC721
    function ownerOf(uint256 tokenId) external view returns (address) {
        return _requireOwned(tokenId);
    }

    /// @notice No approvals exist on bound tokens: always the zero address for an owned token.
    /// @param tokenId The certificate; reverts with {ERC721NonexistentToken} when not owned.
    /// @return The zero address.
    function getApproved(uint256 tokenId) external view returns (address) {
        _requireOwned(tokenId);
        return address(0);
    }

    /// @notice No operator approvals exist on bound tokens.
    /// @return Always false.
    function isApprovedForAll(address, address) external pure returns (bool) {
        return false;
    }

    /// @notice ERC-165: ERC-721, ERC-721 Metadata, ERC-4906, ERC-5192, ERC-5484, AccessControl (with default
    /// admin rules). ERC-7572 defines no interface id: {contractURI} is found by calling it.
    /// @param interfaceId The interface to ask about.
    /// @return True when the interface is implemented.
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(AccessControlDefaultAdminRules, IERC165)
        returns (bool)
    {
        return interfaceId == type(IERC721).interfaceId || interfaceId == type(IERC721Metadata).interfaceId
            || interfaceId == bytes4(0x49064906) || interfaceId == type(IERC5192).interfaceId
            || interfaceId == type(IERC5484).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------------------------------------------
    // Transfer and approval paths: all closed

    /// @notice Disabled: certificates are bound to their holder.
    /// @dev Always reverts with {CertificateLocked}.
    function approve(address, uint256 tokenId) external pure {
        revert CertificateLocked(tokenId);
    }

    /// @notice Disabled: certificates are bound to their holder.
    /// @dev Always reverts with {ApprovalsDisabled}.
    function setApprovalForAll(address, bool) external pure {
        revert ApprovalsDisabled();
    }

    /// @notice Disabled: certificates are bound to their holder.
    /// @dev Reverts with {CertificateLocked}, or {ERC721NonexistentToken} for a token that is not owned.
    function transferFrom(address, address to, uint256 tokenId) public {
        _update(tokenId, to, msg.sender);
    }

    /// @notice Disabled: certificates are bound to their holder.
    /// @dev As {transferFrom}.
    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        transferFrom(from, to, tokenId);
    }

    /// @notice Disabled: certificates are bound to their holder.
    /// @dev As {transferFrom}.
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes calldata) external {
        transferFrom(from, to, tokenId);
    }

    // ------------------------------------------------------------------------------------------------------
    // Internals

    /// @dev The single choke point of every ownership change but the batch loop's mints (which write the word
    /// whole). Only a burn (to the zero address, no `auth`) passes here; any call on behalf of an account
    /// (`auth` set) is a transfer attempt and reverts, as does any move between two non-zero addresses.
    function _update(uint256 tokenId, address to, address auth) internal returns (address from) {
        uint256 word = _tokens[tokenId];
        from = _ownerOf(word);
        if (auth != address(0)) {
            if (from == address(0)) revert ERC721NonexistentToken(tokenId);
            revert CertificateLocked(tokenId);
        }
        if (from != address(0) && to != address(0)) revert CertificateLocked(tokenId);
        if (from != address(0)) {
            unchecked {
                --_balances[from];
            }
        }
        if (to != address(0)) {
            unchecked {
                ++_balances[to];
            }
        }
        _tokens[tokenId] = (word & ~_ADDRESS_MASK) | uint160(to);
        emit Transfer(from, to, tokenId);
    }

    /// @dev Mints one certificate: what the {issueBatch} loop does per entry. `stamp` is issuedAt and flags.
    function _mint(bytes32 digest, address holder, uint40 validUntil, uint256 stamp) private returns (uint256 tokenId) {
        if (digest == bytes32(0)) revert DigestInvalid();
        if (holder == address(0)) revert HolderInvalid(address(0));
        tokenId = uint256(digest);
        if (_tokens[tokenId] != 0) revert RequestAlreadyUsed(digest);
        _tokens[tokenId] = uint256(uint160(holder)) | (uint256(validUntil) << _VALID_UNTIL_SHIFT) | stamp;
        unchecked {
            ++_balances[holder];
        }
        emit Transfer(address(0), holder, tokenId);
    }

    /// @dev The part of a new token's word its issuing transaction shares: issuedAt (now) and the flags (the
    /// burn authorization).
    function _stamp(BurnAuth auth) private view returns (uint256) {
        // A 40-bit unix time lasts until year 36812.
        return ((block.timestamp & _UINT40_MASK) << _ISSUED_AT_SHIFT)
            | (uint256(uint8(auth)) << (_FLAGS_SHIFT + _BURN_AUTH_SHIFT));
    }

    function _ownerOf(uint256 word) private pure returns (address) {
        return address(uint160(word));
    }

    function _flagsOf(uint256 word) private pure returns (uint8) {
        return uint8(word >> _FLAGS_SHIFT);
    }

    function _setFlags(uint256 tokenId, uint256 word, uint8 flags) private {
        _tokens[tokenId] = (word & ~(uint256(0xff) << _FLAGS_SHIFT)) | (uint256(flags) << _FLAGS_SHIFT);
    }

    function _currentDigest(uint256 tokenId, uint8 flags) private view returns (bytes32) {
        return flags & _DIGEST_UPDATED != 0 ? _updatedDigests[tokenId] : bytes32(tokenId);
    }

    /// @dev Checks the caller may issue `count` certificates, and counts a minter's against the cap.
    function _authorizeIssue(uint256 count) private {
        if (hasRole(ISSUER_ROLE, msg.sender)) return;
        if (!hasRole(MINTER_ROLE, msg.sender)) revert AccessControlUnauthorizedAccount(msg.sender, ISSUER_ROLE);
        MintCap memory m = _mintCap;
        if (m.cap == 0) return;
        if (block.timestamp > m.windowStart + m.period - 1) {
            m.windowStart = uint64(block.timestamp - (block.timestamp % m.period));
            m.used = 0;
        }
        uint256 remaining = m.cap - m.used;
        if (count > remaining) revert MintCapExceeded(count, remaining);
        m.used += uint64(count);
        _mintCap = m;
    }

    function _requireIssuerActive() private view {
        IIssuerRegistry registry = _issuerRegistry;
        if (address(registry) != address(0) && !registry.canIssue(address(this))) revert IssuerInactive(address(this));
    }

    /// @dev The word of an issued token (burned included), or a {CertificateNotFound} revert.
    function _existing(uint256 tokenId) private view returns (uint256 word) {
        word = _tokens[tokenId];
        if (word == 0) revert CertificateNotFound(tokenId);
    }

    function _requireOwned(uint256 tokenId) private view returns (address owner) {
        owner = _ownerOf(_tokens[tokenId]);
        if (owner == address(0)) revert ERC721NonexistentToken(tokenId);
    }
}
