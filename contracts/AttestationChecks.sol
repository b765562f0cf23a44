// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title AttestationChecks
/// @notice The refusals shared by every staleness-safe read of a Solvent attestation
///         (SolvencyOracle.latestChecked / latestReservesChecked,
///         ReserveFeed.latestRoundDataChecked) and by the mint guard, so a consumer
///         decodes the same error whichever contract it called.
/// @dev Same conditions as SolvencyOracle.healthReasons: expired when
///      block.timestamp > validUntil; too old when block.timestamp - observedAt >
///      maxAgeSeconds (an observedAt in the future has age 0). Expiry is checked
///      first, so an attestation that is both reports AttestationExpired.
abstract contract AttestationChecks {
    /// The issuer has no attestation on-chain yet.
    error NoAttestation(bytes32 issuer);
    /// The publisher no longer vouches for the stored attestation (block.timestamp > validUntil).
    error AttestationExpired(bytes32 issuer, uint64 validUntil, uint256 nowTs);
    /// The stored attestation was observed more than `maxAgeSeconds` ago.
    error AttestationTooOld(bytes32 issuer, uint64 observedAt, uint64 maxAgeSeconds, uint256 nowTs);

    function _requireFresh(bytes32 issuer, uint64 observedAt, uint64 validUntil, uint64 maxAgeSeconds)
        internal
        view
    {
        if (block.timestamp > validUntil) revert AttestationExpired(issuer, validUntil, block.timestamp);
        if (block.timestamp > observedAt && block.timestamp - observedAt > maxAgeSeconds) {
            revert AttestationTooOld(issuer, observedAt, maxAgeSeconds, block.timestamp);
        }
    }
}
