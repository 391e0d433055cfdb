// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {IIssuerRegistry} from "./interfaces/IIssuerRegistry.sol";

/// @title Hallmark issuer registry
/// @notice The platform operator's register of institutions, with their history checkpointed by timestamp.
/// @dev The default admin (two-step transfer with a delay) grants `OPERATOR_ROLE`, which runs the register.
contract IssuerRegistry is AccessControlDefaultAdminRules, IIssuerRegistry {
    using Checkpoints for Checkpoints.Trace208;

    /// @notice Role of the platform operator's keys.
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    uint256 private constant _MAX_TEXT = 256;

    Institution[] private _institutions;
    mapping(address account => Checkpoints.Trace208) private _bindings; // value: institution id, 0 = unbound
    mapping(uint256 institutionId => Checkpoints.Trace208) private _active; // value: 1 active, 0 suspended
    mapping(address registry => mapping(uint256 tokenId => bool)) private _frozen;

    /// @param initialDelay Delay of a default admin transfer.
    /// @param admin The default admin.
    /// @param operator First holder of the operator role.
    constructor(uint48 initialDelay, address admin, address operator)
        AccessControlDefaultAdminRules(initialDelay, admin)
    {
        _grantRole(OPERATOR_ROLE, operator);
    }

    /// @inheritdoc IIssuerRegistry
    function registerInstitution(string calldata name, string calldata identity, address[] calldata accounts)
        external
        onlyRole(OPERATOR_ROLE)
        returns (uint256 institutionId)
    {
        _checkDescription(name, identity);
        _institutions.push(
            Institution({
                name: name,
                identity: identity,
                status: InstitutionStatus.Active,
                registeredAt: uint64(block.timestamp)
            })
        );
        institutionId = _institutions.length;
        _active[institutionId].push(_now(), 1);
        emit InstitutionRegistered(institutionId, name, identity);
        for (uint256 i = 0; i < accounts.length; ++i) {
            _bind(institutionId, accounts[i]);
        }
    }

    /// @inheritdoc IIssuerRegistry
    function updateInstitution(uint256 institutionId, string calldata name, string calldata identity)
        external
        onlyRole(OPERATOR_ROLE)
    {
        Institution storage inst = _get(institutionId);
        _checkDescription(name, identity);
        inst.name = name;
        inst.identity = identity;
        emit InstitutionUpdated(institutionId, name, identity);
    }

    /// @inheritdoc IIssuerRegistry
    function anchorAuditLog(bytes16 log, uint64 firstSeq, uint64 lastSeq, bytes32 root)
        external
        onlyRole(OPERATOR_ROLE)
    {
        if (root == bytes32(0) || firstSeq == 0 || firstSeq > lastSeq) revert AuditAnchorInvalid(firstSeq, lastSeq, root);
        emit AuditLogAnchored(log, firstSeq, lastSeq, root);
    }

    /// @inheritdoc IIssuerRegistry
    function bindAccount(uint256 institutionId, address account) external onlyRole(OPERATOR_ROLE) {
        _get(institutionId);
        _bind(institutionId, account);
    }

    /// @inheritdoc IIssuerRegistry
    function unbindAccount(address account) external onlyRole(OPERATOR_ROLE) {
        uint256 institutionId = _bindings[account].latest();
        if (institutionId == 0) revert AccountNotBound(account);
        _bindings[account].push(_now(), 0);
        emit AccountUnbound(institutionId, account);
    }

    /// @inheritdoc IIssuerRegistry
    function suspendInstitution(uint256 institutionId, string calldata reason) external onlyRole(OPERATOR_ROLE) {
        Institution storage inst = _get(institutionId);
        if (inst.status == InstitutionStatus.Suspended) revert InstitutionAlreadySuspended(institutionId);
        inst.status = InstitutionStatus.Suspended;
        _active[institutionId].push(_now(), 0);
        emit InstitutionSuspended(institutionId, reason);
    }

    /// @inheritdoc IIssuerRegistry
    function reactivateInstitution(uint256 institutionId) external onlyRole(OPERATOR_ROLE) {
        Institution storage inst = _get(institutionId);
        if (inst.status != InstitutionStatus.Suspended) revert InstitutionNotSuspended(institutionId);
        inst.status = InstitutionStatus.Active;
        _active[institutionId].push(_now(), 1);
        emit InstitutionReactivated(institutionId);
    }

    /// @inheritdoc IIssuerRegistry
    function freezeToken(address registry, uint256 tokenId) external onlyRole(OPERATOR_ROLE) {
        if (_frozen[registry][tokenId]) revert TokenAlreadyFrozen(registry, tokenId);
        _frozen[registry][tokenId] = true;
        emit TokenFrozen(registry, tokenId, msg.sender);
    }

    /// @inheritdoc IIssuerRegistry
    function unfreezeToken(address registry, uint256 tokenId) external onlyRole(OPERATOR_ROLE) {
        if (!_frozen[registry][tokenId]) revert TokenNotFrozen(registry, tokenId);
        _frozen[registry][tokenId] = false;
        emit TokenUnfrozen(registry, tokenId, msg.sender);
    }

    /// @inheritdoc IIssuerRegistry
    function institution(uint256 institutionId) external view returns (Institution memory) {
        return _get(institutionId);
    }

    /// @inheritdoc IIssuerRegistry
    function institutionCount() external view returns (uint256) {
        return _institutions.length;
    }

    /// @inheritdoc IIssuerRegistry
    function institutionOf(address account) external view returns (uint256) {
        return _bindings[account].latest();
    }

    /// @inheritdoc IIssuerRegistry
    function canIssue(address account) external view returns (bool) {
        uint256 institutionId = _bindings[account].latest();
        return institutionId != 0 && _institutions[institutionId - 1].status == InstitutionStatus.Active;
    }

    /// @inheritdoc IIssuerRegistry
    function wasActive(address account, uint48 timestamp) external view returns (bool) {
        uint256 institutionId = _bindings[account].upperLookup(timestamp);
        return institutionId != 0 && _active[institutionId].upperLookup(timestamp) == 1;
    }

    /// @inheritdoc IIssuerRegistry
    function isTokenFrozen(address registry, uint256 tokenId) external view returns (bool) {
        return _frozen[registry][tokenId];
    }

    function _bind(uint256 institutionId, address account) private {
        if (account == address(0)) revert AccountInvalid(account);
        uint256 current = _bindings[account].latest();
        if (current != 0) revert AccountAlreadyBound(account, current);
        _bindings[account].push(_now(), uint208(institutionId));
        emit AccountBound(institutionId, account);
    }

    function _get(uint256 institutionId) private view returns (Institution storage) {
        if (institutionId == 0 || institutionId > _institutions.length) revert InstitutionNotFound(institutionId);
        return _institutions[institutionId - 1];
    }

    function _checkDescription(string calldata name, string calldata identity) private pure {
        uint256 n = bytes(name).length;
        uint256 d = bytes(identity).length;
        if (n == 0 || n > _MAX_TEXT || d == 0 || d > _MAX_TEXT) revert InstitutionDescriptionInvalid();
    }

    function _now() private view returns (uint48) {
        return uint48(block.timestamp);
    }
}
