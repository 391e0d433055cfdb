// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ERC-5192: Minimal Soulbound NFTs
/// @notice Signals that a token is bound to its holder. The ERC-165 interface id is 0xb45a3c0e.
interface IERC5192 {
    /// @notice Emitted when the locking status is changed to locked.
    /// @param tokenId The identifier for a token.
    // solhint-disable-next-line gas-indexed-events
    event Locked(uint256 tokenId);

    /// @notice Emitted when the locking status is changed to unlocked.
    /// @param tokenId The identifier for a token.
    // solhint-disable-next-line gas-indexed-events
    event Unlocked(uint256 tokenId);

    /// @notice Returns the locking status of a Soulbound Token.
    /// @dev Tokens assigned to the zero address are considered invalid, and queries about them throw.
    /// @param tokenId The identifier for a token.
    /// @return True when the token cannot be transferred.
    function locked(uint256 tokenId) external view returns (bool);
}
