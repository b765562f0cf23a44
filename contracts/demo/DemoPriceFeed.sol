// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title DemoPriceFeed
/// @notice Same read interface as a Chainlink AggregatorV3 feed. The owner
///         publishes each answer as a new round and chooses its `updatedAt`,
///         so tests can produce stale (or future-dated) prices on purpose.
contract DemoPriceFeed {
    struct Round {
        int256 answer;
        uint256 startedAt;
        uint256 updatedAt;
    }

    uint8 public immutable decimals;
    string public description;
    uint256 public constant version = 4;
    address public owner;
    uint80 public latestRound;

    mapping(uint80 => Round) private rounds;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address caller);
    error ZeroAddress();
    /// Same condition as Chainlink's "No data present".
    error NoDataPresent(uint80 roundId);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// @param initialAnswer published as round 1 at the deployment block's timestamp.
    constructor(uint8 decimals_, string memory description_, int256 initialAnswer) {
        decimals = decimals_;
        description = description_;
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
        _publish(initialAnswer, block.timestamp);
    }

    /// @notice Publishes a new round. `updatedAt` is taken as given (also used as `startedAt`).
    function setAnswer(int256 answer, uint256 updatedAt) external onlyOwner {
        _publish(answer, updatedAt);
    }

    function latestAnswer() external view returns (int256) {
        return rounds[latestRound].answer;
    }

    function latestTimestamp() external view returns (uint256) {
        return rounds[latestRound].updatedAt;
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return getRoundData(latestRound);
    }

    function getRoundData(uint80 roundId)
        public
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        if (roundId == 0 || roundId > latestRound) revert NoDataPresent(roundId);
        Round storage round = rounds[roundId];
        return (roundId, round.answer, round.startedAt, round.updatedAt, roundId);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function _publish(int256 answer, uint256 updatedAt) private {
        uint80 roundId = latestRound + 1;
        rounds[roundId] = Round(answer, updatedAt, updatedAt);
        latestRound = roundId;
        emit AnswerUpdated(answer, roundId, updatedAt);
    }
}
