// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {AttestationChecks} from "./AttestationChecks.sol";

/// The subset of SolvencyOracle this feed reads.
interface ISolvencyOracleRounds {
    function latestSequence(bytes32 issuer) external view returns (uint64);
    function roundData(bytes32 issuer, uint64 sequence) external view returns (uint64 observedAt, uint256 reservesUsd);
    function latestReservesChecked(bytes32 issuer, uint64 maxAgeSeconds)
        external
        view
        returns (uint256 reservesUsd, uint64 observedAt, uint64 sequence, uint64 flags);
}

/// @title ReserveFeed
/// @notice Chainlink AggregatorV3Interface view of one issuer's attested reserves
///         in a SolvencyOracle (SPEC §10 `/feed`): answer = reservesUsd at 8 decimals,
///         roundId = answeredInRound = sequence, startedAt = updatedAt = observedAt.
/// @dev Holds no state of its own beyond its constructor arguments: every round is
///      read from the oracle's round ring, so submitting costs nothing extra for the
///      feed. Rounds that were never submitted (or have left the ring) revert, as
///      Chainlink aggregators do with "No data present".
///      `latestRoundData` is the plain Chainlink read and, like any feed, leaves the
///      freshness check to the caller; `latestRoundDataChecked(maxAgeSeconds)` returns
///      the same round but reverts (AttestationChecks errors) once the attestation is
///      past its validUntil or older than `maxAgeSeconds`, so forgetting `updatedAt`
///      is no longer possible.
contract ReserveFeed is AttestationChecks {
    /// reservesUsd has 18 decimals (SPEC §3); the feed answers with 8, like Chainlink's USD feeds.
    uint8 public constant decimals = 8;
    uint256 public constant version = 1;
    uint256 private constant USD18_TO_8 = 1e10;

    ISolvencyOracleRounds public immutable oracle;
    bytes32 public immutable issuer;
    string public description;

    error ZeroAddress();
    error NoDataPresent(uint80 roundId);

    constructor(address oracle_, bytes32 issuer_, string memory description_) {
        if (oracle_ == address(0)) revert ZeroAddress();
        oracle = ISolvencyOracleRounds(oracle_);
        issuer = issuer_;
        description = description_;
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _round(oracle.latestSequence(issuer));
    }

    /// @notice The latest round, only while the attestation behind it is unexpired and observed
    ///         at most `maxAgeSeconds` ago; otherwise reverts NoAttestation, AttestationExpired
    ///         or AttestationTooOld (from the oracle, with the numbers).
    function latestRoundDataChecked(uint64 maxAgeSeconds)
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        (uint256 reservesUsd, uint64 observedAt, uint64 sequence,) = oracle.latestReservesChecked(issuer, maxAgeSeconds);
        return (sequence, int256(reservesUsd / USD18_TO_8), observedAt, observedAt, sequence);
    }

    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _round(roundId);
    }

    function _round(uint80 roundId)
        private
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        if (roundId == 0 || roundId > type(uint64).max) revert NoDataPresent(roundId);
        try oracle.roundData(issuer, uint64(roundId)) returns (uint64 observedAt, uint256 reservesUsd) {
            // reservesUsd < 2^128 in the oracle, so the 8-decimal answer always fits an int256.
            return (roundId, int256(reservesUsd / USD18_TO_8), observedAt, observedAt, roundId);
        } catch {
            revert NoDataPresent(roundId);
        }
    }
}
