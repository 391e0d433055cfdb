// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Hallmark issuer registry
/// @notice The platform operator's register of institutions: their accounts (signing keys and the certificate
/// registries they own), a name and an identity binding (a DNS domain or a DID), and whether they may issue.
/// Every change is checkpointed by timestamp, so a verifier can ask whether an account belonged to an active
/// institution at the moment a certificate was issued, and every change emits an event.
interface IIssuerRegistry {
    /// @notice Lifecycle of an institution; `None` for an id that was never registered.
    enum InstitutionStatus {
        None,
        Active,
        Suspended
    }

    /// @notice What the registry holds about an institution.
    /// @param name Display name, e.g. "University of Somewhere".
    /// @param identity Identity binding: a DNS domain (`example.edu`) or a DID (`did:web:example.edu`).
    /// @param status Whether its accounts may issue.
    /// @param registeredAt Unix time of registration.
    struct Institution {
        string name;
        string identity;
        InstitutionStatus status;
        uint64 registeredAt;
    }

    /// @notice No institution has this id.
    error InstitutionNotFound(uint256 institutionId);
    /// @notice The institution is already suspended.
    error InstitutionAlreadySuspended(uint256 institutionId);
    /// @notice The institution is not suspended, so it cannot be reactivated.
    error InstitutionNotSuspended(uint256 institutionId);
    /// @notice The name or the identity is empty or longer than 256 bytes.
    error InstitutionDescriptionInvalid();
    /// @notice The account is already bound to an institution (possibly another one).
    error AccountAlreadyBound(address account, uint256 institutionId);
    /// @notice The account is not bound to any institution.
    error AccountNotBound(address account);
    /// @notice The zero address cannot be bound.
    error AccountInvalid(address account);
    /// @notice The token is already frozen.
    error TokenAlreadyFrozen(address registry, uint256 tokenId);
    /// @notice The token is not frozen.
    error TokenNotFrozen(address registry, uint256 tokenId);

    /// @notice Emitted when an institution is registered (it starts active).
    event InstitutionRegistered(uint256 indexed institutionId, string name, string identity);
    /// @notice Emitted when an institution's name or identity changes.
    event InstitutionUpdated(uint256 indexed institutionId, string name, string identity);
    /// @notice Emitted when an institution is suspended: its accounts can no longer issue.
    event InstitutionSuspended(uint256 indexed institutionId, string reason);
    /// @notice Emitted when a suspended institution is reactivated.
    event InstitutionReactivated(uint256 indexed institutionId);
    /// @notice Emitted when an account (a key or a certificate registry) is bound to an institution.
    event AccountBound(uint256 indexed institutionId, address indexed account);
    /// @notice Emitted when an account is unbound from its institution.
    event AccountUnbound(uint256 indexed institutionId, address indexed account);
    /// @notice Emitted when the operator freezes a single token of a registry.
    event TokenFrozen(address indexed registry, uint256 indexed tokenId, address indexed frozenBy);
    /// @notice Emitted when the operator unfreezes a token.
    event TokenUnfrozen(address indexed registry, uint256 indexed tokenId, address indexed unfrozenBy);
    /// @notice Emitted when the operator anchors a Merkle root over a range of one institution's audit events.
    /// @param log The audit log: the institution's platform id (a UUID's 16 bytes), not its registry id, so that
    /// institutions not yet registered on chain are anchored too.
    /// @param firstSeq The first event's sequence number in the log.
    /// @param lastSeq The last event's sequence number; the root covers every event in between, in order.
    /// @param root The Merkle root (sorted-pair keccak256, as OpenZeppelin's `MerkleProof`) over the events' hashes.
    event AuditLogAnchored(bytes16 indexed log, uint64 indexed firstSeq, uint64 indexed lastSeq, bytes32 root);

    /// @notice An audit anchor with an empty root or a range that ends before it starts.
    error AuditAnchorInvalid(uint64 firstSeq, uint64 lastSeq, bytes32 root);

    /// @notice Registers an institution, active from now, and binds its first accounts.
    /// @dev Requirements: caller has the operator role; name and identity are 1 to 256 bytes; no account is
    /// zero or already bound.
    /// Emits an {InstitutionRegistered} event and an {AccountBound} event per account.
    /// @param name Display name.
    /// @param identity DNS domain or DID.
    /// @param accounts Signing keys and certificate registries of the institution.
    /// @return institutionId The new id (ids start at 1).
    function registerInstitution(string calldata name, string calldata identity, address[] calldata accounts)
        external
        returns (uint256 institutionId);

    /// @notice Changes an institution's name or identity.
    /// @dev Requirements: caller has the operator role; the institution exists; both strings are valid.
    /// Emits an {InstitutionUpdated} event.
    /// @param institutionId The institution.
    /// @param name New display name.
    /// @param identity New DNS domain or DID.
    function updateInstitution(uint256 institutionId, string calldata name, string calldata identity) external;

    /// @notice Binds an account (a key or a certificate registry) to an institution.
    /// @dev Requirements: caller has the operator role; the institution exists; the account is non-zero and unbound.
    /// Emits an {AccountBound} event.
    /// @param institutionId The institution.
    /// @param account The account.
    function bindAccount(uint256 institutionId, address account) external;

    /// @notice Unbinds an account from its institution; from now on it cannot issue.
    /// @dev Requirements: caller has the operator role; the account is bound.
    /// Emits an {AccountUnbound} event.
    /// @param account The account.
    function unbindAccount(address account) external;

    /// @notice Suspends an institution: none of its accounts may issue until it is reactivated.
    /// @dev Requirements: caller has the operator role; the institution exists and is active.
    /// Emits an {InstitutionSuspended} event.
    /// @param institutionId The institution.
    /// @param reason Free text kept in the event.
    function suspendInstitution(uint256 institutionId, string calldata reason) external;

    /// @notice Reactivates a suspended institution.
    /// @dev Requirements: caller has the operator role; the institution is suspended.
    /// Emits an {InstitutionReactivated} event.
    /// @param institutionId The institution.
    function reactivateInstitution(uint256 institutionId) external;

    /// @notice Freezes one token of a certificate registry: the registry reports it `Suspended` until unfrozen.
    /// @dev Requirements: caller has the operator role; the token is not frozen.
    /// Emits a {TokenFrozen} event.
    /// @param registry The certificate registry.
    /// @param tokenId The token.
    function freezeToken(address registry, uint256 tokenId) external;

    /// @notice Unfreezes a token.
    /// @dev Requirements: caller has the operator role; the token is frozen.
    /// Emits a {TokenUnfrozen} event.
    /// @param registry The certificate registry.
    /// @param tokenId The token.
    function unfreezeToken(address registry, uint256 tokenId) external;

    /// @notice Anchors a Merkle root over audit events `firstSeq..lastSeq` of one institution's audit log. The
    /// registry stores nothing: the event is the anchor, read back by auditors through the logs.
    /// @dev Requirements: caller has the operator role; `root` is not zero; `firstSeq` is at least 1 and not
    /// after `lastSeq`.
    /// Emits an {AuditLogAnchored} event.
    /// @param log The audit log (see {AuditLogAnchored}).
    /// @param firstSeq The first event covered.
    /// @param lastSeq The last event covered.
    /// @param root The Merkle root over the events' hashes.
    function anchorAuditLog(bytes16 log, uint64 firstSeq, uint64 lastSeq, bytes32 root) external;

    /// @notice An institution's record.
    /// @param institutionId The institution; reverts with {InstitutionNotFound} when unknown.
    /// @return The record.
    function institution(uint256 institutionId) external view returns (Institution memory);

    /// @notice How many institutions were registered (the highest id).
    /// @return The count.
    function institutionCount() external view returns (uint256);

    /// @notice The institution an account is bound to now.
    /// @param account The account.
    /// @return The institution id, 0 when unbound.
    function institutionOf(address account) external view returns (uint256);

    /// @notice Whether an account may issue now: bound to an active institution.
    /// @param account A signing key or a certificate registry.
    /// @return True when it may issue.
    function canIssue(address account) external view returns (bool);

    /// @notice Whether an account was bound to an active institution at a moment in the past (or now).
    /// @param account A signing key or a certificate registry.
    /// @param timestamp Unix time, e.g. a certificate's `issuedAt`.
    /// @return True when it was.
    function wasActive(address account, uint48 timestamp) external view returns (bool);

    /// @notice Whether the operator froze a token.
    /// @param registry The certificate registry.
    /// @param tokenId The token.
    /// @return True when frozen.
    function isTokenFrozen(address registry, uint256 tokenId) external view returns (bool);
}
