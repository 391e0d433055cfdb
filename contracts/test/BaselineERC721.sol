// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title Gas baseline: a plain OpenZeppelin ERC-721 minted with `_mint`, one token per holder
/// @notice Used by `npm run bench:gas` only. Stores an owner and a balance per token and nothing else.
contract BaselineERC721 is ERC721 {
    uint256 private _next = 1;

    constructor() ERC721("Baseline", "BASE") {}

    /// @notice Mints one token to each holder, ids consecutive.
    /// @param holders The receivers.
    function mintBatch(address[] calldata holders) external {
        uint256 id = _next;
        for (uint256 i = 0; i < holders.length; ++i) {
            _mint(holders[i], id + i);
        }
        _next = id + holders.length;
    }
}
