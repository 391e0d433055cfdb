// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ERC-5484: Consensual Soulbound Tokens
/// @notice Who may burn a token, fixed when the token is issued. The ERC-165 interface id is 0x0489b56f.
interface IERC5484 {
    /// @notice Who may burn a token.
    enum BurnAuth {
        IssuerOnly,
        OwnerOnly,
        Both,
        Neither
    }

    /// @notice Emitted when a soulbound token is issued.
    /// @param from The issuer (the account that issued the token).
    /// @param to The receiver.
    /// @param tokenId The token.
    /// @param burnAuth Who may burn it.
    event Issued(address indexed from, address indexed to, uint256 indexed tokenId, BurnAuth burnAuth);

    /// @notice Who may burn a token.
    /// @param tokenId The token; reverts for a token that does not exist.
    /// @return The burn authorization fixed at issue.
    function burnAuth(uint256 tokenId) external view returns (BurnAuth);
}
