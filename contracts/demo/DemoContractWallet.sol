// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title DemoContractWallet
/// @notice Smallest useful smart-contract wallet: one owner EOA, which can make
///         the wallet call anything (`execute`) and whose signatures the wallet
///         vouches for via ERC-1271 (`isValidSignature`). Used as a reserve holder
///         whose ownership is proven by a contract signature (SPEC §8).
contract DemoContractWallet {
    /// ERC-1271 answer for a valid signature: bytes4(keccak256("isValidSignature(bytes32,bytes)")).
    bytes4 internal constant MAGIC_VALUE = 0x1626ba7e;
    bytes4 internal constant INVALID_SIGNATURE = 0xffffffff;
    /// secp256k1 group order / 2: signatures with a larger `s` are malleable twins.
    uint256 internal constant HALF_CURVE_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    address public owner;

    event Executed(address indexed to, uint256 value, bytes data);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address caller);
    error ZeroAddress();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(address owner_) {
        if (owner_ == address(0)) revert ZeroAddress();
        owner = owner_;
        emit OwnershipTransferred(address(0), owner_);
    }

    receive() external payable {}

    /// @notice ERC-1271. `hash` is signed as is (for a personal_sign message the
    ///         caller passes the EIP-191 message hash). Accepts only 65-byte (r, s, v)
    ///         signatures with v in {27, 28} and low s.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        return recoverSigner(hash, signature) == owner ? MAGIC_VALUE : INVALID_SIGNATURE;
    }

    /// @notice Calls `to` with `value` and `data` from the wallet; reverts with the callee's revert data.
    function execute(address to, uint256 value, bytes calldata data)
        external
        payable
        onlyOwner
        returns (bytes memory result)
    {
        bool success;
        (success, result) = to.call{value: value}(data);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(result, 32), mload(result))
            }
        }
        emit Executed(to, value, data);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @dev Returns address(0) for any malformed signature; owner is never address(0).
    function recoverSigner(bytes32 hash, bytes calldata signature) internal pure returns (address) {
        if (signature.length != 65) return address(0);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > HALF_CURVE_ORDER) return address(0);
        if (v != 27 && v != 28) return address(0);
        return ecrecover(hash, v, r, s);
    }
}
