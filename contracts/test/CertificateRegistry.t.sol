// SPDX-License-Identifier: Apache-2.0
/* solhint-disable func-name-mixedcase, one-contract-per-file, gas-custom-errors, gas-strict-inequalities, max-states-count, immutable-vars-naming, gas-increment-by-one, no-empty-blocks, gas-small-strings, function-max-lines, avoid-low-level-calls */
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Test} from "./utils/Test.sol";
import {CertificateRegistry} from "../CertificateRegistry.sol";
import {ICertificateRegistry} from "../interfaces/ICertificateRegistry.sol";
import {IERC5484} from "../interfaces/IERC5484.sol";
import {IIssuerRegistry} from "../interfaces/IIssuerRegistry.sol";

/// @dev Calls the registry with random sequences of every state-changing function, as every kind of caller,
/// and keeps ghost state for the invariants.
/// @dev The digest of a stand-in certificate document naming `requestId` (keccak256 rather than sha-256: a
/// precompile call would take the `vm.prank` meant for the registry).
function digestOf(bytes32 requestId) pure returns (bytes32) {
    return keccak256(abi.encode("document", requestId));
}

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

    struct Req {
        bytes32 requestId;
        address holder;
        uint40 validUntil;
    }

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

    /// @dev A request is its document digest: sha-256 of a document naming the request id.
    function _request(uint256 seed, bool reuse, uint256 holderIndex) private returns (Req memory r) {
        bytes32 requestId = reuse && usedRequests.length > 0
            ? usedRequests[seed % usedRequests.length]
            : keccak256(abi.encode(seed, ++_nonce));
        r = Req({
            requestId: requestId,
            holder: actors[holderIndex % actors.length],
            validUntil: uint40(seed % 3 == 0 ? 0 : block.timestamp + (seed % 1000))
        });
    }

    function _record(uint256 tokenId, Req memory r) private {
        minted.push(tokenId);
        if (mintsOfRequest[r.requestId] == 0) usedRequests.push(r.requestId);
        mintsOfRequest[r.requestId] += 1;
        originalOwner[tokenId] = r.holder;
    }

    function issue(uint256 seed, bool reuse, uint256 holderIndex) external {
        Req memory r = _request(seed, reuse, holderIndex);
        vm.prank(issuer);
        try registry.issue(digestOf(r.requestId), r.holder, r.validUntil) returns (uint256 tokenId) {
            _record(tokenId, r);
        } catch {}
    }

    function issueBatch(uint256 seed, bool reuse, uint8 size) external {
        uint256 n = bound(size, 1, 4);
        Req[] memory rs = new Req[](n);
        bytes memory packed;
        for (uint256 i = 0; i < n; ++i) {
            rs[i] = _request(seed + i, reuse && i == n - 1, seed >> i);
            packed = bytes.concat(packed, digestOf(rs[i].requestId), bytes20(rs[i].holder), bytes5(rs[i].validUntil));
        }
        vm.prank(issuer);
        try registry.issueBatch(packed) {
            for (uint256 i = 0; i < n; ++i) {
                _record(uint256(digestOf(rs[i].requestId)), rs[i]);
            }
        } catch {}
    }

    function reissue(uint256 tokenSeed, uint256 seed, uint256 holderIndex) external {
        if (minted.length == 0) return;
        uint256 previous = minted[tokenSeed % minted.length];
        Req memory r = _request(seed, false, holderIndex);
        vm.prank(issuer);
        try registry.reissue(previous, digestOf(r.requestId), r.holder, r.validUntil) returns (uint256 tokenId) {
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
        try registry.updateMetadata(minted[tokenSeed % minted.length], digest) {} catch {}
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

    function _issue(bytes32 requestId, address holder) internal returns (uint256) {
        vm.prank(ISSUER);
        return registry.issue(digestOf(requestId), holder, 0);
    }

    function _entry(bytes32 digest, address holder, uint40 validUntil) internal pure returns (bytes memory) {
        return abi.encodePacked(digest, holder, validUntil);
    }

    // ---------------------------------------------------------------------------------------------------
    // Fuzz

    function testFuzz_issue_documentNeverMintsTwice(bytes32 digest, address holder, address other, uint40 until)
        public
    {
        vm.assume(digest != bytes32(0) && holder != address(0) && other != address(0));
        vm.prank(ISSUER);
        uint256 tokenId = registry.issue(digest, holder, until);
        assertEq(tokenId, uint256(digest), "the token id is the digest");
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.RequestAlreadyUsed.selector, digest));
        vm.prank(ISSUER);
        registry.issue(digest, other, 0);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.RequestAlreadyUsed.selector, digest));
        vm.prank(ISSUER);
        registry.issueBatch(_entry(digest, other, 0));
        assertEq(registry.ownerOf(tokenId), holder, "first holder kept");
        assertEq(registry.certificate(tokenId).validUntil, until, "validUntil kept whole");
        assertEq(registry.balanceOf(holder), 1, "one token");
    }

    function testFuzz_issueBatch_packsEveryEntry(bytes32 seed, uint40 until) public {
        bytes memory packed;
        for (uint256 i = 0; i < 3; ++i) {
            packed = bytes.concat(packed, _entry(keccak256(abi.encode(seed, i)), address(uint160(0xA000 + i)), until));
        }
        vm.prank(ISSUER);
        registry.issueBatch(packed);
        for (uint256 i = 0; i < 3; ++i) {
            uint256 tokenId = uint256(keccak256(abi.encode(seed, i)));
            assertEq(registry.ownerOf(tokenId), address(uint160(0xA000 + i)), "holder");
            ICertificateRegistry.CertificateRecord memory r = registry.certificate(tokenId);
            assertEq(r.validUntil, until, "validUntil");
            assertEq(r.digest, bytes32(tokenId), "digest");
            assertEq(r.issuedAt, block.timestamp, "issuedAt");
            assertEq(uint256(registry.burnAuth(tokenId)), uint256(IERC5484.BurnAuth.Both), "burn auth");
        }
    }

    function testFuzz_transferFrom_revertsCertificateLocked(address caller, address to, uint8 path) public {
        vm.assume(uint160(caller) > 0x100);
        uint256 tokenId = _issue(keccak256("t"), address(0xA11CE));
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
        uint256 tokenId = _issue(keccak256("r"), address(0xA11CE));
        vm.prank(ISSUER);
        registry.revoke(tokenId, ICertificateRegistry.RevocationReason(bound(reason, 0, 10)));
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.CertificateAlreadyRevoked.selector, tokenId));
        registry.unsuspend(tokenId);
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.CertificateAlreadyRevoked.selector, tokenId));
        registry.reissue(tokenId, digestOf(keccak256("r2")), address(0xB0B), 0);
        vm.warp(block.timestamp + later);
        assertEq(uint256(registry.status(tokenId)), uint256(ICertificateRegistry.Status.Revoked), "still revoked");
    }

    // ---------------------------------------------------------------------------------------------------
    // Roles: every state-changing selector reverts for a caller without its role

    function test_roles_everyStateChangingSelectorRevertsForOutsider() public {
        uint256 tokenId = _issue(keccak256("roles"), address(0xA11CE));
        bytes memory batch = _entry(digestOf(keccak256("b")), OUTSIDER, 0);
        bytes32 issuerRole = registry.ISSUER_ROLE();
        bytes32 adminRole = registry.DEFAULT_ADMIN_ROLE();
        bytes32 pauserRole = registry.PAUSER_ROLE();

        bytes[] memory calls = new bytes[](18);
        bytes32[] memory roles = new bytes32[](18);
        calls[0] = abi.encodeCall(registry.issue, (digestOf(keccak256("o")), OUTSIDER, 0));
        roles[0] = issuerRole;
        calls[1] = abi.encodeCall(registry.issueBatch, (batch));
        roles[1] = issuerRole;
        calls[2] = abi.encodeCall(registry.revoke, (tokenId, ICertificateRegistry.RevocationReason.Unspecified));
        roles[2] = issuerRole;
        calls[3] = abi.encodeCall(registry.suspend, (tokenId));
        roles[3] = issuerRole;
        calls[4] = abi.encodeCall(registry.unsuspend, (tokenId));
        roles[4] = issuerRole;
        calls[5] = abi.encodeCall(registry.reissue, (tokenId, digestOf(keccak256("o2")), OUTSIDER, 0));
        roles[5] = issuerRole;
        calls[6] = abi.encodeCall(registry.updateMetadata, (tokenId, bytes32(uint256(1))));
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
        uint256 tokenId = _issue(keccak256("dual"), address(0xA11CE));
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
        uint256 tokenId = _issue(keccak256("empty"), address(0xA11CE));
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
        uint256 tokenId = _issue(keccak256("twice"), address(0xA11CE));
        vm.prank(ISSUER);
        registry.revoke(tokenId, ICertificateRegistry.RevocationReason.Unspecified);
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.CertificateAlreadyRevoked.selector, tokenId));
        registry.revokeWithApprovals(tokenId, ICertificateRegistry.RevocationReason.Unspecified, keccak256("a"));
    }

    function test_revokeWithApprovals_revertsAccessControlUnauthorizedAccount() public {
        uint256 tokenId = _issue(keccak256("outsider"), address(0xA11CE));
        bytes32 issuerRole = registry.ISSUER_ROLE();
        vm.prank(OUTSIDER);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, OUTSIDER, issuerRole)
        );
        registry.revokeWithApprovals(tokenId, ICertificateRegistry.RevocationReason.Unspecified, keccak256("a"));
    }

    // ---------------------------------------------------------------------------------------------------
    // Issue reverts and the derived URI

    function test_issueBatch_revertsBatchEmpty() public {
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.BatchEmpty.selector));
        registry.issueBatch("");
    }

    function test_issueBatch_revertsBatchMalformed() public {
        bytes memory packed = bytes.concat(_entry(digestOf("a"), address(0xA11CE), 0), hex"00");
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.BatchMalformed.selector, 58));
        registry.issueBatch(packed);
    }

    function test_issueBatch_revertsDigestInvalid() public {
        bytes memory packed = bytes.concat(_entry(digestOf("a"), address(0xA11CE), 0), _entry(0, address(0xB0B), 0));
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.DigestInvalid.selector));
        registry.issueBatch(packed);
        assertEq(registry.balanceOf(address(0xA11CE)), 0, "the whole batch reverted");
    }

    function test_issueBatch_revertsHolderInvalid() public {
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.HolderInvalid.selector, address(0)));
        registry.issueBatch(_entry(digestOf("a"), address(0), 0));
    }

    function test_issueBatch_revertsRequestAlreadyUsedWithinTheBatch() public {
        bytes32 digest = digestOf("same");
        bytes memory packed = bytes.concat(_entry(digest, address(0xA11CE), 0), _entry(digest, address(0xB0B), 0));
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.RequestAlreadyUsed.selector, digest));
        registry.issueBatch(packed);
    }

    function test_issue_revertsDigestInvalidAndHolderInvalid() public {
        vm.startPrank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.DigestInvalid.selector));
        registry.issue(bytes32(0), address(0xA11CE), 0);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.HolderInvalid.selector, address(0)));
        registry.issue(digestOf("a"), address(0), 0);
        vm.stopPrank();
    }

    function test_issue_contractHolderNeedsNoReceiverHook() public {
        // No ERC-721 receiver check: the token can never move, so there is nothing for a contract to refuse.
        uint256 tokenId = _issue(keccak256("contract"), address(this));
        assertEq(registry.ownerOf(tokenId), address(this), "minted to a contract without onERC721Received");
    }

    function test_tokenURI_isTheRawCidOfTheDigest() public {
        // sha256("hello\n"): `printf 'hello\n' | ipfs add --cid-version 1 --raw-leaves` gives this CID.
        bytes32 digest = 0x5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03;
        vm.prank(ISSUER);
        uint256 tokenId = registry.issue(digest, address(0xA11CE), 0);
        assertEq(
            keccak256(bytes(registry.tokenURI(tokenId))),
            keccak256("ipfs://bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"),
            "derived CID"
        );
        bytes32 corrected = 0xb94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9; // sha256("hello world")
        vm.prank(ISSUER);
        registry.updateMetadata(tokenId, corrected);
        assertEq(registry.certificate(tokenId).digest, corrected, "corrected digest");
        assertEq(registry.tokenOfDocument(corrected), tokenId, "the corrected document leads to its token");
        assertEq(registry.tokenOfDocument(digest), tokenId, "so does the document issued");
        assertEq(registry.tokenOfDocument(keccak256("none")), 0, "no certificate has an unknown document");
        assertEq(
            keccak256(bytes(registry.tokenURI(tokenId))),
            keccak256("ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"),
            "follows it"
        );
    }

    function test_updateMetadata_revertsDigestInvalid() public {
        uint256 tokenId = _issue(keccak256("zero"), address(0xA11CE));
        vm.prank(ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificateRegistry.DigestInvalid.selector));
        registry.updateMetadata(tokenId, bytes32(0));
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
            assertTrue(registry.status(uint256(digestOf(requestId))) != ICertificateRegistry.Status.Unknown, "issued");
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
}
