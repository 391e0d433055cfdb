// SPDX-License-Identifier: Apache-2.0
/* solhint-disable func-name-mixedcase, gas-custom-errors */
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Test} from "./utils/Test.sol";
import {IssuerRegistry} from "../IssuerRegistry.sol";
import {IIssuerRegistry} from "../interfaces/IIssuerRegistry.sol";

/// Audit anchors: the registry stores nothing for them, so each test checks who may anchor and what is refused.
contract IssuerRegistryAuditAnchorTest is Test {
    address internal constant ADMIN = address(0xAD);
    address internal constant OPERATOR = address(0x0FE);
    address internal constant OUTSIDER = address(0x0BAD);
    bytes16 internal constant LOG = bytes16(0x0123456789abcdef0123456789abcdef);

    IssuerRegistry internal registry;

    function setUp() public {
        registry = new IssuerRegistry(2 days, ADMIN, OPERATOR);
    }

    function test_anchorAuditLog_operatorAnchors() public {
        vm.prank(OPERATOR);
        registry.anchorAuditLog(LOG, 1, 1, keccak256("root"));
        vm.prank(OPERATOR);
        registry.anchorAuditLog(LOG, 2, 10, keccak256("next"));
    }

    function test_anchorAuditLog_revertsAccessControlUnauthorizedAccount() public {
        bytes32 role = registry.OPERATOR_ROLE();
        vm.prank(OUTSIDER);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, OUTSIDER, role));
        registry.anchorAuditLog(LOG, 1, 1, keccak256("root"));
    }

    function test_anchorAuditLog_revertsAuditAnchorInvalidOnZeroRoot() public {
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(IIssuerRegistry.AuditAnchorInvalid.selector, 1, 2, bytes32(0)));
        registry.anchorAuditLog(LOG, 1, 2, bytes32(0));
    }

    function test_anchorAuditLog_revertsAuditAnchorInvalidOnZeroFirstSeq() public {
        bytes32 root = keccak256("root");
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(IIssuerRegistry.AuditAnchorInvalid.selector, 0, 2, root));
        registry.anchorAuditLog(LOG, 0, 2, root);
    }

    function test_anchorAuditLog_revertsAuditAnchorInvalidOnReversedRange() public {
        bytes32 root = keccak256("root");
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(IIssuerRegistry.AuditAnchorInvalid.selector, 5, 4, root));
        registry.anchorAuditLog(LOG, 5, 4, root);
    }
}
