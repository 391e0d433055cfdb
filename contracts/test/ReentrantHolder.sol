// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {ICertificateRegistry} from "../interfaces/ICertificateRegistry.sol";

/// @title Test-only certificate holder that re-enters the registry
/// @notice On receiving a certificate it calls `issue()` again with the request id of the certificate being
/// minted (read back from the registry). With `swallow` set it catches the inner revert and keeps its data;
/// otherwise the inner revert propagates and fails the outer mint. Never deploy outside tests.
contract ReentrantHolder is IERC721Receiver {
    // solhint-disable-next-line immutable-vars-naming
    ICertificateRegistry public immutable registry;
    // solhint-disable-next-line immutable-vars-naming
    bool public immutable swallow;
    bool public reentered;
    uint256 public innerTokenId;
    bytes public innerRevertData;

    constructor(ICertificateRegistry registry_, bool swallow_) {
        registry = registry_;
        swallow = swallow_;
    }

    function onERC721Received(address, address, uint256 tokenId, bytes calldata) external returns (bytes4) {
        if (!reentered) {
            reentered = true;
            ICertificateRegistry.IssueRequest memory replay = ICertificateRegistry.IssueRequest({
                requestId: registry.certificate(tokenId).requestId,
                holder: address(this),
                uri: "ipfs://reentry",
                digest: bytes32(0),
                validUntil: 0
            });
            if (swallow) {
                try registry.issue(replay) returns (uint256 id) {
                    innerTokenId = id;
                } catch (bytes memory data) {
                    innerRevertData = data;
                }
            } else {
                innerTokenId = registry.issue(replay);
            }
        }
        return IERC721Receiver.onERC721Received.selector;
    }
}
