// SPDX-License-Identifier: Apache-2.0
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-custom-errors, avoid-low-level-calls */
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {CollectibleEditions} from "../CollectibleEditions.sol";
import {ICollectibleEditions} from "../interfaces/ICollectibleEditions.sol";

contract CollectibleEditionsTest is Test {
    uint256 internal constant ISSUER_KEY = 0xA11CE;
    uint256 internal constant VOUCHER_KEY = 0xB0B;
    address internal constant ADMIN = address(0xAD);
    address internal constant ALICE = address(0xA1);
    address internal constant BOB = address(0xB2);
    address internal constant CAROL = address(0xC3);

    address internal issuer;
    address internal voucherSigner;
    CollectibleEditions internal editions;
    uint256 internal lockedEdition;
    uint256 internal giftEdition;
    uint256 internal mediatedEdition;

    function _issuers() internal view returns (address[] memory issuers) {
        issuers = new address[](1);
        issuers[0] = issuer;
    }

    function setUp() public {
        issuer = vm.addr(ISSUER_KEY);
        voucherSigner = vm.addr(VOUCHER_KEY);
        editions = new CollectibleEditions("Museum Editions", "MUSE", ADMIN, _issuers(), address(0), "");
        bytes32 signerRole = editions.VOUCHER_SIGNER_ROLE();
        vm.prank(ADMIN);
        editions.grantRole(signerRole, voucherSigner);
        vm.startPrank(issuer);
        lockedEdition = editions.createEdition("Night Watch", "ipfs://edition-1", 1000, ICollectibleEditions.TransferPolicy.Locked, 0, 0);
        giftEdition = editions.createEdition("Sunflowers", "ipfs://edition-2", 3, ICollectibleEditions.TransferPolicy.GiftAfterLockup, 1 days, 1);
        mediatedEdition = editions.createEdition("Mona", "ipfs://edition-3", 10, ICollectibleEditions.TransferPolicy.IssuerMediated, 0, 0);
        vm.stopPrank();
    }

    function _voucher(bytes32 code, uint64 deadline) internal view returns (ICollectibleEditions.Voucher memory) {
        return ICollectibleEditions.Voucher({editionId: lockedEdition, code: code, deadline: deadline});
    }

    function _sign(CollectibleEditions target, ICollectibleEditions.Voucher memory v) internal view returns (bytes memory) {
        return _signWith(VOUCHER_KEY, target, v);
    }

    function _signWith(uint256 key, CollectibleEditions target, ICollectibleEditions.Voucher memory v)
        internal
        view
        returns (bytes memory)
    {
        (uint8 sv, bytes32 r, bytes32 s) = vm.sign(key, target.voucherDigest(v));
        return abi.encodePacked(r, s, sv);
    }

    function _expectUnauthorized(address caller, bytes32 role) internal {
        vm.expectRevert(abi.encodeWithSignature("AccessControlUnauthorizedAccount(address,bytes32)", caller, role));
    }

    function _airdrop(uint256 editionId, address holder) internal returns (uint256) {
        address[] memory holders = new address[](1);
        holders[0] = holder;
        vm.prank(issuer);
        return editions.airdrop(editionId, holders);
    }

    function test_airdrop_assignsSerialsInOrder() public {
        address[] memory holders = new address[](3);
        holders[0] = ALICE;
        holders[1] = BOB;
        holders[2] = CAROL;
        vm.prank(issuer);
        uint256 first = editions.airdrop(lockedEdition, holders);
        for (uint256 i = 0; i < 3; ++i) {
            (uint256 editionId, uint32 serial) = editions.itemOf(first + i);
            assertEq(editionId, lockedEdition, "edition");
            assertEq(serial, i + 1, "serial");
            assertEq(editions.ownerOf(first + i), holders[i], "holder");
        }
        assertEq(editions.edition(lockedEdition).minted, 3, "minted");
    }

    function test_airdrop_revertsEditionSoldOut() public {
        address[] memory holders = new address[](4);
        holders[0] = ALICE;
        holders[1] = BOB;
        holders[2] = CAROL;
        holders[3] = ALICE;
        vm.prank(issuer);
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.EditionSoldOut.selector, giftEdition));
        editions.airdrop(giftEdition, holders);
    }

    function test_claim_mintsOnceThenRevertsVoucherAlreadyUsed() public {
        ICollectibleEditions.Voucher memory v = _voucher(keccak256("code-1"), uint64(block.timestamp + 1 hours));
        bytes memory sig = _sign(editions, v);
        vm.prank(ALICE);
        uint256 tokenId = editions.claim(v, sig);
        assertEq(editions.ownerOf(tokenId), ALICE, "claimed");
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.VoucherAlreadyUsed.selector, v.code));
        editions.claim(v, sig);
    }

    function test_claim_revertsVoucherExpired() public {
        ICollectibleEditions.Voucher memory v = _voucher(keccak256("code-2"), uint64(block.timestamp + 60));
        bytes memory sig = _sign(editions, v);
        vm.warp(block.timestamp + 61);
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.VoucherExpired.selector, v.code, v.deadline));
        editions.claim(v, sig);
    }

    function test_claim_voucherReplayedOnOtherChainReverts() public {
        ICollectibleEditions.Voucher memory v = _voucher(keccak256("code-3"), uint64(block.timestamp + 1 hours));
        bytes memory sig = _sign(editions, v);
        vm.chainId(block.chainid + 1);
        (bool ok, bytes memory data) = address(editions).call(abi.encodeCall(editions.claim, (v, sig)));
        assertTrue(!ok, "claimed on another chain");
        assertEq(bytes4(data), ICollectibleEditions.VoucherSignerInvalid.selector, "VoucherSignerInvalid");
    }

    function test_claim_voucherReplayedOnOtherContractReverts() public {
        CollectibleEditions other = new CollectibleEditions("Museum Editions", "MUSE", ADMIN, _issuers(), address(0), "");
        bytes32 signerRole = other.VOUCHER_SIGNER_ROLE();
        vm.prank(ADMIN);
        other.grantRole(signerRole, voucherSigner);
        vm.prank(issuer);
        other.createEdition("Night Watch", "ipfs://edition-1", 1000, ICollectibleEditions.TransferPolicy.Locked, 0, 0);
        ICollectibleEditions.Voucher memory v = _voucher(keccak256("code-4"), uint64(block.timestamp + 1 hours));
        bytes memory sig = _sign(editions, v);
        (bool ok, bytes memory data) = address(other).call(abi.encodeCall(other.claim, (v, sig)));
        assertTrue(!ok, "claimed on another contract");
        assertEq(bytes4(data), ICollectibleEditions.VoucherSignerInvalid.selector, "VoucherSignerInvalid");
        assertTrue(!editions.voucherUsed(v.code), "original still unused");
    }

    function testFuzz_claim_voucherSignedByOtherKeyReverts(uint256 key) public {
        key = bound(key, 1, 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140);
        vm.assume(key != VOUCHER_KEY);
        ICollectibleEditions.Voucher memory v = _voucher(keccak256(abi.encode(key)), uint64(block.timestamp + 1));
        (uint8 sv, bytes32 r, bytes32 s) = vm.sign(key, editions.voucherDigest(v));
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.VoucherSignerInvalid.selector, vm.addr(key)));
        editions.claim(v, abi.encodePacked(r, s, sv));
    }

    function test_claim_voucherSignedByIssuerWithoutSignerRoleReverts() public {
        ICollectibleEditions.Voucher memory v = _voucher(keccak256("code-issuer"), uint64(block.timestamp + 1 hours));
        bytes memory sig = _signWith(ISSUER_KEY, editions, v);
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.VoucherSignerInvalid.selector, issuer));
        editions.claim(v, sig);
    }

    function test_claim_revokedVoucherSignerReverts() public {
        ICollectibleEditions.Voucher memory v = _voucher(keccak256("code-revoked"), uint64(block.timestamp + 1 hours));
        bytes memory sig = _sign(editions, v);
        bytes32 signerRole = editions.VOUCHER_SIGNER_ROLE();
        vm.prank(ADMIN);
        editions.revokeRole(signerRole, voucherSigner);
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.VoucherSignerInvalid.selector, voucherSigner));
        editions.claim(v, sig);
    }

    function test_voucherSigner_cannotMintMoveOrGrant() public {
        bytes32 issuerRole = editions.ISSUER_ROLE();
        address[] memory holders = new address[](1);
        holders[0] = voucherSigner;
        vm.startPrank(voucherSigner);
        _expectUnauthorized(voucherSigner, issuerRole);
        editions.airdrop(lockedEdition, holders);
        _expectUnauthorized(voucherSigner, issuerRole);
        editions.redeemFor(lockedEdition, keccak256("code-signer"), voucherSigner);
        _expectUnauthorized(voucherSigner, issuerRole);
        editions.createEdition("X", "ipfs://x", 1, ICollectibleEditions.TransferPolicy.Locked, 0, 0);
        _expectUnauthorized(voucherSigner, issuerRole);
        editions.issuerTransfer(ALICE, BOB, 1);
        _expectUnauthorized(voucherSigner, bytes32(0));
        editions.grantRole(issuerRole, voucherSigner);
        vm.stopPrank();
        assertTrue(!editions.hasRole(issuerRole, voucherSigner), "no issuer role");
    }

    function testFuzz_transferFrom_lockedEditionNeverMoves(address to, uint8 path) public {
        vm.assume(to != address(0));
        uint256 tokenId = _airdrop(lockedEdition, ALICE);
        vm.startPrank(ALICE);
        if (path % 3 == 0) {
            vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.ItemLocked.selector, tokenId));
            editions.transferFrom(ALICE, to, tokenId);
        } else if (path % 3 == 1) {
            vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.ApprovalsDisabled.selector));
            editions.approve(to, tokenId);
        } else {
            vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.ApprovalsDisabled.selector));
            editions.setApprovalForAll(to, true);
        }
        vm.stopPrank();
        assertEq(editions.ownerOf(tokenId), ALICE, "owner unchanged");
        assertTrue(editions.locked(tokenId), "locked");
    }

    function test_transferFrom_giftAfterLockupOnceThenReceiverLockupRestarts() public {
        uint256 tokenId = _airdrop(giftEdition, ALICE);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.ItemInLockup.selector, tokenId, block.timestamp + 1 days));
        editions.transferFrom(ALICE, BOB, tokenId);
        vm.warp(block.timestamp + 1 days);
        assertTrue(!editions.locked(tokenId), "unlocked after the lockup");
        vm.prank(ALICE);
        editions.transferFrom(ALICE, BOB, tokenId);
        assertEq(editions.ownerOf(tokenId), BOB, "gifted");
        assertTrue(editions.locked(tokenId), "out of gifts");
        vm.warp(block.timestamp + 2 days);
        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.GiftLimitReached.selector, tokenId));
        editions.transferFrom(BOB, CAROL, tokenId);
    }

    function test_issuerTransfer_onlyIssuerMovesMediatedItems() public {
        uint256 tokenId = _airdrop(mediatedEdition, ALICE);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.ItemLocked.selector, tokenId));
        editions.transferFrom(ALICE, BOB, tokenId);
        vm.prank(issuer);
        editions.issuerTransfer(ALICE, BOB, tokenId);
        assertEq(editions.ownerOf(tokenId), BOB, "recovered");
        uint256 lockedItem = _airdrop(lockedEdition, ALICE);
        vm.prank(issuer);
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.ItemLocked.selector, lockedItem));
        editions.issuerTransfer(ALICE, BOB, lockedItem);
    }

    address internal constant CUSTODIAN = address(0xC05D);
    address internal constant WALLET = address(0x3A11E7);

    function _toCustody(uint256 editionId) internal returns (uint256) {
        address[] memory custodians = new address[](1);
        custodians[0] = CUSTODIAN;
        vm.prank(issuer);
        return editions.airdropToCustody(editionId, custodians);
    }

    function _release(address from, address to, uint256 tokenId) internal {
        uint256[] memory ids = new uint256[](1);
        ids[0] = tokenId;
        vm.prank(issuer);
        editions.releaseFromCustody(from, to, ids);
    }

    function test_release_movesLockedAndGiftItemsOnceWithoutCountingAGift() public {
        uint256 locked = _toCustody(lockedEdition);
        uint256 gift = _toCustody(giftEdition);
        assertTrue(editions.inCustody(locked) && editions.inCustody(gift), "in custody");
        uint256[] memory ids = new uint256[](2);
        ids[0] = locked;
        ids[1] = gift;
        vm.prank(issuer);
        editions.releaseFromCustody(CUSTODIAN, WALLET, ids);
        assertEq(editions.ownerOf(locked), WALLET, "locked item released");
        assertEq(editions.ownerOf(gift), WALLET, "gift item released");
        assertTrue(!editions.inCustody(locked) && !editions.inCustody(gift), "out of custody");
        // The lockup still runs from the mint, and the one gift allowed is still there.
        vm.warp(block.timestamp + 1 days);
        vm.prank(WALLET);
        editions.transferFrom(WALLET, ALICE, gift);
        assertEq(editions.ownerOf(gift), ALICE, "gifted once");
        vm.prank(WALLET);
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.ItemLocked.selector, locked));
        editions.transferFrom(WALLET, ALICE, locked);
    }

    function test_release_revertsItemNotInCustodyForAnOrdinaryItem() public {
        uint256 tokenId = _airdrop(lockedEdition, ALICE);
        assertTrue(!editions.inCustody(tokenId), "ordinary item");
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.ItemNotInCustody.selector, tokenId));
        _release(ALICE, WALLET, tokenId);
    }

    function test_release_revertsItemNotInCustodyWhenAlreadyReleased() public {
        uint256 tokenId = _toCustody(lockedEdition);
        _release(CUSTODIAN, WALLET, tokenId);
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.ItemNotInCustody.selector, tokenId));
        _release(WALLET, BOB, tokenId);
    }

    function test_release_revertsItemNotInCustodyOnceMovedOtherwise() public {
        uint256 mediated = _toCustody(mediatedEdition);
        vm.prank(issuer);
        editions.issuerTransfer(CUSTODIAN, BOB, mediated);
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.ItemNotInCustody.selector, mediated));
        _release(BOB, WALLET, mediated);
        uint256 gift = _toCustody(giftEdition);
        vm.warp(block.timestamp + 1 days);
        vm.prank(CUSTODIAN);
        editions.transferFrom(CUSTODIAN, CAROL, gift);
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.ItemNotInCustody.selector, gift));
        _release(CAROL, WALLET, gift);
    }

    function test_release_revertsIncorrectOwnerForAnotherAccount() public {
        uint256 tokenId = _toCustody(lockedEdition);
        vm.expectRevert(abi.encodeWithSignature("ERC721IncorrectOwner(address,uint256,address)", ALICE, tokenId, CUSTODIAN));
        _release(ALICE, WALLET, tokenId);
        assertTrue(editions.inCustody(tokenId), "still in custody");
    }

    function test_release_revertsForTheZeroAddressAndANonexistentToken() public {
        uint256 tokenId = _toCustody(lockedEdition);
        vm.expectRevert(abi.encodeWithSignature("ERC721InvalidReceiver(address)", address(0)));
        _release(CUSTODIAN, address(0), tokenId);
        vm.expectRevert(abi.encodeWithSignature("ERC721NonexistentToken(uint256)", uint256(999)));
        _release(CUSTODIAN, WALLET, 999);
    }

    function test_custody_revertsUnauthorizedForAnyoneButTheIssuer() public {
        uint256 tokenId = _toCustody(lockedEdition);
        uint256[] memory ids = new uint256[](1);
        ids[0] = tokenId;
        address[] memory custodians = new address[](1);
        custodians[0] = CUSTODIAN;
        bytes32 role = editions.ISSUER_ROLE();
        address[2] memory callers = [CUSTODIAN, voucherSigner];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.prank(callers[i]);
            _expectUnauthorized(callers[i], role);
            editions.releaseFromCustody(CUSTODIAN, WALLET, ids);
            vm.prank(callers[i]);
            _expectUnauthorized(callers[i], role);
            editions.airdropToCustody(lockedEdition, custodians);
            vm.prank(callers[i]);
            _expectUnauthorized(callers[i], role);
            editions.redeemForCustody(lockedEdition, keccak256("custody-code"), CUSTODIAN);
        }
    }

    function test_redeemForCustody_marksTheItemAndSpendsTheCode() public {
        bytes32 code = keccak256("custody-code-2");
        vm.prank(issuer);
        uint256 tokenId = editions.redeemForCustody(lockedEdition, code, CUSTODIAN);
        assertTrue(editions.inCustody(tokenId) && editions.voucherUsed(code), "custodial, code spent");
        vm.prank(issuer);
        vm.expectRevert(abi.encodeWithSelector(ICollectibleEditions.VoucherAlreadyUsed.selector, code));
        editions.redeemForCustody(lockedEdition, code, CUSTODIAN);
        _release(CUSTODIAN, WALLET, tokenId);
        assertEq(editions.ownerOf(tokenId), WALLET, "released");
    }
}
