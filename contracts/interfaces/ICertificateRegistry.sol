// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC5484} from "./IERC5484.sol";
import {IIssuerRegistry} from "./IIssuerRegistry.sol";

/// @title Hallmark certificate registry
/// @notice One registry per institution collection. Each certificate is a non-transferable ERC-721 token whose
/// id is the sha-256 of its document, which names the single-use request id: a retried issuance builds the same
/// document, so it can never mint twice.
/// @dev Roles: the default admin (two-step transfer with a delay) configures; `ISSUER_ROLE` issues, revokes,
/// suspends, reissues and corrects metadata; `MINTER_ROLE` (a hot key) only issues and revokes, under an
/// optional per-period cap; `PAUSER_ROLE` pauses issuance. Pausing stops issue, reissue and metadata
/// corrections; revocation and suspension stay available during an incident.
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

    /// @notice Stored facts about a certificate.
    /// @param digest The sha-256 of the certificate document: the token id, or the corrected document's digest
    /// after {updateMetadata}.
    struct CertificateRecord {
        bytes32 digest;
        uint64 issuedAt;
        uint64 validUntil;
        bool revoked;
        RevocationReason revocationReason;
    }

    /// @notice A transfer or approval was attempted on a token that is bound to its holder.
    error CertificateLocked(uint256 tokenId);
    /// @notice A certificate with this document digest (its token id) exists already: the document names its
    /// request id, so the request was already used.
    error RequestAlreadyUsed(bytes32 digest);
    /// @notice The document digest is zero (token id 0 means "none" in {supersededBy} and {replaces}).
    error DigestInvalid();
    /// @notice The packed batch is not a whole number of 57-byte entries.
    error BatchMalformed(uint256 length);
    /// @notice The holder cannot receive a certificate (the zero address).
    error HolderInvalid(address holder);
    /// @notice No certificate exists with this token id.
    error CertificateNotFound(uint256 tokenId);
    /// @notice The certificate was already revoked; revocation is permanent.
    error CertificateAlreadyRevoked(uint256 tokenId);
    /// @notice A dual-controlled revocation named no approvals (the zero hash).
    error ApprovalsHashEmpty();
    /// @notice Operator approvals are disabled on a registry of bound tokens.
    error ApprovalsDisabled();
    /// @notice A batch was empty.
    error BatchEmpty();
    /// @notice The certificate is already suspended.
    error CertificateAlreadySuspended(uint256 tokenId);
    /// @notice The certificate is not suspended.
    error CertificateNotSuspended(uint256 tokenId);
    /// @notice The certificate was already superseded by a reissue; superseding is permanent.
    error CertificateAlreadySuperseded(uint256 tokenId);
    /// @notice The caller may not burn this certificate under its ERC-5484 burn authorization.
    error BurnNotAllowed(uint256 tokenId, address caller);
    /// @notice The linked issuer registry does not let this registry issue (institution suspended or unbound).
    error IssuerInactive(address registry);
    /// @notice The issuer registry can be linked once only.
    error IssuerRegistryAlreadySet(address issuerRegistry);
    /// @notice The minter's per-period cap does not allow this many certificates now.
    error MintCapExceeded(uint256 requested, uint256 remaining);
    /// @notice A mint cap needs a non-zero period.
    error MintCapInvalid(uint64 cap, uint32 period);
    /// @notice A contract is created with at least one issuer key.
    error IssuersEmpty();
    /// @notice The zero address cannot hold the issuer role.
    error IssuerInvalid(address issuer);

    /// @notice Emitted once per {issue}, {issueBatch} or {reissue} transaction, after the ERC-721 {Transfer} of
    /// each certificate minted (a {Transfer} from the zero address names holder and token id, which is the
    /// document digest; expiry and request id are in the document).
    /// @param issuer The account that issued.
    /// @param count How many certificates were minted.
    /// @param burnAuth The ERC-5484 burn authorization they all got.
    event CertificatesIssued(address indexed issuer, uint256 count, IERC5484.BurnAuth burnAuth);

    /// @notice Emitted when a certificate is revoked.
    event CertificateRevoked(uint256 indexed tokenId, RevocationReason reason, address indexed revokedBy);

    /// @notice Emitted with {CertificateRevoked} when the revocation was approved by several people off chain.
    /// @param tokenId The certificate revoked.
    /// @param approvalsHash The hash of the approvals record (who asked, who approved, when), which the issuer's
    /// audit log holds: the chain alone shows that this revocation was dual-controlled, and names the record.
    event RevocationApproved(uint256 indexed tokenId, bytes32 approvalsHash);

    /// @notice Emitted when a certificate is suspended.
    event CertificateSuspended(uint256 indexed tokenId, address indexed suspendedBy);

    /// @notice Emitted when a suspended certificate is reinstated.
    event CertificateUnsuspended(uint256 indexed tokenId, address indexed unsuspendedBy);

    /// @notice Emitted when a certificate is reissued to a new holder address; the previous one is superseded.
    event CertificateReissued(uint256 indexed previousTokenId, uint256 indexed tokenId, address indexed holder);

    /// @notice Emitted when a certificate is burned (renounced by its holder or removed by the issuer).
    event CertificateBurned(uint256 indexed tokenId, address indexed holder, address indexed burnedBy);

    /// @notice Emitted when a certificate's document is corrected; the token URI follows the new digest.
    event CertificateMetadataUpdated(uint256 indexed tokenId, bytes32 digest);

    /// @notice Emitted when the registry is linked to the platform's issuer registry.
    event IssuerRegistrySet(address indexed issuerRegistry);

    /// @notice Emitted when the minters' cap changes (`cap` 0: no cap).
    // solhint-disable-next-line gas-indexed-events
    event MintCapSet(uint64 cap, uint32 period);

    /// @notice Emitted when the burn authorization given to future certificates changes.
    event DefaultBurnAuthSet(IERC5484.BurnAuth burnAuth);

    /// @notice Issues one certificate; its token id is its document digest.
    /// @dev Requirements: caller has the issuer role, or the minter role within its cap; the registry is not
    /// paused and, when linked to an issuer registry, may issue; `digest` is non-zero and no certificate has it
    /// yet; `holder` is not the zero address. No ERC-721 receiver hook runs: the token can never move, so a
    /// holder contract has nothing to refuse.
    /// Emits an ERC-721 {Transfer} and a {CertificatesIssued} event.
    /// @param digest The sha-256 of the certificate document, which names the request id: the token id.
    /// @param holder Address that receives the token.
    /// @param validUntil Expiry as a unix timestamp; 0 means the certificate never expires.
    /// @return tokenId The id of the minted token (`uint256(digest)`).
    function issue(bytes32 digest, address holder, uint40 validUntil) external returns (uint256 tokenId);

    /// @notice Issues several certificates in one transaction.
    /// @dev Requirements: as {issue} for every entry; the batch is not empty and a whole number of entries. One
    /// bad entry reverts the batch. Emits an ERC-721 {Transfer} per certificate and one {CertificatesIssued}.
    /// @param certificates Packed entries of 57 bytes: digest (32), holder (20), validUntil (5, big-endian).
    function issueBatch(bytes calldata certificates) external;

    /// @notice Revokes a certificate for good.
    /// @dev Requirements: caller has the issuer or the minter role; the token exists and is not revoked.
    /// Emits a {CertificateRevoked} and an ERC-4906 {MetadataUpdate} event.
    /// @param tokenId The certificate to revoke.
    /// @param reason Why, as an RFC 5280 reason code.
    function revoke(uint256 tokenId, RevocationReason reason) external;

    /// @notice Revokes a certificate for good, naming the approvals that allowed it.
    /// @dev Requirements: as {revoke}; `approvalsHash` is not zero.
    /// Emits a {CertificateRevoked}, a {RevocationApproved} and an ERC-4906 {MetadataUpdate} event.
    /// @param tokenId The certificate to revoke.
    /// @param reason Why, as an RFC 5280 reason code.
    /// @param approvalsHash The hash of the approvals record (see {RevocationApproved}).
    function revokeWithApprovals(uint256 tokenId, RevocationReason reason, bytes32 approvalsHash) external;

    /// @notice The verdict a verifier should reach for a token.
    /// @param tokenId The certificate to check.
    /// @return The status; `Unknown` for a token that was never issued.
    function status(uint256 tokenId) external view returns (Status);

    /// @notice The stored record of a certificate.
    /// @param tokenId The certificate to read.
    /// @return The record; reverts with {CertificateNotFound} for an unknown token.
    function certificate(uint256 tokenId) external view returns (CertificateRecord memory);

    /// @notice The certificate a document is the current or a past version of: the token whose id is its
    /// digest, else the token a correction ({updateMetadata}) gave this digest.
    /// @param digest The sha-256 of a certificate document.
    /// @return The token id, or 0 when no certificate has this document.
    function tokenOfDocument(bytes32 digest) external view returns (uint256);

    /// @notice Suspends a certificate (reversible); its status becomes `Suspended` unless a stronger verdict applies.
    /// @dev Requirements: caller has the issuer role; the token exists, is not revoked and not suspended.
    /// Emits a {CertificateSuspended} and an ERC-4906 {MetadataUpdate} event.
    /// @param tokenId The certificate.
    function suspend(uint256 tokenId) external;

    /// @notice Lifts a suspension.
    /// @dev Requirements: caller has the issuer role; the token is suspended and not revoked.
    /// Emits a {CertificateUnsuspended} and an ERC-4906 {MetadataUpdate} event.
    /// @param tokenId The certificate.
    function unsuspend(uint256 tokenId) external;

    /// @notice Recovery after a lost wallet: issues a new certificate (to the holder's new address) that links
    /// to the previous one, which becomes `Superseded` for good.
    /// @dev Requirements: as {issue}, with the issuer role; the previous token exists and is neither revoked,
    /// burned nor already superseded.
    /// Emits a {CertificateReissued} and an ERC-4906 {MetadataUpdate} event for the previous token (now
    /// `Superseded`), then the events of {issue} for the new one.
    /// @param previousTokenId The certificate being replaced.
    /// @param digest The new certificate's document digest (its token id).
    /// @param holder The new holder address.
    /// @param validUntil Expiry of the new certificate, 0 for none.
    /// @return tokenId The new token id.
    function reissue(uint256 previousTokenId, bytes32 digest, address holder, uint40 validUntil)
        external
        returns (uint256 tokenId);

    /// @notice Burns a certificate, as its ERC-5484 burn authorization allows: the holder renounces it, or
    /// the issuer removes it. Its request id stays used; its status becomes `Revoked`.
    /// @dev Requirements: the token exists; the caller is the holder and the burn authorization is
    /// `OwnerOnly` or `Both`, or the caller has the issuer role and it is `IssuerOnly` or `Both`.
    /// Emits a {CertificateBurned}, an ERC-4906 {MetadataUpdate} and an ERC-721 {Transfer} event to the zero
    /// address.
    /// @param tokenId The certificate.
    function burn(uint256 tokenId) external;

    /// @notice Corrects a certificate's document: its digest is stored apart (the token id stays) and the
    /// token URI becomes the CID of the new digest.
    /// @dev Requirements: caller has the issuer role; not paused; the token exists and is not revoked or burned;
    /// `digest` is non-zero. Emits a {CertificateMetadataUpdated} and an ERC-4906 {MetadataUpdate} event.
    /// @param tokenId The certificate.
    /// @param digest The corrected document's digest.
    function updateMetadata(uint256 tokenId, bytes32 digest) external;

    /// @notice Links the platform's issuer registry (once): from then on, issuing needs this registry to be
    /// bound to an active institution there, and the operator's token freezes show as `Suspended`.
    /// @dev Requirements: caller has the default admin role; no issuer registry is linked yet; non-zero.
    /// Emits an {IssuerRegistrySet} event and an ERC-4906 {BatchMetadataUpdate} over every token id (1 to
    /// 2^256 - 1; ids are digests): the operator's freezes now show in their {status}.
    /// @param issuerRegistry_ The issuer registry.
    function setIssuerRegistry(IIssuerRegistry issuerRegistry_) external;

    /// @notice Sets the ERC-7572 contract-level metadata URI: a full URI, or a base ending in `/` to which
    /// `contractURI()` appends this contract's address and `/contract.json`; empty removes it.
    /// @dev Requirements: caller has the default admin role, else reverts with
    /// {IAccessControl-AccessControlUnauthorizedAccount}. Emits an ERC-7572 {ContractURIUpdated} event.
    /// @param uri The URI or base.
    function setContractURI(string calldata uri) external;

    /// @notice Caps how many certificates minters (accounts with the minter role but not the issuer role)
    /// may issue per period, counted across all minters; `cap` 0 removes the cap.
    /// @dev Requirements: caller has the default admin role; `period` is non-zero when `cap` is.
    /// Emits a {MintCapSet} event.
    /// @param cap Certificates per period.
    /// @param period Length of a period in seconds (periods are aligned to unix time 0).
    function setMintCap(uint64 cap, uint32 period) external;

    /// @notice Sets the ERC-5484 burn authorization given to certificates issued from now on.
    /// @dev Requirements: caller has the default admin role. Emits a {DefaultBurnAuthSet} event.
    /// @param burnAuth_ The burn authorization.
    function setDefaultBurnAuth(IERC5484.BurnAuth burnAuth_) external;

    /// @notice Stops issuing, reissuing and metadata corrections.
    /// @dev Requirements: caller has the pauser role; not paused. Emits a {Paused} event.
    function pause() external;

    /// @notice Resumes issuing.
    /// @dev Requirements: caller has the pauser role; paused. Emits an {Unpaused} event.
    function unpause() external;

    /// @notice The token that superseded this one, 0 when none.
    /// @param tokenId The certificate.
    /// @return The successor's token id.
    function supersededBy(uint256 tokenId) external view returns (uint256);

    /// @notice The token this one replaced through {reissue}, 0 when none.
    /// @param tokenId The certificate.
    /// @return The predecessor's token id.
    function replaces(uint256 tokenId) external view returns (uint256);

    /// @notice Whether the issuer suspended the certificate (the operator's freeze is reported by {status}).
    /// @param tokenId The certificate.
    /// @return True when suspended.
    function isSuspended(uint256 tokenId) external view returns (bool);

    /// @notice The burn authorization given to certificates issued from now on.
    /// @return The burn authorization.
    function defaultBurnAuth() external view returns (IERC5484.BurnAuth);

    /// @notice The linked issuer registry, or the zero address.
    /// @return The issuer registry.
    function issuerRegistry() external view returns (IIssuerRegistry);

    /// @notice The minters' cap and how much of the current period is used.
    /// @return cap Certificates per period (0: no cap).
    /// @return period Period length in seconds.
    /// @return remaining How many more minters may issue in the current period.
    function mintCap() external view returns (uint64 cap, uint32 period, uint256 remaining);
}
