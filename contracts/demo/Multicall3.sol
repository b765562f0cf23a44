// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Multicall3
/// @notice Own implementation of the Multicall3 ABI subset viem's `multicall` uses
///         (`aggregate3`) plus the block helpers. Installed at the canonical address
///         0xcA11bde05977b3631167028862bE2a173976CA11 with `anvil_setCode`, so it
///         has no constructor and no storage.
contract Multicall3 {
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    /// A call with `allowFailure == false` reverted; carries its index and revert data.
    error CallFailed(uint256 index, bytes returnData);

    /// @notice Runs every call in order. A failing call is reported as
    ///         `success = false` unless it disallowed failure, which reverts everything.
    function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            Call3 calldata item = calls[i];
            (bool success, bytes memory data) = item.target.call(item.callData);
            if (!success && !item.allowFailure) revert CallFailed(i, data);
            returnData[i] = Result(success, data);
        }
    }

    function getBlockNumber() external view returns (uint256 blockNumber) {
        blockNumber = block.number;
    }

    function getCurrentBlockTimestamp() external view returns (uint256 timestamp) {
        timestamp = block.timestamp;
    }

    function getEthBalance(address addr) external view returns (uint256 balance) {
        balance = addr.balance;
    }

    function getChainId() external view returns (uint256 chainid) {
        chainid = block.chainid;
    }
}
