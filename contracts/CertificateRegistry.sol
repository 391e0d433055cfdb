// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ICertificateRegistry} from "./interfaces/ICertificateRegistry.sol";
import {IERC5192} from "./interfaces/IERC5192.sol";

/// @title Hallmark certificate registry
/// @notice Non-transferable ERC-721 certificates (ERC-5192), issued against single-use request ids.
contract CertificateRegistry is ERC721, AccessControl, ICertificateRegistry, IERC5192 {
    /// @notice Role of the keys that issue and revoke (the worker's hot key).
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    uint256 private _nextTokenId = 1;
    mapping(uint256 tokenId => CertificateRecord) private _records;
    mapping(uint256 tokenId => string) private _uris;
    mapping(bytes32 requestId => uint256 tokenId) private _tokenOfRequest;

    /// @param name_ ERC-721 collection name.
    /// @param symbol_ ERC-721 collection symbol.
    /// @param admin Holder of the default admin role (the institution or platform operator).
    /// @param issuer First holder of the issuer role (the worker's signing key).
    constructor(string memory name_, string memory symbol_, address admin, address issuer) ERC721(name_, symbol_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ISSUER_ROLE, issuer);
    }

    /// @inheritdoc ICertificateRegistry
    function issue(IssueRequest calldata request) external onlyRole(ISSUER_ROLE) returns (uint256 tokenId) {
        tokenId = _nextTokenId++;
        _issue(tokenId, request);
    }

    /// @inheritdoc ICertificateRegistry
    function issueBatch(IssueRequest[] calldata requests)
        external
        onlyRole(ISSUER_ROLE)
        returns (uint256 firstTokenId)
    {
        uint256 count = requests.length;
        if (count == 0) revert BatchEmpty();
        firstTokenId = _nextTokenId;
        _nextTokenId = firstTokenId + count;
        for (uint256 i = 0; i < count; ++i) {
            _issue(firstTokenId + i, requests[i]);
        }
    }

    /// @inheritdoc ICertificateRegistry
    function revoke(uint256 tokenId, RevocationReason reason) external onlyRole(ISSUER_ROLE) {
        CertificateRecord storage record = _records[tokenId];
        if (record.issuedAt == 0) revert CertificateNotFound(tokenId);
        if (record.revoked) revert CertificateAlreadyRevoked(tokenId);
        record.revoked = true;
        record.revocationReason = reason;
        emit CertificateRevoked(tokenId, reason, msg.sender);
    }

    /// @inheritdoc ICertificateRegistry
    function status(uint256 tokenId) external view returns (Status) {
        CertificateRecord storage record = _records[tokenId];
        if (record.issuedAt == 0) return Status.Unknown;
        if (record.revoked) return Status.Revoked;
        if (record.validUntil != 0 && block.timestamp > record.validUntil) return Status.Expired;
        return Status.Valid;
    }

    /// @inheritdoc ICertificateRegistry
    function certificate(uint256 tokenId) external view returns (CertificateRecord memory) {
        CertificateRecord memory record = _records[tokenId];
        if (record.issuedAt == 0) revert CertificateNotFound(tokenId);
        return record;
    }

    /// @inheritdoc ICertificateRegistry
    function tokenOfRequest(bytes32 requestId) external view returns (uint256) {
        return _tokenOfRequest[requestId];
    }

    /// @inheritdoc IERC5192
    function locked(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        return true;
    }

    /// @notice The metadata URI of a certificate, `ipfs://<cid>`.
    /// @param tokenId The certificate to read.
    /// @return The URI given at issue.
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireOwned(tokenId);
        return _uris[tokenId];
    }

    /// @notice Disabled: certificates are bound to their holder.
    /// @dev Always reverts with {CertificateLocked}.
    function approve(address, uint256 tokenId) public pure override {
        revert CertificateLocked(tokenId);
    }

    /// @notice Disabled: certificates are bound to their holder.
    /// @dev Always reverts with {ApprovalsDisabled}.
    function setApprovalForAll(address, bool) public pure override {
        revert ApprovalsDisabled();
    }

    /// @notice ERC-165: ERC-721, ERC-721 Metadata, ERC-5192, AccessControl.
    /// @param interfaceId The interface to ask about.
    /// @return True when the interface is implemented.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return interfaceId == type(IERC5192).interfaceId || super.supportsInterface(interfaceId);
    }

    function _issue(uint256 tokenId, IssueRequest calldata request) private {
        bytes32 requestId = request.requestId;
        if (requestId == bytes32(0)) revert RequestIdInvalid();
        if (_tokenOfRequest[requestId] != 0) revert RequestAlreadyUsed(requestId);
        if (request.holder == address(0)) revert HolderInvalid(address(0));
        // Effects before the mint: a holder contract re-entering from onERC721Received finds the request id spent.
        _tokenOfRequest[requestId] = tokenId;
        _records[tokenId] = CertificateRecord({
            requestId: requestId,
            digest: request.digest,
            issuedAt: uint64(block.timestamp),
            validUntil: request.validUntil,
            revoked: false,
            revocationReason: RevocationReason.Unspecified
        });
        _uris[tokenId] = request.uri;
        emit CertificateIssued(requestId, tokenId, request.holder, request.uri, request.digest, request.validUntil);
        emit Locked(tokenId);
        _safeMint(request.holder, tokenId);
    }

    /// @dev The single choke point of every ownership change: only mints pass.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        address from = _ownerOf(tokenId);
        if (from != address(0)) revert CertificateLocked(tokenId);
        return super._update(to, tokenId, auth);
    }
}
