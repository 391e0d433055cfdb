// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IPFS CIDs of raw sha256 content
/// @notice A CIDv1 with the raw codec (0x55) and a sha256 multihash (0x12, 32 bytes) is fully determined by the
/// sha256 digest of the content. Its canonical string is `b` (multibase base32, lowercase, no padding) followed
/// by the base32 of `0x01 0x55 0x12 0x20 || digest`: 59 characters, always starting `bafkrei`. A token whose id is
/// the digest therefore has its URI `ipfs://<cid>` without storing it.
library IpfsCid {
    /// @dev The RFC 4648 base32 alphabet, lowercase: character i is byte i of this word.
    bytes32 private constant _ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
    /// @dev CIDv1 (0x01), raw codec (0x55), sha2-256 (0x12), 32-byte digest (0x20), left-aligned.
    uint256 private constant _CID_PREFIX = 0x01551220 << 224;
    /// @dev Length of `ipfs://` + `b` + 58 base32 characters.
    uint256 private constant _URI_LENGTH = 66;

    /// @notice `ipfs://<CIDv1 raw sha256 base32>` for a sha256 digest.
    /// @param digest The sha256 digest of the content.
    /// @return uri The URI, 66 characters.
    function uriOf(bytes32 digest) internal pure returns (string memory uri) {
        assembly ("memory-safe") {
            uri := mload(0x40)
            mstore(0x40, add(uri, 128)) // length word + 66 bytes rounded up to 96
            mstore(uri, _URI_LENGTH)
            let out := add(uri, 32)
            mstore(add(out, 64), 0) // clean the tail of the last word
            mstore(out, "ipfs://b")
            // The 36 bytes to encode, in scratch memory past the string: prefix then digest.
            let raw := add(uri, 128)
            mstore(raw, _CID_PREFIX)
            mstore(add(raw, 4), digest)
            let dst := add(out, 8)
            // Seven groups of 5 bytes make 8 characters each.
            for { let g := 0 } lt(g, 7) { g := add(g, 1) } {
                let bits := shr(216, mload(add(raw, mul(g, 5))))
                let o := add(dst, mul(g, 8))
                for { let j := 0 } lt(j, 8) { j := add(j, 1) } {
                    mstore8(add(o, j), byte(and(shr(sub(35, mul(j, 5)), bits), 31), _ALPHABET))
                }
            }
            // The last byte makes 2 characters (5 bits, then 3 bits padded with zeros).
            let last := byte(0, mload(add(raw, 35)))
            mstore8(add(dst, 56), byte(shr(3, last), _ALPHABET))
            mstore8(add(dst, 57), byte(shl(2, and(last, 7)), _ALPHABET))
        }
    }
}
