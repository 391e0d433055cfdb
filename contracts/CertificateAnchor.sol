// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ICertificateAnchor} from "./interfaces/ICertificateAnchor.sol";
import {IIssuerRegistry} from "./interfaces/IIssuerRegistry.sol";

/// @title Hallmark anchored certificates
/// @notice One storage word per batch, whatever its size: the Merkle root of its certificate digests.
contract CertificateAnchor is AccessControlDefaultAdminRules, ICertificateAnchor {
    /// @notice Role of the keys that anchor and revoke.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice DocumentStore's version string, for OpenAttestation tooling that reads it.
    string public constant version = "2.3.0"; // solhint-disable-line const-name-snakecase

    /// @notice Display name (DocumentStore's `name`).
    string public name;
    /// @notice Block in which each root was anchored (DocumentStore's `documentIssued`).
    mapping(bytes32 document => uint256 blockNumber) public documentIssued;
    /// @notice Block in which each root or leaf was revoked (DocumentStore's `documentRevoked`).
    mapping(bytes32 document => uint256 blockNumber) public documentRevoked;
    /// @notice The linked issuer registry, or the zero address.
    IIssuerRegistry public issuerRegistry;

    /// @param name_ Display name.
    /// @param admin The default admin (two-step transfer, 2 days).
    /// @param issuers Holders of the issuer role; at least one, none the zero address.
    /// @param issuerRegistry_ The issuer registry to link now (as {setIssuerRegistry} would), or the zero address.
    /// @dev Everything a deployment needs is set here, so that creating a store is one transaction.
    constructor(string memory name_, address admin, address[] memory issuers, IIssuerRegistry issuerRegistry_)
        AccessControlDefaultAdminRules(2 days, admin)
    {
        name = name_;
        uint256 count = issuers.length;
        if (count == 0) revert IssuersEmpty();
        for (uint256 i = 0; i < count; ++i) {
            if (issuers[i] == address(0)) revert IssuerInvalid(address(0));
            _grantRole(ISSUER_ROLE, issuers[i]);
        }
        if (address(issuerRegistry_) != address(0)) {
            issuerRegistry = issuerRegistry_;
            emit IssuerRegistrySet(address(issuerRegistry_));
        }
    }

    /// @notice Links the platform's issuer registry, once: anchoring then needs this store to be bound to an
    /// active institution.
    /// @dev Requirements: caller has the default admin role; none linked yet. Emits an {IssuerRegistrySet} event.
    /// @param issuerRegistry_ The issuer registry.
    function setIssuerRegistry(IIssuerRegistry issuerRegistry_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(issuerRegistry) != address(0)) revert IssuerRegistryAlreadySet(address(issuerRegistry));
        issuerRegistry = issuerRegistry_;
        emit IssuerRegistrySet(address(issuerRegistry_));
    }

    /// @inheritdoc ICertificateAnchor
    function issue(bytes32 document) external onlyRole(ISSUER_ROLE) {
        _requireIssuerActive();
        _issue(document);
    }

    /// @inheritdoc ICertificateAnchor
    function bulkIssue(bytes32[] calldata documents) external onlyRole(ISSUER_ROLE) {
        _requireIssuerActive();
        for (uint256 i = 0; i < documents.length; ++i) {
            _issue(documents[i]);
        }
    }

    /// @inheritdoc ICertificateAnchor
    function revoke(bytes32 document) external onlyRole(ISSUER_ROLE) returns (bool) {
        _revoke(document);
        return true;
    }

    /// @inheritdoc ICertificateAnchor
    function revokeWithApprovals(bytes32 document, bytes32 approvalsHash) external onlyRole(ISSUER_ROLE) {
        if (approvalsHash == bytes32(0)) revert ApprovalsHashEmpty();
        _revoke(document);
        emit RevocationApproved(document, approvalsHash);
    }

    /// @inheritdoc ICertificateAnchor
    function bulkRevoke(bytes32[] calldata documents) external onlyRole(ISSUER_ROLE) {
        for (uint256 i = 0; i < documents.length; ++i) {
            _revoke(documents[i]);
        }
    }

    /// @inheritdoc ICertificateAnchor
    function isIssued(bytes32 document) public view returns (bool) {
        return documentIssued[document] != 0;
    }

    /// @inheritdoc ICertificateAnchor
    function isIssuedBefore(bytes32 document, uint256 blockNumber) external view returns (bool) {
        uint256 issuedIn = documentIssued[document];
        return issuedIn != 0 && !(issuedIn > blockNumber);
    }

    /// @inheritdoc ICertificateAnchor
    function getIssuedBlock(bytes32 document) external view returns (uint256) {
        uint256 issuedIn = documentIssued[document];
        if (issuedIn == 0) revert DocumentNotIssued(document);
        return issuedIn;
    }

    /// @inheritdoc ICertificateAnchor
    function isRevoked(bytes32 document) public view returns (bool) {
        return documentRevoked[document] != 0;
    }

    /// @inheritdoc ICertificateAnchor
    function isRevokedBefore(bytes32 document, uint256 blockNumber) external view returns (bool) {
        uint256 revokedIn = documentRevoked[document];
        return revokedIn != 0 && !(revokedIn > blockNumber);
    }

    /// @inheritdoc ICertificateAnchor
    function verifyProof(bytes32 root, bytes32 leaf, bytes32[] calldata proof) public pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc ICertificateAnchor
    function isValid(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        return isIssued(root) && !isRevoked(root) && !isRevoked(leaf) && verifyProof(root, leaf, proof);
    }

    function _issue(bytes32 document) private {
        if (document == bytes32(0)) revert DocumentInvalid();
        if (documentIssued[document] != 0) revert DocumentAlreadyIssued(document);
        documentIssued[document] = block.number;
        emit DocumentIssued(document);
    }

    function _revoke(bytes32 document) private {
        if (document == bytes32(0)) revert DocumentInvalid();
        if (documentRevoked[document] != 0) revert DocumentAlreadyRevoked(document);
        documentRevoked[document] = block.number;
        emit DocumentRevoked(document);
    }

    function _requireIssuerActive() private view {
        IIssuerRegistry registry = issuerRegistry;
        if (address(registry) != address(0) && !registry.canIssue(address(this))) revert IssuerInactive(address(this));
    }
}
