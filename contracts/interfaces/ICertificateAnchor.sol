// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Hallmark anchored certificates (OpenAttestation DocumentStore compatible)
/// @notice Anchored mode for very large batches: one transaction anchors the Merkle root of N certificate
/// digests. A certificate is proven by its digest (the leaf) and a Merkle proof to an anchored root. The tree is
/// OpenAttestation's: leaves are the digests as they are, each parent is keccak256 of its two children sorted
/// (OpenZeppelin `MerkleProof`'s commutative hashing), so OpenAttestation verifiers and OpenZeppelin's
/// `StandardMerkleTree`-free tooling compute the same root. `issue`, `bulkIssue`, `isIssued`, `isIssuedBefore`,
/// `getIssuedBlock`, `revoke`, `bulkRevoke`, `isRevoked`, `isRevokedBefore`, `DocumentIssued`, `DocumentRevoked`
/// match DocumentStore; a revocation may name a root (the whole batch) or a leaf (one certificate).
interface ICertificateAnchor {
    /// @notice The root (or document) is already issued.
    error DocumentAlreadyIssued(bytes32 document);
    /// @notice The root (or document) was never issued.
    error DocumentNotIssued(bytes32 document);
    /// @notice The root or leaf is already revoked.
    error DocumentAlreadyRevoked(bytes32 document);
    /// @notice The zero hash cannot be issued or revoked.
    error DocumentInvalid();
    /// @notice The linked issuer registry does not let this store issue.
    error IssuerInactive(address store);
    /// @notice The issuer registry can be linked once only.
    error IssuerRegistryAlreadySet(address issuerRegistry);
    /// @notice A contract is created with at least one issuer key.
    error IssuersEmpty();
    /// @notice The zero address cannot hold the issuer role.
    error IssuerInvalid(address issuer);
    /// @notice An approved revocation names the hash of its approvals; the zero hash names none.
    error ApprovalsHashEmpty();

    /// @notice Emitted when a Merkle root (or a single document hash) is anchored.
    event DocumentIssued(bytes32 indexed document);
    /// @notice Emitted when a root or a leaf is revoked.
    event DocumentRevoked(bytes32 indexed document);
    /// @notice Emitted with {DocumentRevoked} by {revokeWithApprovals}: the revocation was approved under dual
    /// control, and `approvalsHash` is the sha256 of the approvals record the issuer's audit log keeps.
    event RevocationApproved(bytes32 indexed document, bytes32 approvalsHash);
    /// @notice Emitted when the issuer registry is linked (at creation or later, once).
    event IssuerRegistrySet(address indexed issuerRegistry);

    /// @notice Anchors a Merkle root of certificate digests (or one digest: a tree of one leaf has it as root).
    /// @dev Requirements: caller has the issuer role; the store may issue; `document` is non-zero and new.
    /// Emits a {DocumentIssued} event.
    /// @param document The Merkle root.
    function issue(bytes32 document) external;

    /// @notice Anchors several roots.
    /// @dev Requirements: as {issue} for each. Emits a {DocumentIssued} event for each.
    /// @param documents The Merkle roots.
    function bulkIssue(bytes32[] calldata documents) external;

    /// @notice Revokes a root (the whole batch) or a leaf (one certificate digest).
    /// @dev Requirements: caller has the issuer role; `document` is non-zero and not revoked.
    /// Emits a {DocumentRevoked} event.
    /// @param document A root or a leaf.
    /// @return Always true (DocumentStore's signature).
    function revoke(bytes32 document) external returns (bool);

    /// @notice Revokes a root or a leaf as {revoke} does, naming the approvals that let it (dual control).
    /// @dev Requirements: as {revoke}; `approvalsHash` is non-zero. Emits a {DocumentRevoked} and a
    /// {RevocationApproved} event.
    /// @param document A root or a leaf.
    /// @param approvalsHash The hash of the approvals record (see {RevocationApproved}).
    function revokeWithApprovals(bytes32 document, bytes32 approvalsHash) external;

    /// @notice Revokes several roots or leaves.
    /// @dev Requirements: as {revoke} for each. Emits a {DocumentRevoked} event for each.
    /// @param documents Roots or leaves.
    function bulkRevoke(bytes32[] calldata documents) external;

    /// @notice Whether a root was anchored.
    /// @param document The root.
    /// @return True when anchored.
    function isIssued(bytes32 document) external view returns (bool);

    /// @notice Whether a root was anchored at or before a block.
    /// @param document The root.
    /// @param blockNumber The block.
    /// @return True when it was.
    function isIssuedBefore(bytes32 document, uint256 blockNumber) external view returns (bool);

    /// @notice The block a root was anchored in.
    /// @param document The root; reverts with {DocumentNotIssued} when never anchored.
    /// @return The block number.
    function getIssuedBlock(bytes32 document) external view returns (uint256);

    /// @notice Whether a root or a leaf was revoked.
    /// @param document The root or leaf.
    /// @return True when revoked.
    function isRevoked(bytes32 document) external view returns (bool);

    /// @notice Whether a root or a leaf was revoked at or before a block.
    /// @param document The root or leaf.
    /// @param blockNumber The block.
    /// @return True when it was.
    function isRevokedBefore(bytes32 document, uint256 blockNumber) external view returns (bool);

    /// @notice Whether `leaf` is in the tree of `root` (the proof checks out), whatever the anchoring state.
    /// @param root The Merkle root.
    /// @param leaf The certificate digest.
    /// @param proof Sibling hashes from the leaf up.
    /// @return True when the proof is valid.
    function verifyProof(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external pure returns (bool);

    /// @notice The verdict for an anchored certificate: the proof is valid, the root is anchored, and neither
    /// the root nor the leaf is revoked.
    /// @param root The Merkle root.
    /// @param leaf The certificate digest.
    /// @param proof Sibling hashes from the leaf up.
    /// @return True when the certificate is valid.
    function isValid(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool);
}
