// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;
// Sixteen state variables: most are written only when what they record occurs, so none is folded into another.
/* solhint-disable max-states-count */

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
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
/// @notice Non-transferable ERC-721 certificates (ERC-5192, ERC-5484, ERC-4906, ERC-7572), issued against
/// single-use request ids, revocable with an RFC 5280 reason, suspendable, reissuable after a lost wallet.
/// @dev Storage per certificate is one fresh word besides the holder's balance, plus 64 bytes of contract code:
/// - the record, keyed by the request id: holder, token id, expiry, flags. Being keyed by the request id, the
///   one word is at once the single-use guard, the `tokenOfRequest` index and the mutable state of the token;
/// - the request id and the digest, written as the code of one data contract per batch (the SSTORE2 pattern):
///   code costs 200 gas a byte, 6,400 a word, against 22,100 for a fresh storage word. Both are immutable;
///   a digest corrected by {updateMetadata} is stored apart and flagged in the record.
/// Per batch, one word holds the data contract and the issue time (shared by the batch), keyed by the batch's
/// first token id, and one bit of a bitmap marks that first token id. A token id resolves to its record by the
/// highest start bit at or below it (its batch), its position in the batch's code (its request id), then the
/// record: reads cost a few cold accesses more than a word keyed by token id would, writes are what is saved.
/// The revocation reason, a stored URI and recovery links are written only when they occur.
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

    uint8 private constant _REVOKED = 1;
    uint8 private constant _SUSPENDED = 1 << 1;
    uint8 private constant _SUPERSEDED = 1 << 2;
    uint8 private constant _BURNED = 1 << 3;
    uint8 private constant _URI_STORED = 1 << 4;
    uint8 private constant _DIGEST_UPDATED = 1 << 5;
    uint8 private constant _BURN_AUTH_SHIFT = 6; // two bits

    /// @dev Bytes of data-contract code per certificate: the request id, then the digest.
    uint256 private constant _ENTRY_SIZE = 64;
    /// @dev Certificates per data contract, so that its code (a leading STOP byte, so that a call to it halts at
    /// once, then the entries) stays within the EIP-170 limit of 24,576 bytes. A larger batch gets several.
    uint256 private constant _MAX_ENTRIES = (24_576 - 1) / _ENTRY_SIZE;
    /// @dev The ten bytes of creation code before a data contract's runtime code, with the runtime length to
    /// be placed at bits 56..71: PUSH2 length, DUP1, PUSH1 10, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN
    /// (copies the code after these ten bytes to memory 0 and returns it as the runtime code).
    uint256 private constant _DATA_CREATION_PREFIX = 0x61000080600a3d393df3;

    /// @dev One storage word per certificate, keyed by its request id.
    struct Record {
        address owner; // zero before the mint and after a burn
        uint48 tokenId; // non-zero once issued, so the request id stays used after a revoke or burn
        uint40 validUntil;
        uint8 flags;
    }

    /// @dev One storage word per batch (per data contract), keyed by the batch's first token id.
    struct Batch {
        address data; // the data contract: request id and digest of each certificate, in token id order
        uint40 issuedAt;
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
    // These three share a word, read once per issuing transaction.
    IIssuerRegistry private _issuerRegistry;
    /// @dev 48 bits, the width of the record's token id; the checked addition in {_reserve} reverts (panic)
    /// rather than wrap, and 2^48 certificates are out of reach of any chain's gas anyway.
    uint48 private _nextTokenId = 1;
    BurnAuth private _defaultBurnAuth = BurnAuth.Neither;
    MintCap private _mintCap;

    mapping(bytes32 requestId => Record) private _records;
    mapping(address holder => uint256) private _balances;
    mapping(uint256 firstTokenId => Batch) private _batches;
    /// @dev Bit `id % 256` of word `id / 256` is set when a batch starts at token id `id`.
    mapping(uint256 word => uint256 bits) private _batchStarts;
    mapping(uint256 tokenId => bytes32) private _updatedDigests;
    mapping(uint256 tokenId => RevocationReason) private _reasons;
    mapping(uint256 tokenId => string) private _uris;
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
    function issue(IssueRequest calldata request) external whenNotPaused returns (uint256 tokenId) {
        _authorizeIssue(1);
        _requireIssuerActive();
        tokenId = _reserve(1);
        _issueOne(tokenId, request);
    }

    /// @inheritdoc ICertificateRegistry
    function issueBatch(IssueRequest[] calldata requests) external whenNotPaused returns (uint256 firstTokenId) {
        uint256 count = requests.length;
        _authorizeIssue(count);
        if (count == 0) revert BatchEmpty();
        _requireIssuerActive();
        firstTokenId = _reserve(count);
        BurnAuth auth = _defaultBurnAuth;
        // Every record, event and data contract of the batch is written before the first receiver hook runs, so
        // a holder contract re-entering sees every token of the batch complete and every request id spent.
        for (uint256 done = 0; done < count;) {
            uint256 entries = Math.min(count - done, _MAX_ENTRIES);
            bytes memory code = _dataCode(entries);
            for (uint256 i = 0; i < entries; ++i) {
                _mint(firstTokenId + done + i, requests[done + i], auth, code, i);
            }
            _storeBatch(firstTokenId + done, code);
            done += entries;
        }
        for (uint256 i = 0; i < count; ++i) {
            ERC721Utils.checkOnERC721Received(msg.sender, address(0), requests[i].holder, firstTokenId + i, "");
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
        Record storage previous = _existing(previousTokenId);
        uint8 flags = previous.flags;
        if (flags & (_REVOKED | _BURNED) != 0) revert CertificateAlreadyRevoked(previousTokenId);
        if (flags & _SUPERSEDED != 0) revert CertificateAlreadySuperseded(previousTokenId);
        previous.flags = flags | _SUPERSEDED;
        tokenId = _reserve(1);
        _supersededBy[previousTokenId] = tokenId;
        _replaces[tokenId] = previousTokenId;
        emit CertificateReissued(previousTokenId, tokenId, request.holder);
        emit MetadataUpdate(previousTokenId);
        _issueOne(tokenId, request);
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
        Record storage record = _existing(tokenId);
        uint8 flags = record.flags;
        if (flags & (_REVOKED | _BURNED) != 0) revert CertificateAlreadyRevoked(tokenId);
        if (flags & _SUSPENDED != 0) revert CertificateAlreadySuspended(tokenId);
        record.flags = flags | _SUSPENDED;
        emit CertificateSuspended(tokenId, msg.sender);
        emit MetadataUpdate(tokenId);
    }

    /// @inheritdoc ICertificateRegistry
    function unsuspend(uint256 tokenId) external onlyRole(ISSUER_ROLE) {
        Record storage record = _existing(tokenId);
        uint8 flags = record.flags;
        if (flags & (_REVOKED | _BURNED) != 0) revert CertificateAlreadyRevoked(tokenId);
        if (flags & _SUSPENDED == 0) revert CertificateNotSuspended(tokenId);
        record.flags = flags & ~_SUSPENDED;
        emit CertificateUnsuspended(tokenId, msg.sender);
        emit MetadataUpdate(tokenId);
    }

    /// @inheritdoc ICertificateRegistry
    function burn(uint256 tokenId) external {
        Record storage record = _existing(tokenId);
        address holder = record.owner;
        uint8 flags = record.flags;
        BurnAuth auth = BurnAuth((flags >> _BURN_AUTH_SHIFT) & 3);
        bool allowed;
        if (holder != address(0)) {
            if (msg.sender == holder) allowed = auth == BurnAuth.OwnerOnly || auth == BurnAuth.Both;
            else if (hasRole(ISSUER_ROLE, msg.sender)) allowed = auth == BurnAuth.IssuerOnly || auth == BurnAuth.Both;
        }
        if (!allowed) revert BurnNotAllowed(tokenId, msg.sender);
        record.flags = flags | _BURNED;
        emit CertificateBurned(tokenId, holder, msg.sender);
        emit MetadataUpdate(tokenId);
        _update(record, address(0), tokenId, address(0));
    }

    /// @inheritdoc ICertificateRegistry
    /// @dev The digest given at issue stays in the batch's code (code is immutable): the new one is stored
    /// apart and the record flagged to read it from there.
    function updateMetadata(uint256 tokenId, string calldata uri, bytes32 digest)
        external
        whenNotPaused
        onlyRole(ISSUER_ROLE)
    {
        Record storage record = _existing(tokenId);
        uint8 flags = record.flags;
        if (flags & (_REVOKED | _BURNED) != 0) revert CertificateAlreadyRevoked(tokenId);
        _updatedDigests[tokenId] = digest;
        flags |= _DIGEST_UPDATED;
        if (_isDerivedUri(uri, digest)) {
            if (flags & _URI_STORED != 0) {
                delete _uris[tokenId];
                flags &= ~_URI_STORED;
            }
        } else {
            _uris[tokenId] = uri;
            flags |= _URI_STORED;
        }
        record.flags = flags;
        emit CertificateMetadataUpdated(tokenId, uri, digest);
        emit MetadataUpdate(tokenId);
    }

    /// @dev What both revocations share: the caller's role, the token, its flag and reason, {CertificateRevoked}.
    function _revoke(uint256 tokenId, RevocationReason reason) private {
        if (!hasRole(ISSUER_ROLE, msg.sender) && !hasRole(MINTER_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, ISSUER_ROLE);
        }
        Record storage record = _existing(tokenId);
        uint8 flags = record.flags;
        if (flags & _REVOKED != 0) revert CertificateAlreadyRevoked(tokenId);
        record.flags = flags | _REVOKED;
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
        // From now on the operator's freezes there show in {status}: every token issued so far may read otherwise.
        uint256 last = _nextTokenId - 1;
        if (last != 0) emit BatchMetadataUpdate(1, last);
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
        if (!_isIssued(tokenId)) return Status.Unknown;
        Record memory record = _recordOf(tokenId);
        uint8 flags = record.flags;
        if (flags & (_REVOKED | _BURNED) != 0) return Status.Revoked;
        if (flags & _SUPERSEDED != 0) return Status.Superseded;
        uint256 validUntil = record.validUntil;
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
        if (!_isIssued(tokenId)) revert CertificateNotFound(tokenId);
        (bytes32 requestId, bytes32 digest, uint40 issuedAt) = _locate(tokenId);
        Record memory record = _records[requestId];
        return CertificateRecord({
            requestId: requestId,
            digest: _currentDigest(tokenId, record.flags, digest),
            issuedAt: issuedAt,
            validUntil: record.validUntil,
            revoked: record.flags & (_REVOKED | _BURNED) != 0,
            revocationReason: _reasons[tokenId]
        });
    }

    /// @inheritdoc ICertificateRegistry
    function tokenOfRequest(bytes32 requestId) external view returns (uint256) {
        return _records[requestId].tokenId;
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
        return _recordOf(tokenId).flags & _SUSPENDED != 0;
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
        if (!_isIssued(tokenId)) revert ERC721NonexistentToken(tokenId);
        (bytes32 requestId, bytes32 digest,) = _locate(tokenId);
        Record memory record = _records[requestId];
        if (record.owner == address(0)) revert ERC721NonexistentToken(tokenId);
        if (record.flags & _URI_STORED != 0) return _uris[tokenId];
        return IpfsCid.uriOf(_currentDigest(tokenId, record.flags, digest));
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
        _update(_recordOf(tokenId), to, tokenId, msg.sender);
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

    /// @dev The single choke point of every ownership change, given the token's record. Only a mint (from the
    /// zero address, no `auth`) and a burn (to the zero address, no `auth`) pass; any call on behalf of an
    /// account (`auth` set) is a transfer attempt and reverts, as does any move between two non-zero addresses.
    function _update(Record storage record, address to, uint256 tokenId, address auth)
        internal
        returns (address from)
    {
        from = record.owner;
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
        record.owner = to;
        emit Transfer(from, to, tokenId);
    }

    /// @dev Issues one certificate as a batch of one (its own data contract), then runs the receiver hook.
    function _issueOne(uint256 tokenId, IssueRequest calldata request) private {
        bytes memory code = _dataCode(1);
        _mint(tokenId, request, _defaultBurnAuth, code, 0);
        _storeBatch(tokenId, code);
        ERC721Utils.checkOnERC721Received(msg.sender, address(0), request.holder, tokenId, "");
    }

    /// @dev Checks a request, writes its record and its entry at `position` of the batch's data-contract
    /// `code`, emits its events and mints through {_update}. The receiver hook is the caller's to run, after
    /// the batch's data contract exists.
    function _mint(uint256 tokenId, IssueRequest calldata request, BurnAuth auth, bytes memory code, uint256 position)
        private
    {
        bytes32 requestId = request.requestId;
        if (requestId == bytes32(0)) revert RequestIdInvalid();
        Record storage record = _records[requestId];
        if (record.tokenId != 0) revert RequestAlreadyUsed(requestId);
        address holder = request.holder;
        if (holder == address(0)) revert HolderInvalid(address(0));
        uint64 validUntil = request.validUntil;
        if (validUntil > type(uint40).max) revert ValidUntilInvalid(validUntil);
        bytes32 digest = request.digest;
        uint8 flags = uint8(auth) << _BURN_AUTH_SHIFT;
        if (!_isDerivedUri(request.uri, digest)) {
            flags |= _URI_STORED;
            _uris[tokenId] = request.uri;
        }
        assembly ("memory-safe") {
            // Entry `position` of the runtime code, which starts after the 32-byte length word, the ten bytes of
            // creation prefix and the STOP byte; {_dataCode} sized `code` for every entry.
            let entry := add(add(code, 43), mul(position, _ENTRY_SIZE))
            mstore(entry, requestId)
            mstore(add(entry, 32), digest)
        }
        // tokenId < 2^48: {_reserve} keeps the counter within 48 bits.
        _records[requestId] =
            Record({owner: address(0), tokenId: uint48(tokenId), validUntil: uint40(validUntil), flags: flags});
        emit CertificateIssued(requestId, tokenId, holder, request.uri, digest, validUntil);
        emit Locked(tokenId);
        emit Issued(msg.sender, holder, tokenId, auth);
        _update(record, holder, tokenId, address(0));
    }

    /// @dev Whether `uri` is exactly `ipfs://` followed by the CIDv1 (raw codec, sha2-256) of `digest` in
    /// base32: what {IpfsCid-isUriOf} answers (and {IpfsCid-uriOf} rebuilds for {tokenURI}), at a fraction of its
    /// gas, since issuing pays this check once per certificate. Rather than one character at a time, it encodes
    /// four 5-byte groups per word at once: each group spread to eight 5-bit values in its own byte, which are
    /// then mapped to the alphabet with byte-wise arithmetic that never carries into the next byte.
    function _isDerivedUri(string calldata uri, bytes32 digest) private pure returns (bool derived) {
        if (bytes(uri).length != 66) return false;
        assembly ("memory-safe") {
            // Four 40-bit groups (at `at`, `at`+5, +10, +15), one per 64-bit lane, become the 32 characters they
            // encode.
            function encode(at) -> chars {
                let w := or(
                    or(shl(192, shr(216, mload(at))), shl(128, shr(216, mload(add(at, 5))))),
                    or(shl(64, shr(216, mload(add(at, 10)))), shr(216, mload(add(at, 15))))
                )
                // 40 bits -> two 20-bit halves in 32-bit lanes -> 10-bit quarters in 16-bit lanes -> 5 bits a byte.
                w := or(
                    shl(12, and(w, 0x000000FFFFF00000000000FFFFF00000000000FFFFF00000000000FFFFF00000)),
                    and(w, 0x00000000000FFFFF00000000000FFFFF00000000000FFFFF00000000000FFFFF)
                )
                w := or(
                    shl(6, and(w, 0x000FFC00000FFC00000FFC00000FFC00000FFC00000FFC00000FFC00000FFC00)),
                    and(w, 0x000003FF000003FF000003FF000003FF000003FF000003FF000003FF000003FF)
                )
                w := or(
                    shl(3, and(w, 0x03E003E003E003E003E003E003E003E003E003E003E003E003E003E003E003E0)),
                    and(w, 0x001F001F001F001F001F001F001F001F001F001F001F001F001F001F001F001F)
                )
                // A byte v is 'a' + v below 26 and '2' + (v - 26) = 'a' + v - 0x49 from 26 on; bit 5 of v + 6 is
                // set exactly from 26 on.
                let high := and(
                    shr(5, add(w, 0x0606060606060606060606060606060606060606060606060606060606060606)),
                    0x0101010101010101010101010101010101010101010101010101010101010101
                )
                chars := sub(add(w, 0x6161616161616161616161616161616161616161616161616161616161616161), mul(high, 0x49))
            }
            // Scratch memory past the free memory pointer, not kept: CID prefix 0x01551220, the digest, then
            // zeros (the last group is the digest's last byte and four zero bytes, as base32 pads).
            let raw := mload(0x40)
            mstore(raw, shl(224, 0x01551220))
            mstore(add(raw, 4), digest)
            mstore(add(raw, 36), 0)
            derived := and(
                eq(shr(192, calldataload(uri.offset)), 0x697066733a2f2f62), // "ipfs://b"
                and(
                    eq(calldataload(add(uri.offset, 8)), encode(raw)),
                    // Characters 32 to 57; the 6 bytes loaded past the string's end are not compared.
                    eq(shr(48, calldataload(add(uri.offset, 40))), shr(48, encode(add(raw, 20))))
                )
            )
        }
    }

    /// @dev Takes `count` consecutive token ids and returns the first.
    function _reserve(uint256 count) private returns (uint256 first) {
        uint48 next = _nextTokenId;
        // Checked addition: past 2^48 - 1 it reverts instead of wrapping. `count` is a calldata array length,
        // far below 2^48, so the cast keeps it whole.
        _nextTokenId = next + uint48(count);
        return next;
    }

    /// @dev Creation code of a data contract for `entries` certificates, entries zeroed, to be filled by {_mint}.
    function _dataCode(uint256 entries) private pure returns (bytes memory code) {
        uint256 runtimeLength = 1 + entries * _ENTRY_SIZE;
        code = new bytes(10 + runtimeLength);
        uint256 prefix = _DATA_CREATION_PREFIX | (runtimeLength << 56);
        assembly ("memory-safe") {
            // Left-aligned in the first word; the byte after the prefix stays 0 (STOP).
            mstore(add(code, 32), shl(176, prefix))
        }
    }

    /// @dev Deploys a batch's data contract and records where the batch starts.
    function _storeBatch(uint256 firstTokenId, bytes memory code) private {
        address data;
        assembly ("memory-safe") {
            data := create(0, add(code, 32), mload(code))
            // The code is within EIP-170 and its creation cannot fail otherwise: only running out of gas gets here.
            if iszero(data) { revert(0, 0) }
        }
        _batches[firstTokenId] = Batch({data: data, issuedAt: uint40(block.timestamp)});
        _batchStarts[firstTokenId >> 8] |= 1 << (firstTokenId & 255);
    }

    /// @dev Request id, digest given at issue, and issue time of an issued token (see {_isIssued}).
    function _locate(uint256 tokenId) private view returns (bytes32 requestId, bytes32 digest, uint40 issuedAt) {
        // The token's batch starts at the highest start bit at or below it. Token 1 starts the first batch, so
        // the search ends; a batch spans at most a few words of the bitmap.
        uint256 word = tokenId >> 8;
        uint256 bits = _batchStarts[word] & (type(uint256).max >> (255 - (tokenId & 255)));
        while (bits == 0) {
            bits = _batchStarts[--word];
        }
        uint256 firstTokenId = (word << 8) | Math.log2(bits);
        Batch memory batch = _batches[firstTokenId];
        address data = batch.data;
        uint256 offset = 1 + (tokenId - firstTokenId) * _ENTRY_SIZE;
        assembly ("memory-safe") {
            // Scratch memory past the free memory pointer, not kept.
            let m := mload(0x40)
            extcodecopy(data, m, offset, 64)
            requestId := mload(m)
            digest := mload(add(m, 32))
        }
        issuedAt = batch.issuedAt;
    }

    /// @dev Every token id below the counter was issued: batches are written whole or not at all.
    function _isIssued(uint256 tokenId) private view returns (bool) {
        return tokenId != 0 && tokenId < _nextTokenId;
    }

    /// @dev The record of a token; for a token id never issued, the record of request id 0, which is never
    /// written (request id 0 is refused) and so reads as empty.
    function _recordOf(uint256 tokenId) private view returns (Record storage) {
        if (!_isIssued(tokenId)) return _records[bytes32(0)];
        (bytes32 requestId,,) = _locate(tokenId);
        return _records[requestId];
    }

    function _currentDigest(uint256 tokenId, uint8 flags, bytes32 issued) private view returns (bytes32) {
        return flags & _DIGEST_UPDATED != 0 ? _updatedDigests[tokenId] : issued;
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

    function _existing(uint256 tokenId) private view returns (Record storage) {
        if (!_isIssued(tokenId)) revert CertificateNotFound(tokenId);
        (bytes32 requestId,,) = _locate(tokenId);
        return _records[requestId];
    }

    function _requireOwned(uint256 tokenId) private view returns (address owner) {
        owner = _recordOf(tokenId).owner;
        if (owner == address(0)) revert ERC721NonexistentToken(tokenId);
    }
}
