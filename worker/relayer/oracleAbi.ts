import { parseAbi } from "viem";

/** The parts of contracts/SolvencyOracle.sol the relayer calls (hand-written: the Worker does not bundle artifacts). */
export const solvencyOracleAbi = parseAbi([
  "struct Attestation { bytes32 issuer; uint64 sequence; bytes32 previous; uint64 observedAt; uint64 validUntil; uint256 reservesUsd; uint256 onchainReservesUsd; uint256 offchainReservesUsd; uint256 liabilitiesUsd; uint32 ratioBps; bytes32 reservesRoot; bytes32 liabilitiesRoot; uint64 flags; bytes32 reportHash; }",
  "function submit(Attestation a, bytes signature)",
  "function latest(bytes32 issuer) view returns (Attestation)",
  "function latestSequence(bytes32 issuer) view returns (uint64)",
  "function isHealthy(bytes32 issuer, uint32 minRatioBps, uint64 maxAgeSeconds, uint64 denyFlags) view returns (bool)",
  "function healthReasons(bytes32 issuer, uint32 minRatioBps, uint64 maxAgeSeconds, uint64 denyFlags) view returns (uint256)",
  "error InvalidSignature()",
  "error UnauthorizedSigner(bytes32 issuer, address signer)",
  "error StaleSequence(uint64 stored, uint64 submitted)",
  "error Expired(uint64 validUntil, uint256 nowTs)",
  "error BrokenLink(bytes32 expected, bytes32 got)",
  "error TimestampTooLarge(uint64 value)",
  "error UsdAmountTooLarge(uint256 value)",
]);
