// SPDX-License-Identifier: Apache-2.0
/* solhint-disable gas-custom-errors, gas-strict-inequalities, interface-starts-with-i */
pragma solidity ^0.8.24;

/// @title The Foundry cheatcodes Hallmark's Solidity tests use (served by Hardhat 3's EDR)
/// @dev forge-std is not available from the npm registry in a usable form, so this is the minimal subset.
interface Vm {
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert() external;
    function warp(uint256 newTimestamp) external;
    function chainId(uint256 newChainId) external;
    function assume(bool condition) external pure;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function label(address account, string calldata newLabel) external;
}

/// @title Minimal test base: cheatcodes, assertions, bounding, invariant targets
abstract contract Test {
    /// @dev Foundry's fixed cheatcode address: address(bytes20(uint160(uint256(keccak256("hevm cheat code"))))).
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D); // solhint-disable-line const-name-snakecase

    address[] private _targetContracts;

    /// @notice Contracts the invariant fuzzer calls (read by the test runner).
    /// @return The targets registered with {targetContract}.
    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    function assertTrue(bool condition, string memory message) internal pure {
        require(condition, message);
    }

    function assertEq(uint256 a, uint256 b, string memory message) internal pure {
        if (a != b) revert(string.concat(message, ": ", _u(a), " != ", _u(b)));
    }

    function assertEq(address a, address b, string memory message) internal pure {
        require(a == b, message);
    }

    function assertEq(bytes32 a, bytes32 b, string memory message) internal pure {
        require(a == b, message);
    }

    /// @dev Maps `x` into [min, max] uniformly enough for fuzzing, keeping small values small.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max"); // solhint-disable-line gas-custom-errors
        uint256 size = max - min;
        if (size == type(uint256).max) return x;
        return min + (x % (size + 1));
    }

    function _u(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        bytes memory b;
        while (v != 0) {
            b = abi.encodePacked(bytes1(uint8(48 + (v % 10))), b);
            v /= 10;
        }
        return string(b);
    }
}
