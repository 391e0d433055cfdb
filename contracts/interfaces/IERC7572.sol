// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ERC-7572: contract-level metadata via `contractURI()`
/// @notice A contract's own metadata (name, description, image, external link) for wallets, explorers and
/// indexers, as JSON at a URI. ERC-7572 defines no ERC-165 interface id.
interface IERC7572 {
    /// @notice Emitted when {contractURI} changes, so that indexers read it again.
    event ContractURIUpdated();

    /// @notice Where the contract-level metadata JSON is.
    /// @return The URI; empty when none is set.
    function contractURI() external view returns (string memory);
}
