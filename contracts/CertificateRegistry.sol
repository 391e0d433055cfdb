// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ICertificateRegistry} from "./interfaces/ICertificateRegistry.sol";
import {IERC5192} from "./interfaces/IERC5192.sol";
import {IERC5484} from "./interfaces/IERC5484.sol";
import {IIssuerRegistry} from "./interfaces/IIssuerRegistry.sol";
import {IpfsCid} from "./libraries/IpfsCid.sol";

/// @title Hallmark certificate registry
/// @notice Non-transferable ERC-721 certificates (ERC-5192, ERC-5484, ERC-4906), issued against single-use
/// request ids, revocable with an RFC 5280 reason, suspendable, reissuable after a lost wallet.
/// @dev Storage per certificate is four fresh slots besides the holder's balance: one packed word (holder,
/// issue time, expiry, flags, revocation reason), the digest, the request id, and the request id's index entry.
/// The metadata URI is not stored when it is `ipfs://<CIDv1 raw sha256>` of the digest (Hallmark's case): it
/// is rebuilt from the digest. Any other URI is stored as given.
contract CertificateRegistry is
    IERC721Metadata,
    IERC721Errors,
    IERC4906,
    AccessControlDefaultAdminRules,
    Pausable,
    ICertificateRegistry,
    IERC5192,
    IERC5484
{
    /// @notice Role of the keys that issue, revoke, suspend, reissue and correct metadata.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice Role of hot keys that only issue (under the mint cap) and revoke.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    /// @notice Role of the keys that pause and unpause issuance.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Delay of a default admin transfer or delay change scheduled by the admin.
    uint48 public constant INITIAL_ADMIN_DELAY = 2 days;

    uint8 private constant _REVOKED = 1;
    uint8 private constant _SUSPENDED = 1 << 1;
    uint8 private constant _SUPERSEDED = 1 << 2;
    uint8 private constant _BURNED = 1 << 3;
    uint8 private constant _URI_STORED = 1 << 4;
    uint8 private constant _BURN_AUTH_SHIFT = 5; // two bits

    /// @dev One storage word per certificate.
    struct Token {
        address owner; // zero before mint and after burn
        uint40 issuedAt; // non-zero for every issued token, burned or not
        uint40 validUntil;
        uint8 flags;
        RevocationReason reason;
    }

    /// @dev Mint cap of minters: one storage word.
    struct MintCap {
        uint64 cap;
        uint32 period;
        uint64 windowStart;
        uint64 used;
    }

    string private _name;
    string private _symbol;
    uint256 private _nextTokenId = 1;
    IIssuerRegistry private _issuerRegistry;
    BurnAuth private _defaultBurnAuth = BurnAuth.Neither;
    MintCap private _mintCap;

    mapping(uint256 tokenId => Token) private _tokens;
    mapping(uint256 tokenId => bytes32) private _digests;
    mapping(uint256 tokenId => bytes32) private _requestIds;
    mapping(bytes32 requestId => uint256 tokenId) private _tokenOfRequest;
    mapping(address holder => uint256) private _balances;
    mapping(uint256 tokenId => string) private _uris;
    mapping(uint256 tokenId => uint256) private _supersededBy;
    mapping(uint256 tokenId => uint256) private _replaces;

    /// @param name_ ERC-721 collection name.
    /// @param symbol_ ERC-721 collection symbol.
    /// @param admin Holder of the default admin role (two-step transfer, {INITIAL_ADMIN_DELAY}) and, at first,
    /// of the pauser role.
    /// @param issuer First holder of the issuer role (the worker's signing key).
    constructor(string memory name_, string memory symbol_, address admin, address issuer)
        AccessControlDefaultAdminRules(INITIAL_ADMIN_DELAY, admin)
    {
        _name = name_;
        _symbol = symbol_;
        _grantRole(ISSUER_ROLE, issuer);
        _grantRole(PAUSER_ROLE, admin);
    }

    // ------------------------------------------------------------------------------------------------------
    // Issuing

    /// @inheritdoc ICertificateRegistry
    function issue(IssueRequest calldata request) external whenNotPaused returns (uint256 tokenId) {
        _authorizeIssue(1);
        _requireIssuerActive();
        tokenId = _nextTokenId;
        _nextTokenId = tokenId + 1;
        _issue(tokenId, request);
    }

    /// @inheritdoc ICertificateRegistry
    function issueBatch(IssueRequest[] calldata requests) external whenNotPaused returns (uint256 firstTokenId) {
        uint256 count = requests.length;
        _authorizeIssue(count);
        if (count == 0) revert BatchEmpty();
        _requireIssuerActive();
        firstTokenId = _nextTokenId;
        _nextTokenId = firstTokenId + count;
        for (uint256 i = 0; i < count; ++i) {
            _issue(firstTokenId + i, requests[i]);
        }
    }

    /// @inheritdoc ICertificateRegistry
    function reissue(uint256 previousTokenId, IssueRequest calldata request)
        external
        whenNotPaused
        onlyRole(ISSUER_ROLE)
        returns (uint256 tokenId)
    {
        _requireIssuerActive();
        Token storage previous = _existing(previousTokenId);
        uint8 flags = previous.flags;
        if (flags & (_REVOKED | _BURNED) != 0) revert CertificateAlreadyRevoked(previousTokenId);
        if (flags & _SUPERSEDED != 0) revert CertificateAlreadySuperseded(previousTokenId);
        previous.flags = flags | _SUPERSEDED;
        tokenId = _nextTokenId;
        _nextTokenId = tokenId + 1;
        _supersededBy[previousTokenId] = tokenId;
        _replaces[tokenId] = previousTokenId;
        emit CertificateReissued(previousTokenId, tokenId, request.holder);
        _issue(tokenId, request);
    }

    // ------------------------------------------------------------------------------------------------------
    // Revocation, suspension, burning, metadata

    /// @inheritdoc ICertificateRegistry
    function revoke(uint256 tokenId, RevocationReason reason) external {
        if (!hasRole(ISSUER_ROLE, msg.sender) && !hasRole(MINTER_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, ISSUER_ROLE);
        }
        Token storage token = _existing(tokenId);
        uint8 flags = token.flags;
        if (flags & _REVOKED != 0) revert CertificateAlreadyRevoked(tokenId);
        token.flags = flags | _REVOKED;
        token.reason = reason;
        emit CertificateRevoked(tokenId, reason, msg.sender);
    }

    /// @inheritdoc ICertificateRegistry
    function suspend(uint256 tokenId) external onlyRole(ISSUER_ROLE) {
        Token storage token = _existing(tokenId);
        uint8 flags = token.flags;
        if (flags & (_REVOKED | _BURNED) != 0) revert CertificateAlreadyRevoked(tokenId);
        if (flags & _SUSPENDED != 0) revert CertificateAlreadySuspended(tokenId);
        token.flags = flags | _SUSPENDED;
        emit CertificateSuspended(tokenId, msg.sender);
    }

    /// @inheritdoc ICertificateRegistry
    function unsuspend(uint256 tokenId) external onlyRole(ISSUER_ROLE) {
        Token storage token = _existing(tokenId);
        uint8 flags = token.flags;
        if (flags & (_REVOKED | _BURNED) != 0) revert CertificateAlreadyRevoked(tokenId);
        if (flags & _SUSPENDED == 0) revert CertificateNotSuspended(tokenId);
        token.flags = flags & ~_SUSPENDED;
        emit CertificateUnsuspended(tokenId, msg.sender);
    }

    /// @inheritdoc ICertificateRegistry
    function burn(uint256 tokenId) external {
        Token storage token = _existing(tokenId);
        address holder = token.owner;
        BurnAuth auth = BurnAuth((token.flags >> _BURN_AUTH_SHIFT) & 3);
        bool allowed;
        if (holder != address(0)) {
            if (msg.sender == holder) allowed = auth == BurnAuth.OwnerOnly || auth == BurnAuth.Both;
            else if (hasRole(ISSUER_ROLE, msg.sender)) allowed = auth == BurnAuth.IssuerOnly || auth == BurnAuth.Both;
        }
        if (!allowed) revert BurnNotAllowed(tokenId, msg.sender);
        token.flags |= _BURNED;
        emit CertificateBurned(tokenId, holder, msg.sender);
        _update(address(0), tokenId, address(0));
    }

    /// @inheritdoc ICertificateRegistry
    function updateMetadata(uint256 tokenId, string calldata uri, bytes32 digest)
        external
        whenNotPaused
        onlyRole(ISSUER_ROLE)
    {
        Token storage token = _existing(tokenId);
        uint8 flags = token.flags;
        if (flags & (_REVOKED | _BURNED) != 0) revert CertificateAlreadyRevoked(tokenId);
        _digests[tokenId] = digest;
        if (IpfsCid.isUriOf(uri, digest)) {
            if (flags & _URI_STORED != 0) {
                delete _uris[tokenId];
                token.flags = flags & ~_URI_STORED;
            }
        } else {
            _uris[tokenId] = uri;
            token.flags = flags | _URI_STORED;
        }
        emit CertificateMetadataUpdated(tokenId, uri, digest);
        emit MetadataUpdate(tokenId);
    }

    // ------------------------------------------------------------------------------------------------------
    // Configuration

    /// @inheritdoc ICertificateRegistry
    function setIssuerRegistry(IIssuerRegistry issuerRegistry_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(_issuerRegistry) != address(0)) revert IssuerRegistryAlreadySet(address(_issuerRegistry));
        if (address(issuerRegistry_) == address(0)) revert IssuerInactive(address(this));
        _issuerRegistry = issuerRegistry_;
        emit IssuerRegistrySet(address(issuerRegistry_));
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
        Token storage token = _tokens[tokenId];
        uint256 issuedAt = token.issuedAt;
        if (issuedAt == 0) return Status.Unknown;
        uint8 flags = token.flags;
        if (flags & (_REVOKED | _BURNED) != 0) return Status.Revoked;
        if (flags & _SUPERSEDED != 0) return Status.Superseded;
        uint256 validUntil = token.validUntil;
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
        Token storage token = _existing(tokenId);
        return CertificateRecord({
            requestId: _requestIds[tokenId],
            digest: _digests[tokenId],
            issuedAt: token.issuedAt,
            validUntil: token.validUntil,
            revoked: token.flags & (_REVOKED | _BURNED) != 0,
            revocationReason: token.reason
        });
    }

    /// @inheritdoc ICertificateRegistry
    function tokenOfRequest(bytes32 requestId) external view returns (uint256) {
        return _tokenOfRequest[requestId];
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
        return _tokens[tokenId].flags & _SUSPENDED != 0;
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

    /// @inheritdoc IERC5192
    function locked(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        return true;
    }

    /// @inheritdoc IERC5484
    function burnAuth(uint256 tokenId) external view returns (BurnAuth) {
        return BurnAuth((_existing(tokenId).flags >> _BURN_AUTH_SHIFT) & 3);
    }

    /// @notice The metadata URI of a certificate: the one given at issue (or at the last correction).
    /// @param tokenId The certificate; reverts with {ERC721NonexistentToken} when not owned.
    /// @return The URI.
    function tokenURI(uint256 tokenId) external view returns (string memory) {
        Token storage token = _tokens[tokenId];
        if (token.owner == address(0)) revert ERC721NonexistentToken(tokenId);
        if (token.flags & _URI_STORED != 0) return _uris[tokenId];
        return IpfsCid.uriOf(_digests[tokenId]);
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
    /// admin rules).
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
        _update(to, tokenId, msg.sender);
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

    /// @dev The single choke point of every ownership change. Only a mint (from the zero address, no `auth`)
    /// and a burn (to the zero address, no `auth`) pass; any call on behalf of an account (`auth` set) is a
    /// transfer attempt and reverts, as does any move between two non-zero addresses.
    function _update(address to, uint256 tokenId, address auth) internal returns (address from) {
        Token storage token = _tokens[tokenId];
        from = token.owner;
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
        token.owner = to;
        emit Transfer(from, to, tokenId);
    }

    function _issue(uint256 tokenId, IssueRequest calldata request) private {
        bytes32 requestId = request.requestId;
        if (requestId == bytes32(0)) revert RequestIdInvalid();
        if (_tokenOfRequest[requestId] != 0) revert RequestAlreadyUsed(requestId);
        address holder = request.holder;
        if (holder == address(0)) revert HolderInvalid(address(0));
        uint64 validUntil = request.validUntil;
        if (validUntil > type(uint40).max) revert ValidUntilInvalid(validUntil);
        bytes32 digest = request.digest;
        BurnAuth auth = _defaultBurnAuth;
        uint8 flags = uint8(auth) << _BURN_AUTH_SHIFT;
        if (!IpfsCid.isUriOf(request.uri, digest)) {
            flags |= _URI_STORED;
            _uris[tokenId] = request.uri;
        }
        // Effects before the mint: a holder contract re-entering from onERC721Received finds the request id spent.
        _tokenOfRequest[requestId] = tokenId;
        _requestIds[tokenId] = requestId;
        _digests[tokenId] = digest;
        _tokens[tokenId] = Token({
            owner: address(0),
            issuedAt: uint40(block.timestamp),
            validUntil: uint40(validUntil),
            flags: flags,
            reason: RevocationReason.Unspecified
        });
        emit CertificateIssued(requestId, tokenId, holder, request.uri, digest, validUntil);
        emit Locked(tokenId);
        emit Issued(msg.sender, holder, tokenId, auth);
        _update(holder, tokenId, address(0));
        ERC721Utils.checkOnERC721Received(msg.sender, address(0), holder, tokenId, "");
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

    function _existing(uint256 tokenId) private view returns (Token storage token) {
        token = _tokens[tokenId];
        if (token.issuedAt == 0) revert CertificateNotFound(tokenId);
    }

    function _requireOwned(uint256 tokenId) private view returns (address owner) {
        owner = _tokens[tokenId].owner;
        if (owner == address(0)) revert ERC721NonexistentToken(tokenId);
    }
}
