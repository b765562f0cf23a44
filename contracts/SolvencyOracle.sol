// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {AttestationChecks} from "./AttestationChecks.sol";

/// @title SolvencyOracle
/// @notice Keeps the latest SPEC §5 solvency attestation of each issuer on-chain.
///         Anyone may relay a signed attestation; it is accepted when a signer
///         authorised for its issuer signed the EIP-712 digest, its sequence is
///         newer, it has not expired and, when it directly follows the stored
///         one, its `previous` is the stored digest. Consumers ask `isHealthy`
///         (one storage read) with their own policy, the same conditions as the
///         SPEC §10 gate. Readers that want the values rather than a verdict use
///         `latestChecked` / `latestReservesChecked`, which revert on a missing,
///         expired or too-old attestation instead of handing back stale numbers.
/// @dev Storage per issuer, chosen for the gas of `submit` and `isHealthy`
///      (see docs/benchmarks.md, "Gas (Solidity contracts)"):
///        head        sequence:64 | observedAt:40 | validUntil:40 | ratioBps:32 | flags:64
///        amounts[0]  reservesUsd:128 | onchainReservesUsd:128
///        amounts[1]  offchainReservesUsd:128 | liabilitiesUsd:128
///        3 slots     reservesRoot, liabilitiesRoot, reportHash
///        digests[2]  digest of sequence s at index s & 1, so the other index holds
///                    the digest of s - 1, i.e. the stored attestation's `previous`
///        rounds      a ring of `roundHistory` words sequence:64 | observedAt:64 |
///                    reservesUsd:128, read by ReserveFeed's getRoundData
///      Timestamps above 2^40 - 1 (year 36812) and USD amounts above 2^128 - 1
///      do not fit and revert with TimestampTooLarge / UsdAmountTooLarge; the
///      signed values are never truncated, so `latest` always re-hashes to the
///      stored digest.
contract SolvencyOracle is AttestationChecks {
    /// SPEC §5 struct, fields in SPEC order with SPEC types.
    struct Attestation {
        bytes32 issuer;
        uint64 sequence;
        bytes32 previous;
        uint64 observedAt;
        uint64 validUntil;
        uint256 reservesUsd;
        uint256 onchainReservesUsd;
        uint256 offchainReservesUsd;
        uint256 liabilitiesUsd;
        uint32 ratioBps;
        bytes32 reservesRoot;
        bytes32 liabilitiesRoot;
        uint64 flags;
        bytes32 reportHash;
    }

    struct Stored {
        uint256 head;
        uint256[2] amounts;
        bytes32 reservesRoot;
        bytes32 liabilitiesRoot;
        bytes32 reportHash;
        bytes32[2] digests;
    }

    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "SolvencyAttestation(bytes32 issuer,uint64 sequence,bytes32 previous,uint64 observedAt,uint64 validUntil,"
        "uint256 reservesUsd,uint256 onchainReservesUsd,uint256 offchainReservesUsd,uint256 liabilitiesUsd,"
        "uint32 ratioBps,bytes32 reservesRoot,bytes32 liabilitiesRoot,uint64 flags,bytes32 reportHash)"
    );
    /// SPEC §5 domain {name: "Solvent", version: "1"}: no chainId, no verifyingContract.
    bytes32 public constant DOMAIN_SEPARATOR = keccak256(
        abi.encode(keccak256("EIP712Domain(string name,string version)"), keccak256("Solvent"), keccak256("1"))
    );

    // healthReasons bits; isHealthy is healthReasons == 0.
    uint256 public constant NO_ATTESTATION = 1 << 0;
    uint256 public constant EXPIRED = 1 << 1; // block.timestamp > validUntil
    uint256 public constant TOO_OLD = 1 << 2; // block.timestamp - observedAt > maxAgeSeconds
    uint256 public constant RATIO_BELOW_MIN = 1 << 3; // ratioBps < minRatioBps
    uint256 public constant DENIED_FLAG = 1 << 4; // flags & denyFlags != 0

    uint256 private constant OBSERVED_AT_SHIFT = 64;
    uint256 private constant VALID_UNTIL_SHIFT = 104;
    uint256 private constant RATIO_SHIFT = 144;
    uint256 private constant FLAGS_SHIFT = 176;
    uint256 private constant MASK_40 = (1 << 40) - 1;
    uint256 private constant MASK_64 = (1 << 64) - 1;
    uint256 private constant MASK_128 = (1 << 128) - 1;
    /// secp256k1 n / 2: larger s values are the malleable twin of a valid signature.
    uint256 private constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// How many past rounds per issuer `roundData` can answer (a ring, indexed sequence % roundHistory).
    uint256 public immutable roundHistory;
    address public owner;

    mapping(bytes32 issuer => mapping(address signer => bool)) public isSigner;
    mapping(bytes32 issuer => Stored) private stored;
    mapping(bytes32 issuer => mapping(uint256 index => uint256)) private rounds;

    /// `linked` is false when `sequence` skipped past stored + 1, so `previous` could not be checked.
    event AttestationSubmitted(
        bytes32 indexed issuer, uint64 indexed sequence, bytes32 digest, address signer, bool linked
    );
    event SignerAdded(bytes32 indexed issuer, address indexed signer);
    event SignerRemoved(bytes32 indexed issuer, address indexed signer);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address caller);
    error ZeroAddress();
    error InvalidRoundHistory(uint256 roundHistory);
    error SignerAlreadyAuthorised(bytes32 issuer, address signer);
    error SignerNotAuthorised(bytes32 issuer, address signer);
    /// Not 65 bytes, s in the upper half of the curve order, v not 27/28, or no public key recovers.
    error InvalidSignature();
    error UnauthorizedSigner(bytes32 issuer, address signer);
    error StaleSequence(uint64 stored, uint64 submitted);
    error Expired(uint64 validUntil, uint256 nowTs);
    error BrokenLink(bytes32 expected, bytes32 got);
    error TimestampTooLarge(uint64 value);
    error UsdAmountTooLarge(uint256 value);
    /// Same condition as Chainlink's "No data present": never submitted, skipped, or out of the ring.
    error UnknownRound(bytes32 issuer, uint64 sequence);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(uint256 roundHistory_) {
        if (roundHistory_ == 0) revert InvalidRoundHistory(roundHistory_);
        roundHistory = roundHistory_;
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    // ---- submitting ----

    function submit(Attestation calldata a, bytes calldata signature) external {
        bytes32 digest = attestationDigest(a);
        address signer = _recover(digest, signature);
        if (!isSigner[a.issuer][signer]) revert UnauthorizedSigner(a.issuer, signer);

        Stored storage s = stored[a.issuer];
        uint64 storedSequence = uint64(s.head);
        if (a.sequence <= storedSequence) revert StaleSequence(storedSequence, a.sequence);
        if (block.timestamp > a.validUntil) revert Expired(a.validUntil, block.timestamp);
        bool linked = a.sequence == storedSequence + 1;
        if (linked) {
            bytes32 expected = s.digests[storedSequence & 1];
            if (a.previous != expected) revert BrokenLink(expected, a.previous);
        } else {
            // The unchecked claim is kept so that `latest` returns exactly what was signed.
            s.digests[(a.sequence & 1) ^ 1] = a.previous;
        }

        s.head = _packHead(a);
        s.amounts[0] = _usd(a.reservesUsd) | (_usd(a.onchainReservesUsd) << 128);
        s.amounts[1] = _usd(a.offchainReservesUsd) | (_usd(a.liabilitiesUsd) << 128);
        s.reservesRoot = a.reservesRoot;
        s.liabilitiesRoot = a.liabilitiesRoot;
        s.reportHash = a.reportHash;
        s.digests[a.sequence & 1] = digest;
        rounds[a.issuer][a.sequence % roundHistory] =
            uint256(a.sequence) | (uint256(a.observedAt) << 64) | (a.reservesUsd << 128);

        emit AttestationSubmitted(a.issuer, a.sequence, digest, signer, linked);
    }

    /// @notice The SPEC §5 EIP-712 digest: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(a)).
    function attestationDigest(Attestation calldata a) public pure returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(ATTESTATION_TYPEHASH, a));
        return keccak256(abi.encodePacked(hex"1901", DOMAIN_SEPARATOR, structHash));
    }

    // ---- reading ----

    /// @notice The stored attestation of `issuer`; all zero when none was submitted.
    /// @dev Says nothing about freshness: prefer `latestChecked`, or check validUntil and observedAt yourself.
    function latest(bytes32 issuer) external view returns (Attestation memory a) {
        return _latest(issuer);
    }

    /// @notice The stored attestation of `issuer`, only while it is usable: reverts
    ///         NoAttestation, AttestationExpired (past validUntil) or AttestationTooOld
    ///         (observed more than `maxAgeSeconds` ago).
    function latestChecked(bytes32 issuer, uint64 maxAgeSeconds) external view returns (Attestation memory) {
        _requireFreshHead(issuer, stored[issuer].head, maxAgeSeconds);
        return _latest(issuer);
    }

    /// @notice The counted reserves (usd18) of the stored attestation with its observedAt,
    ///         sequence and flags; the same refusals as `latestChecked` at the cost of two
    ///         storage reads. What ReserveFeed and SolventMintGuard read.
    function latestReservesChecked(bytes32 issuer, uint64 maxAgeSeconds)
        external
        view
        returns (uint256 reservesUsd, uint64 observedAt, uint64 sequence, uint64 flags)
    {
        Stored storage s = stored[issuer];
        uint256 head = s.head;
        observedAt = _requireFreshHead(issuer, head, maxAgeSeconds);
        return (s.amounts[0] & MASK_128, observedAt, uint64(head), uint64(head >> FLAGS_SHIFT));
    }

    function _latest(bytes32 issuer) private view returns (Attestation memory a) {
        Stored storage s = stored[issuer];
        uint256 head = s.head;
        if (head == 0) return a;
        a.issuer = issuer;
        a.sequence = uint64(head);
        a.previous = s.digests[(head & 1) ^ 1];
        a.observedAt = uint64((head >> OBSERVED_AT_SHIFT) & MASK_40);
        a.validUntil = uint64((head >> VALID_UNTIL_SHIFT) & MASK_40);
        a.ratioBps = uint32(head >> RATIO_SHIFT);
        a.flags = uint64(head >> FLAGS_SHIFT);
        (uint256 amounts0, uint256 amounts1) = (s.amounts[0], s.amounts[1]);
        a.reservesUsd = amounts0 & MASK_128;
        a.onchainReservesUsd = amounts0 >> 128;
        a.offchainReservesUsd = amounts1 & MASK_128;
        a.liabilitiesUsd = amounts1 >> 128;
        a.reservesRoot = s.reservesRoot;
        a.liabilitiesRoot = s.liabilitiesRoot;
        a.reportHash = s.reportHash;
    }

    /// @notice Digest of the stored attestation (zero when none): the `previous` the next one must carry.
    function latestDigest(bytes32 issuer) external view returns (bytes32) {
        Stored storage s = stored[issuer];
        uint256 head = s.head;
        return head == 0 ? bytes32(0) : s.digests[head & 1];
    }

    function latestSequence(bytes32 issuer) external view returns (uint64) {
        return uint64(stored[issuer].head);
    }

    /// @notice observedAt and reservesUsd of a past round, for Chainlink-style feeds.
    ///         Reverts UnknownRound unless `sequence` was submitted and is within the last `roundHistory` slots.
    function roundData(bytes32 issuer, uint64 sequence) external view returns (uint64 observedAt, uint256 reservesUsd) {
        uint256 word = sequence == 0 ? 0 : rounds[issuer][sequence % roundHistory];
        if (word == 0 || uint64(word) != sequence) revert UnknownRound(issuer, sequence);
        return (uint64(word >> 64), word >> 128);
    }

    /// @notice True when `healthReasons` with the same policy is 0.
    function isHealthy(bytes32 issuer, uint32 minRatioBps, uint64 maxAgeSeconds, uint64 denyFlags)
        external
        view
        returns (bool)
    {
        return healthReasons(issuer, minRatioBps, maxAgeSeconds, denyFlags) == 0;
    }

    /// @notice Every failed SPEC §10 gate condition as a bitmask of NO_ATTESTATION, EXPIRED,
    ///         TOO_OLD, RATIO_BELOW_MIN and DENIED_FLAG; 0 means healthy.
    function healthReasons(bytes32 issuer, uint32 minRatioBps, uint64 maxAgeSeconds, uint64 denyFlags)
        public
        view
        returns (uint256 reasons)
    {
        uint256 head = stored[issuer].head;
        // A stored head is never 0: its sequence is at least 1.
        if (head == 0) return NO_ATTESTATION;
        uint256 observedAt = (head >> OBSERVED_AT_SHIFT) & MASK_40;
        if (block.timestamp > (head >> VALID_UNTIL_SHIFT) & MASK_40) reasons |= EXPIRED;
        // A future observedAt has age 0.
        if (block.timestamp > observedAt && block.timestamp - observedAt > maxAgeSeconds) reasons |= TOO_OLD;
        if (uint32(head >> RATIO_SHIFT) < minRatioBps) reasons |= RATIO_BELOW_MIN;
        if ((head >> FLAGS_SHIFT) & denyFlags != 0) reasons |= DENIED_FLAG;
    }

    // ---- signers (rotation never re-checks stored attestations) ----

    function addSigner(bytes32 issuer, address signer) external onlyOwner {
        if (signer == address(0)) revert ZeroAddress();
        if (isSigner[issuer][signer]) revert SignerAlreadyAuthorised(issuer, signer);
        isSigner[issuer][signer] = true;
        emit SignerAdded(issuer, signer);
    }

    function removeSigner(bytes32 issuer, address signer) external onlyOwner {
        if (!isSigner[issuer][signer]) revert SignerNotAuthorised(issuer, signer);
        isSigner[issuer][signer] = false;
        emit SignerRemoved(issuer, signer);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    // ---- internals ----

    /// Reverts unless `head` holds an attestation that is unexpired and at most `maxAgeSeconds` old; returns its observedAt.
    function _requireFreshHead(bytes32 issuer, uint256 head, uint64 maxAgeSeconds) private view returns (uint64 observedAt) {
        if (head == 0) revert NoAttestation(issuer);
        observedAt = uint64((head >> OBSERVED_AT_SHIFT) & MASK_40);
        _requireFresh(issuer, observedAt, uint64((head >> VALID_UNTIL_SHIFT) & MASK_40), maxAgeSeconds);
    }

    function _packHead(Attestation calldata a) private pure returns (uint256) {
        if (a.observedAt > MASK_40) revert TimestampTooLarge(a.observedAt);
        if (a.validUntil > MASK_40) revert TimestampTooLarge(a.validUntil);
        return uint256(a.sequence) | (uint256(a.observedAt) << OBSERVED_AT_SHIFT)
            | (uint256(a.validUntil) << VALID_UNTIL_SHIFT) | (uint256(a.ratioBps) << RATIO_SHIFT)
            | (uint256(a.flags) << FLAGS_SHIFT);
    }

    function _usd(uint256 value) private pure returns (uint256) {
        if (value > MASK_128) revert UsdAmountTooLarge(value);
        return value;
    }

    /// @dev 65-byte r ‖ s ‖ v only; no EIP-2098 compact form, no v in {0, 1}.
    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        if (signature.length != 65) revert InvalidSignature();
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := calldataload(signature.offset)
            s := calldataload(add(signature.offset, 32))
            v := byte(0, calldataload(add(signature.offset, 64)))
        }
        if (uint256(s) > HALF_N || (v != 27 && v != 28)) revert InvalidSignature();
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidSignature();
    }
}
