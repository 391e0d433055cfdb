// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Hallmark certificate registry
/// @notice One registry per institution collection. Each certificate is a non-transferable ERC-721 token
/// minted against a single-use request id, so a retried issuance can never mint twice.
interface ICertificateRegistry {
    /// @notice Revocation reasons, in the order of RFC 5280 CRLReason (value 7 is unused there).
    enum RevocationReason {
        Unspecified,
        KeyCompromise,
        CACompromise,
        AffiliationChanged,
        Superseded,
        CessationOfOperation,
        CertificateHold,
        Unused,
        RemoveFromCRL,
        PrivilegeWithdrawn,
        AACompromise
    }

    /// @notice What a verifier should conclude about a token.
    enum Status {
        Unknown,
        Valid,
        Suspended,
        Revoked,
        Expired,
        Superseded
    }

    /// @notice One certificate to issue.
    /// @param requestId Single-use id chosen by the issuer's system (Hallmark derives it from the issuance id).
    /// @param holder Address that receives the token.
    /// @param uri Metadata URI, `ipfs://<cid>`.
    /// @param digest Hash of the certificate document.
    /// @param validUntil Expiry as a unix timestamp; 0 means the certificate never expires.
    struct IssueRequest {
        bytes32 requestId;
        address holder;
        string uri;
        bytes32 digest;
        uint64 validUntil;
    }

    /// @notice Stored facts about a certificate.
    struct CertificateRecord {
        bytes32 requestId;
        bytes32 digest;
        uint64 issuedAt;
        uint64 validUntil;
        bool revoked;
        RevocationReason revocationReason;
    }

    /// @notice A transfer or approval was attempted on a token that is bound to its holder.
    error CertificateLocked(uint256 tokenId);
    /// @notice The request id was already used to mint a certificate.
    error RequestAlreadyUsed(bytes32 requestId);
    /// @notice The request id is zero.
    error RequestIdInvalid();
    /// @notice The holder cannot receive a certificate (the zero address).
    error HolderInvalid(address holder);
    /// @notice No certificate exists with this token id.
    error CertificateNotFound(uint256 tokenId);
    /// @notice The certificate was already revoked; revocation is permanent.
    error CertificateAlreadyRevoked(uint256 tokenId);
    /// @notice Operator approvals are disabled on a registry of bound tokens.
    error ApprovalsDisabled();
    /// @notice A batch was empty.
    error BatchEmpty();

    /// @notice Emitted once per minted certificate.
    event CertificateIssued(
        bytes32 indexed requestId,
        uint256 indexed tokenId,
        address indexed holder,
        string uri,
        bytes32 digest,
        uint64 validUntil
    );

    /// @notice Emitted when a certificate is revoked.
    event CertificateRevoked(uint256 indexed tokenId, RevocationReason reason, address indexed revokedBy);

    /// @notice Issues one certificate.
    /// @dev Requirements: caller has the issuer role; `request.requestId` is non-zero and unused;
    /// `request.holder` is not the zero address.
    /// Emits a {CertificateIssued}, an ERC-5192 {Locked} and an ERC-721 {Transfer} event.
    /// @param request The certificate to issue.
    /// @return tokenId The id of the minted token.
    function issue(IssueRequest calldata request) external returns (uint256 tokenId);

    /// @notice Issues several certificates in one transaction; token ids are consecutive.
    /// @dev Requirements: as {issue} for every item; the batch is not empty. One bad item reverts the batch.
    /// Emits the events of {issue} for every item.
    /// @param requests The certificates to issue.
    /// @return firstTokenId The id of the first minted token.
    function issueBatch(IssueRequest[] calldata requests) external returns (uint256 firstTokenId);

    /// @notice Revokes a certificate for good.
    /// @dev Requirements: caller has the issuer role; the token exists and is not revoked.
    /// Emits a {CertificateRevoked} event.
    /// @param tokenId The certificate to revoke.
    /// @param reason Why, as an RFC 5280 reason code.
    function revoke(uint256 tokenId, RevocationReason reason) external;

    /// @notice The verdict a verifier should reach for a token.
    /// @param tokenId The certificate to check.
    /// @return The status; `Unknown` for a token that was never issued.
    function status(uint256 tokenId) external view returns (Status);

    /// @notice The stored record of a certificate.
    /// @param tokenId The certificate to read.
    /// @return The record; reverts with {CertificateNotFound} for an unknown token.
    function certificate(uint256 tokenId) external view returns (CertificateRecord memory);

    /// @notice The token minted for a request id.
    /// @param requestId The request id given at issue.
    /// @return The token id, or 0 when the request id was never used (token ids start at 1).
    function tokenOfRequest(bytes32 requestId) external view returns (uint256);
}
