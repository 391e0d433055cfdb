// SPDX-License-Identifier: Apache-2.0
/* solhint-disable func-name-mixedcase, one-contract-per-file, gas-custom-errors, gas-strict-inequalities, max-states-count, immutable-vars-naming, gas-increment-by-one, no-empty-blocks, gas-small-strings, function-max-lines, avoid-low-level-calls */
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Test} from "./utils/Test.sol";
import {CertificateRegistry} from "../CertificateRegistry.sol";
import {ICertificateRegistry} from "../interfaces/ICertificateRegistry.sol";
import {IERC5484} from "../interfaces/IERC5484.sol";
import {IIssuerRegistry} from "../interfaces/IIssuerRegistry.sol";
import {ReentrantHolder} from "./ReentrantHolder.sol";

/// @dev Calls the registry with random sequences of every state-changing function, as every kind of caller,
/// and keeps ghost state for the invariants.
contract RegistryHandler is Test {
    CertificateRegistry public immutable registry;
    address public immutable issuer;
    address public immutable admin;
    address[4] public actors;

    uint256[] public minted;
    bytes32[] public usedRequests;
    mapping(uint256 tokenId => address) public originalOwner;
    mapping(uint256 tokenId => bool) public ghostRevoked;
    mapping(uint256 tokenId => bool) public ghostBurned;
    mapping(bytes32 requestId => uint256) public mintsOfRequest;
    uint256 public movedBetweenHolders; // must stay 0
    uint256 private _nonce;

    constructor(CertificateRegistry registry_, address issuer_, address admin_) {
        registry = registry_;
        issuer = issuer_;
        admin = admin_;
        actors = [address(0xA11CE), address(0xB0B), address(0xCA401), address(0xD0D0)];
    }

    function mintedCount() external view returns (uint256) {
        return minted.length;
    }

    function usedCount() external view returns (uint256) {
        return usedRequests.length;
    }

    function _request(uint256 seed, bool reuse, uint256 holderIndex) private returns (ICertificateRegistry.IssueRequest memory r) {
        bytes32 requestId = reuse && usedRequests.length > 0
            ? usedRequests[seed % usedRequests.length]
            : keccak256(abi.encode(seed, ++_nonce));
        r = ICertificateRegistry.IssueRequest({
            requestId: requestId,
            holder: actors[holderIndex % actors.length],
            uri: "ipfs://fuzz",
            digest: keccak256(abi.encode(requestId)),
            validUntil: uint64(seed % 3 == 0 ? 0 : block.timestamp + (seed % 1000))
        });
    }

    function _record(uint256 tokenId, ICertificateRegistry.IssueRequest memory r) private {
        minted.push(tokenId);
        if (mintsOfRequest[r.requestId] == 0) usedRequests.push(r.requestId);
        mintsOfRequest[r.requestId] += 1;
        originalOwner[tokenId] = r.holder;
    }

    function issue(uint256 seed, bool reuse, uint256 holderIndex) external {
        ICertificateRegistry.IssueRequest memory r = _request(seed, reuse, holderIndex);
        vm.prank(issuer);
        try registry.issue(r) returns (uint256 tokenId) {
            _record(tokenId, r);
        } catch {}
    }

    function issueBatch(uint256 seed, bool reuse, uint8 size) external {
        uint256 n = bound(size, 1, 4);
        ICertificateRegistry.IssueRequest[] memory rs = new ICertificateRegistry.IssueRequest[](n);
        for (uint256 i = 0; i < n; ++i) {
            rs[i] = _request(seed + i, reuse && i == n - 1, seed >> i);
        }
        vm.prank(issuer);
        try registry.issueBatch(rs) returns (uint256 first) {
            for (uint256 i = 0; i < n; ++i) {
                _record(first + i, rs[i]);
            }
        } catch {}
    }

    function reissue(uint256 tokenSeed, uint256 seed, uint256 holderIndex) external {
        if (minted.length == 0) return;
        uint256 previous = minted[tokenSeed % minted.length];
        ICertificateRegistry.IssueRequest memory r = _request(seed, false, holderIndex);
        vm.prank(issuer);
        try registry.reissue(previous, r) returns (uint256 tokenId) {
            _record(tokenId, r);
        } catch {}
    }

    function revoke(uint256 tokenSeed, uint8 reason) external {
        if (minted.length == 0) return;
        uint256 tokenId = minted[tokenSeed % minted.length];
        vm.prank(issuer);
        try registry.revoke(tokenId, ICertificateRegistry.RevocationReason(bound(reason, 0, 10))) {
            ghostRevoked[tokenId] = true;
        } catch {}
    }

    function suspend(uint256 tokenSeed, bool lift) external {
        if (minted.length == 0) return;
        uint256 tokenId = minted[tokenSeed % minted.length];
        vm.prank(issuer);
        if (lift) {
            try registry.unsuspend(tokenId) {} catch {}
        } else {
            try registry.suspend(tokenId) {} catch {}
        }
    }

    function burn(uint256 tokenSeed, bool asIssuer) external {
        if (minted.length == 0) return;
        uint256 tokenId = minted[tokenSeed % minted.length];
        vm.prank(asIssuer ? issuer : originalOwner[tokenId]);
        try registry.burn(tokenId) {
            ghostBurned[tokenId] = true;
        } catch {}
    }

    function updateMetadata(uint256 tokenSeed, bytes32 digest) external {
        if (minted.length == 0) return;
        vm.prank(issuer);
        try registry.updateMetadata(minted[tokenSeed % minted.length], "ipfs://fixed", digest) {} catch {}
    }

    /// @dev Every transfer and approval path, by the holder, the issuer, the admin or a stranger.
    function tryToMove(uint256 tokenSeed, uint256 callerSeed, uint256 toSeed, uint8 path) external {
        if (minted.length == 0) return;
        uint256 tokenId = minted[tokenSeed % minted.length];
        address owner = originalOwner[tokenId];
        address[4] memory callers = [owner, issuer, admin, actors[callerSeed % actors.length]];
        address caller = callers[callerSeed % 4];
        address to = actors[toSeed % actors.length];
        vm.startPrank(caller);
        uint256 p = path % 5;
        if (p == 0) {
            try registry.transferFrom(owner, to, tokenId) {} catch {}
        } else if (p == 1) {
            try registry.safeTransferFrom(owner, to, tokenId) {} catch {}
        } else if (p == 2) {
            try registry.safeTransferFrom(owner, to, tokenId, "") {} catch {}
        } else if (p == 3) {
            try registry.approve(to, tokenId) {} catch {}
        } else {
            try registry.setApprovalForAll(to, true) {} catch {}
        }
        vm.stopPrank();
        if (!ghostBurned[tokenId] && registry.ownerOf(tokenId) != owner) movedBetweenHolders += 1;
    }

    function warp(uint16 seconds_) external {
        vm.warp(block.timestamp + seconds_);
    }
}

contract CertificateRegistryTest is Test {
    address internal constant ADMIN = address(0xAD);
    address internal constant ISSUER = address(0x1551E);
    address internal constant OUTSIDER = address(0x0BAD);

    CertificateRegistry internal registry;
    RegistryHandler internal handler;

    function setUp() public {
        address[] memory issuers = new address[](1);
        issuers[0] = ISSUER;
        registry = new CertificateRegistry("Hallmark Test", "HMT", ADMIN, issuers, IIssuerRegistry(address(0)), "");
        vm.prank(ADMIN);
        registry.setDefaultBurnAuth(IERC5484.BurnAuth.Both);
        handler = new RegistryHandler(registry, ISSUER, ADMIN);
        targetContract(address(handler));
    }

    function _req(bytes32 requestId, address holder) internal pure returns (ICertificateRegistry.IssueRequest memory) {
        return ICertificateRegistry.IssueRequest({
            requestId: requestId,
            holder: holder,
            uri: "ipfs://x",
            digest: keccak256(abi.encode(requestId)),
            validUntil: 0
        });
    }

    // ---------------------------------------------------------------------------------------------------
    // Fuzz

    function testFuzz_issue_requestIdNeverMintsTwice(bytes32 requestId, address holder, address other) public {
        vm.assume(requestId != bytes32(0) && holder.code.length == 0 && other.code.length == 0);
        vm.assume(holder != address(0) && other != address(0) && uint160(holder) > 0x100 && uint160(other) > 0x100);
        vm.prank(ISSUER);
        uint256 tokenId = registry.issue(_req(requestId, holder));
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.RequestAlreadyUsed.selector, requestId));
        vm.prank(ISSUER);
        registry.issue(_req(requestId, other));
        ICertificateRegistry.IssueRequest[] memory batch = new ICertificateRegistry.IssueRequest[](1);
        batch[0] = _req(requestId, other);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.RequestAlreadyUsed.selector, requestId));
        vm.prank(ISSUER);
        registry.issueBatch(batch);
        assertEq(registry.tokenOfRequest(requestId), tokenId, "request id maps to its first token");
    }

    function testFuzz_transferFrom_revertsCertificateLocked(address caller, address to, uint8 path) public {
        vm.assume(uint160(caller) > 0x100);
        vm.prank(ISSUER);
        uint256 tokenId = registry.issue(_req(keccak256("t"), address(0xA11CE)));
        bytes memory locked = abi.encodeWithSelector(ICertificateRegistry.CertificateLocked.selector, tokenId);
        vm.startPrank(caller);
        uint256 p = path % 4;
        vm.expectRevert(p == 3 ? abi.encodeWithSelector(ICertificateRegistry.ApprovalsDisabled.selector) : locked);
        if (p == 0) registry.transferFrom(address(0xA11CE), to, tokenId);
        else if (p == 1) registry.safeTransferFrom(address(0xA11CE), to, tokenId);
        else if (p == 2) registry.approve(to, tokenId);
        else registry.setApprovalForAll(to, true);
        vm.stopPrank();
        assertEq(registry.ownerOf(tokenId), address(0xA11CE), "owner unchanged");
    }

    function testFuzz_revoke_revokedNeverValidAgain(uint8 reason, uint32 later) public {
        vm.prank(ISSUER);
        uint256 tokenId = registry.issue(_req(keccak256("r"), address(0xA11CE)));
        vm.prank(ISSUER);
        registry.revoke(tokenId, ICertificateRegistry.RevocationReason(bound(reason, 0, 10)));
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.CertificateAlreadyRevoked.selector, tokenId));
        registry.unsuspend(tokenId);
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.CertificateAlreadyRevoked.selector, tokenId));
        registry.reissue(tokenId, _req(keccak256("r2"), address(0xB0B)));
        vm.warp(block.timestamp + later);
        assertEq(uint256(registry.status(tokenId)), uint256(ICertificateRegistry.Status.Revoked), "still revoked");
    }

    // ---------------------------------------------------------------------------------------------------
    // Roles: every state-changing selector reverts for a caller without its role

    function test_roles_everyStateChangingSelectorRevertsForOutsider() public {
        vm.prank(ISSUER);
        uint256 tokenId = registry.issue(_req(keccak256("roles"), address(0xA11CE)));
        ICertificateRegistry.IssueRequest[] memory batch = new ICertificateRegistry.IssueRequest[](1);
        batch[0] = _req(keccak256("b"), OUTSIDER);
        bytes32 issuerRole = registry.ISSUER_ROLE();
        bytes32 adminRole = registry.DEFAULT_ADMIN_ROLE();
        bytes32 pauserRole = registry.PAUSER_ROLE();

        bytes[] memory calls = new bytes[](18);
        bytes32[] memory roles = new bytes32[](18);
        calls[0] = abi.encodeCall(registry.issue, (_req(keccak256("o"), OUTSIDER)));
        roles[0] = issuerRole;
        calls[1] = abi.encodeCall(registry.issueBatch, (batch));
        roles[1] = issuerRole;
        calls[2] = abi.encodeCall(registry.revoke, (tokenId, ICertificateRegistry.RevocationReason.Unspecified));
        roles[2] = issuerRole;
        calls[3] = abi.encodeCall(registry.suspend, (tokenId));
        roles[3] = issuerRole;
        calls[4] = abi.encodeCall(registry.unsuspend, (tokenId));
        roles[4] = issuerRole;
        calls[5] = abi.encodeCall(registry.reissue, (tokenId, _req(keccak256("o2"), OUTSIDER)));
        roles[5] = issuerRole;
        calls[6] = abi.encodeCall(registry.updateMetadata, (tokenId, "ipfs://y", bytes32(0)));
        roles[6] = issuerRole;
        calls[7] = abi.encodeCall(registry.setIssuerRegistry, (IIssuerRegistry(address(1))));
        roles[7] = adminRole;
        calls[8] = abi.encodeCall(registry.setMintCap, (1, 1));
        roles[8] = adminRole;
        calls[9] = abi.encodeCall(registry.setDefaultBurnAuth, (IERC5484.BurnAuth.Both));
        roles[9] = adminRole;
        calls[10] = abi.encodeCall(registry.pause, ());
        roles[10] = pauserRole;
        calls[11] = abi.encodeCall(registry.unpause, ());
        roles[11] = pauserRole;
        calls[12] = abi.encodeCall(registry.grantRole, (issuerRole, OUTSIDER));
        roles[12] = adminRole;
        calls[13] = abi.encodeCall(registry.revokeRole, (issuerRole, ISSUER));
        roles[13] = adminRole;
        calls[14] = abi.encodeCall(registry.beginDefaultAdminTransfer, (OUTSIDER));
        roles[14] = adminRole;
        calls[15] = abi.encodeCall(registry.changeDefaultAdminDelay, (1));
        roles[15] = adminRole;
        calls[16] = abi.encodeCall(registry.setContractURI, ("https://x.example/contract.json"));
        roles[16] = adminRole;
        calls[17] = abi.encodeCall(
            registry.revokeWithApprovals, (tokenId, ICertificateRegistry.RevocationReason.Unspecified, keccak256("a"))
        );
        roles[17] = issuerRole;

        for (uint256 i = 0; i < calls.length; ++i) {
            vm.prank(OUTSIDER);
            (bool ok, bytes memory data) = address(registry).call(calls[i]);
            assertTrue(!ok, "outsider call succeeded");
            assertEq(
                keccak256(data),
                keccak256(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, OUTSIDER, roles[i])),
                "exact AccessControlUnauthorizedAccount(outsider, role)"
            );
        }
        // burn is gated by the token's ERC-5484 authorization rather than a role.
        vm.prank(OUTSIDER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.BurnNotAllowed.selector, tokenId, OUTSIDER));
        registry.burn(tokenId);
    }

    // ---------------------------------------------------------------------------------------------------
    // Dual-controlled revocation

    function test_revokeWithApprovals_revokesAndKeepsReason() public {
        vm.prank(ISSUER);
        uint256 tokenId = registry.issue(_req(keccak256("dual"), address(0xA11CE)));
        vm.prank(ISSUER);
        registry.revokeWithApprovals(tokenId, ICertificateRegistry.RevocationReason.AffiliationChanged, keccak256("approvals"));
        assertEq(uint256(registry.status(tokenId)), uint256(ICertificateRegistry.Status.Revoked), "revoked");
        assertEq(
            uint256(registry.certificate(tokenId).revocationReason),
            uint256(ICertificateRegistry.RevocationReason.AffiliationChanged),
            "reason kept"
        );
    }

    function test_revokeWithApprovals_revertsApprovalsHashEmpty() public {
        vm.prank(ISSUER);
        uint256 tokenId = registry.issue(_req(keccak256("empty"), address(0xA11CE)));
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.ApprovalsHashEmpty.selector));
        registry.revokeWithApprovals(tokenId, ICertificateRegistry.RevocationReason.Unspecified, bytes32(0));
        assertEq(uint256(registry.status(tokenId)), uint256(ICertificateRegistry.Status.Valid), "still valid");
    }

    function test_revokeWithApprovals_revertsCertificateNotFound() public {
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.CertificateNotFound.selector, 42));
        registry.revokeWithApprovals(42, ICertificateRegistry.RevocationReason.Unspecified, keccak256("a"));
    }

    function test_revokeWithApprovals_revertsCertificateAlreadyRevoked() public {
        vm.prank(ISSUER);
        uint256 tokenId = registry.issue(_req(keccak256("twice"), address(0xA11CE)));
        vm.prank(ISSUER);
        registry.revoke(tokenId, ICertificateRegistry.RevocationReason.Unspecified);
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.CertificateAlreadyRevoked.selector, tokenId));
        registry.revokeWithApprovals(tokenId, ICertificateRegistry.RevocationReason.Unspecified, keccak256("a"));
    }

    function test_revokeWithApprovals_revertsAccessControlUnauthorizedAccount() public {
        vm.prank(ISSUER);
        uint256 tokenId = registry.issue(_req(keccak256("outsider"), address(0xA11CE)));
        bytes32 issuerRole = registry.ISSUER_ROLE();
        vm.prank(OUTSIDER);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, OUTSIDER, issuerRole)
        );
        registry.revokeWithApprovals(tokenId, ICertificateRegistry.RevocationReason.Unspecified, keccak256("a"));
    }

    // ---------------------------------------------------------------------------------------------------
    // Re-entrancy

    function test_issue_reentrantHolderCannotMintTwice() public {
        ReentrantHolder swallowing = new ReentrantHolder(registry, true);
        vm.startPrank(ADMIN);
        registry.grantRole(registry.ISSUER_ROLE(), address(swallowing));
        vm.stopPrank();
        bytes32 requestId = keccak256("reentry");
        vm.prank(ISSUER);
        uint256 tokenId = registry.issue(_req(requestId, address(swallowing)));
        assertTrue(swallowing.reentered(), "re-entered");
        assertEq(swallowing.innerTokenId(), 0, "inner issue minted nothing");
        assertEq(
            keccak256(swallowing.innerRevertData()),
            keccak256(abi.encodeWithSelector(ICertificateRegistry.RequestAlreadyUsed.selector, requestId)),
            "inner issue reverted RequestAlreadyUsed(requestId)"
        );
        assertEq(registry.balanceOf(address(swallowing)), 1, "one token");
        assertEq(registry.tokenOfRequest(requestId), tokenId, "request id maps to the outer token");

        ReentrantHolder propagating = new ReentrantHolder(registry, false);
        vm.startPrank(ADMIN);
        registry.grantRole(registry.ISSUER_ROLE(), address(propagating));
        vm.stopPrank();
        bytes32 second = keccak256("reentry-2");
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.RequestAlreadyUsed.selector, second));
        registry.issue(_req(second, address(propagating)));
        assertEq(registry.tokenOfRequest(second), 0, "nothing minted");
    }

    function test_issue_nonReceiverContractRevertsERC721InvalidReceiver() public {
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(this)));
        registry.issue(_req(keccak256("contract"), address(this)));
    }

    // ---------------------------------------------------------------------------------------------------
    // Invariants

    function invariant_lockedTokenNeverMovesBetweenTwoNonZeroAddresses() public view {
        assertEq(handler.movedBetweenHolders(), 0, "a token moved");
        uint256 n = handler.mintedCount();
        for (uint256 i = 0; i < n; ++i) {
            uint256 tokenId = handler.minted(i);
            if (handler.ghostBurned(tokenId)) continue;
            assertEq(registry.ownerOf(tokenId), handler.originalOwner(tokenId), "owner changed");
        }
    }

    function invariant_requestIdNeverMintsTwice() public view {
        uint256 n = handler.usedCount();
        for (uint256 i = 0; i < n; ++i) {
            bytes32 requestId = handler.usedRequests(i);
            assertEq(handler.mintsOfRequest(requestId), 1, "request id minted twice");
            (bytes32 stored,,,,,) = _record(registry.tokenOfRequest(requestId));
            assertEq(stored, requestId, "index and record agree");
        }
        assertEq(handler.mintedCount(), n, "one token per distinct request id");
    }

    function invariant_revokedTokenNeverValid() public view {
        uint256 n = handler.mintedCount();
        for (uint256 i = 0; i < n; ++i) {
            uint256 tokenId = handler.minted(i);
            if (handler.ghostRevoked(tokenId) || handler.ghostBurned(tokenId)) {
                assertEq(uint256(registry.status(tokenId)), uint256(ICertificateRegistry.Status.Revoked), "revoked token");
            }
        }
    }

    function _record(uint256 tokenId)
        private
        view
        returns (bytes32, bytes32, uint64, uint64, bool, ICertificateRegistry.RevocationReason)
    {
        ICertificateRegistry.CertificateRecord memory r = registry.certificate(tokenId);
        return (r.requestId, r.digest, r.issuedAt, r.validUntil, r.revoked, r.revocationReason);
    }
}
