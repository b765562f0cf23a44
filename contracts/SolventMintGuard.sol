// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {AttestationChecks} from "./AttestationChecks.sol";

/// The SolvencyOracle read the guard relies on: reverts unless the issuer's attestation is
/// present, unexpired and at most `maxAgeSeconds` old.
interface ISolvencyOracleReserves {
    function latestReservesChecked(bytes32 issuer, uint64 maxAgeSeconds)
        external
        view
        returns (uint256 reservesUsd, uint64 observedAt, uint64 sequence, uint64 flags);
}

/// What SolventMintGuard needs from an existing token whose minter role it holds.
interface IGuardedToken {
    function decimals() external view returns (uint8);
    function totalSupply() external view returns (uint256);
    function balanceOf(address account) external view returns (uint256);
    function mint(address to, uint256 amount) external;
}

/// @title SolventMintPolicy
/// @notice The rule a Solvent-guarded mint obeys (docs/onchain.md): a mint of `amount` is
///         allowed only when the issuer's attestation in the SolvencyOracle is present,
///         unexpired and at most `maxAgeSeconds` old, carries none of `denyFlags`, and
///
///             supply + amount <= limit
///             limit = floor(floor(reservesUsd / 1e10) * 10^(10 + decimals) * (10000 + marginBps)
///                           / (pegUsd18 * 10000))
///
///         reservesUsd is the attestation's counted reserves (usd18), cut to the 8 decimals
///         of GET /feed and ReserveFeed so that a limit computed from either equals this one
///         to the base unit; pegUsd18 is the USD value of one whole token with 18 decimals;
///         marginBps is negative for a haircut (reserves must exceed supply) and positive
///         for a bounded tolerance. Each refusal is a named error carrying the numbers.
/// @dev The policy is immutable: nobody can loosen it later (a new policy is a new guard).
///      The constructor refuses parameters that would silently disable a check.
abstract contract SolventMintPolicy is AttestationChecks {
    struct MintPolicy {
        /// The SolvencyOracle holding the issuer's attestations.
        address oracle;
        /// keccak256 of the issuer id (SPEC §5), as the oracle keys it.
        bytes32 issuer;
        /// USD value of one whole token, 18 decimals (1e18 for a dollar token).
        uint256 pegUsd18;
        /// -9999..1000: negative = haircut, positive = tolerance above the reserves.
        int256 marginBps;
        /// 1 s..7 days: attestations observed longer ago refuse mints even before validUntil.
        uint64 maxAgeSeconds;
        /// Risk flags (docs/flags.md) that refuse mints; must include UNDERCOLLATERALIZED.
        uint64 denyFlags;
    }

    uint64 public constant UNDERCOLLATERALIZED = 1;
    uint8 public constant MAX_DECIMALS = 30;
    uint256 public constant MIN_PEG_USD18 = 1e12;
    uint256 public constant MAX_PEG_USD18 = 1e30;
    int256 public constant MIN_MARGIN_BPS = -9_999;
    int256 public constant MAX_MARGIN_BPS = 1_000;
    uint64 public constant MAX_AGE_LIMIT_SECONDS = 7 days;
    uint256 private constant BPS = 10_000;
    uint256 private constant USD18_TO_FEED = 1e10;

    ISolvencyOracleReserves public immutable oracle;
    bytes32 public immutable issuer;
    uint8 public immutable tokenDecimals;
    uint256 public immutable pegUsd18;
    int256 public immutable marginBps;
    uint64 public immutable maxAgeSeconds;
    uint64 public immutable denyFlags;
    /// 10^(10 + tokenDecimals) * (10000 + marginBps): at most 1.1e44, so with a feed answer
    /// below 2^128 / 1e10 the product stays far inside 256 bits.
    uint256 private immutable limitNumerator;
    /// pegUsd18 * 10000.
    uint256 private immutable limitDenominator;

    error ZeroAddress();
    error InvalidDecimals(uint8 decimals, uint8 max);
    error InvalidPeg(uint256 pegUsd18, uint256 min, uint256 max);
    error InvalidMargin(int256 marginBps, int256 min, int256 max);
    error InvalidMaxAge(uint64 maxAgeSeconds, uint64 max);
    /// A mint guard that lets an issuer its own attestation calls under-collateralised mint is no guard.
    error DenyFlagsMissUndercollateralized(uint64 denyFlags);
    /// `denied` = flags & denyFlags, never 0.
    error AttestationFlagged(bytes32 issuer, uint64 flags, uint64 denied);
    /// supply + amount would exceed `limit` (token base units).
    error MintExceedsReserves(uint256 supply, uint256 amount, uint256 limit);

    constructor(MintPolicy memory policy, uint8 decimals_) {
        if (policy.oracle == address(0)) revert ZeroAddress();
        if (decimals_ > MAX_DECIMALS) revert InvalidDecimals(decimals_, MAX_DECIMALS);
        if (policy.pegUsd18 < MIN_PEG_USD18 || policy.pegUsd18 > MAX_PEG_USD18) {
            revert InvalidPeg(policy.pegUsd18, MIN_PEG_USD18, MAX_PEG_USD18);
        }
        if (policy.marginBps < MIN_MARGIN_BPS || policy.marginBps > MAX_MARGIN_BPS) {
            revert InvalidMargin(policy.marginBps, MIN_MARGIN_BPS, MAX_MARGIN_BPS);
        }
        if (policy.maxAgeSeconds == 0 || policy.maxAgeSeconds > MAX_AGE_LIMIT_SECONDS) {
            revert InvalidMaxAge(policy.maxAgeSeconds, MAX_AGE_LIMIT_SECONDS);
        }
        if (policy.denyFlags & UNDERCOLLATERALIZED == 0) revert DenyFlagsMissUndercollateralized(policy.denyFlags);
        oracle = ISolvencyOracleReserves(policy.oracle);
        issuer = policy.issuer;
        tokenDecimals = decimals_;
        pegUsd18 = policy.pegUsd18;
        marginBps = policy.marginBps;
        maxAgeSeconds = policy.maxAgeSeconds;
        denyFlags = policy.denyFlags;
        limitNumerator = 10 ** (10 + uint256(decimals_)) * uint256(int256(BPS) + policy.marginBps);
        limitDenominator = policy.pegUsd18 * BPS;
    }

    /// @notice The supply (token base units) that `reservesUsd` (usd18) backs under this policy.
    /// @dev Exact for every `reservesUsd` below 2^128 (all the oracle can store); larger inputs may overflow.
    function limitFor(uint256 reservesUsd) public view returns (uint256) {
        return (reservesUsd / USD18_TO_FEED) * limitNumerator / limitDenominator;
    }

    /// @notice The current limit and the supply it is compared with, with the attestation's
    ///         sequence; reverts exactly as a mint would for a missing, stale or flagged
    ///         attestation. `limit - supply` (when positive) is what may be minted now.
    function mintLimit() external view returns (uint256 limit, uint256 supply, uint64 sequence) {
        (limit, sequence) = _attestedLimit();
        supply = _guardedSupply();
    }

    /// @dev The supply the limit applies to: what the issuer's attestation counts as liabilities.
    function _guardedSupply() internal view virtual returns (uint256);

    /// @dev Reverts with a named error unless minting `amount` now obeys the policy.
    function _requireWithinReserves(uint256 amount) internal view returns (uint256 limit, uint64 sequence) {
        (limit, sequence) = _attestedLimit();
        uint256 supply = _guardedSupply();
        if (supply > limit || amount > limit - supply) revert MintExceedsReserves(supply, amount, limit);
    }

    function _attestedLimit() private view returns (uint256 limit, uint64 sequence) {
        (uint256 reservesUsd,, uint64 sequence_, uint64 flags) = oracle.latestReservesChecked(issuer, maxAgeSeconds);
        uint64 denied = flags & denyFlags;
        if (denied != 0) revert AttestationFlagged(issuer, flags, denied);
        return (limitFor(reservesUsd), sequence_);
    }
}

/// @title SolventGuardedMint
/// @notice Base for a token that guards its own mint:
///
///             function mint(address to, uint256 amount) external onlyMinter onlyWithinReserves(amount) { ... }
///
///         The token implements `_guardedSupply()` (usually its totalSupply).
abstract contract SolventGuardedMint is SolventMintPolicy {
    constructor(MintPolicy memory policy, uint8 decimals_) SolventMintPolicy(policy, decimals_) {}

    modifier onlyWithinReserves(uint256 amount) {
        _requireWithinReserves(amount);
        _;
    }
}

/// @title SolventMintGuard
/// @notice Standalone guard for an existing token: give it the token's minter role (for
///         DemoToken, its ownership), authorise minters here, and every mint goes through
///         `mint(to, amount)`, which checks the policy and then calls the token's mint.
///         The guarded supply is totalSupply minus the balances of `excludedHolders`,
///         which must be the escrows the issuer's configuration subtracts from its
///         liabilities (`liabilities.supply.tokens[].escrows`), so the guard and the
///         attestation count the same supply.
contract SolventMintGuard is SolventMintPolicy {
    uint256 public constant MAX_EXCLUDED_HOLDERS = 8;

    IGuardedToken public immutable token;
    address public owner;
    mapping(address minter => bool) public isMinter;
    address[] private excluded;

    event Minted(address indexed minter, address indexed to, uint256 amount, uint256 limit, uint64 sequence);
    event MinterAdded(address indexed minter);
    event MinterRemoved(address indexed minter);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address caller);
    error NotMinter(address caller);
    error MinterAlreadyAuthorised(address minter);
    error MinterNotAuthorised(address minter);
    error TooManyExcludedHolders(uint256 count, uint256 max);
    /// Zero, or listed twice (its balance would be subtracted twice).
    error InvalidExcludedHolder(address holder);
    /// Tokens minted into an escrow would never count against the limit.
    error MintToExcludedHolder(address to);
    /// The excluded holders hold more than the whole supply: the token is not what the guard expects.
    error ExcludedExceedSupply(uint256 totalSupply, uint256 excludedBalance);
    error TokenHasNoCode(address token);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(MintPolicy memory policy, address token_, address[] memory excludedHolders_)
        SolventMintPolicy(policy, _decimalsOf(token_))
    {
        if (excludedHolders_.length > MAX_EXCLUDED_HOLDERS) {
            revert TooManyExcludedHolders(excludedHolders_.length, MAX_EXCLUDED_HOLDERS);
        }
        for (uint256 i = 0; i < excludedHolders_.length; i++) {
            address holder = excludedHolders_[i];
            if (holder == address(0)) revert InvalidExcludedHolder(holder);
            for (uint256 j = 0; j < i; j++) {
                if (excludedHolders_[j] == holder) revert InvalidExcludedHolder(holder);
            }
            excluded.push(holder);
        }
        token = IGuardedToken(token_);
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    /// @notice Mints `amount` of the token to `to` when the policy allows it; minters only.
    function mint(address to, uint256 amount) external {
        if (!isMinter[msg.sender]) revert NotMinter(msg.sender);
        if (_isExcluded(to)) revert MintToExcludedHolder(to);
        (uint256 limit, uint64 sequence) = _requireWithinReserves(amount);
        token.mint(to, amount);
        emit Minted(msg.sender, to, amount, limit, sequence);
    }

    function excludedHolders() external view returns (address[] memory) {
        return excluded;
    }

    function addMinter(address minter) external onlyOwner {
        if (minter == address(0)) revert ZeroAddress();
        if (isMinter[minter]) revert MinterAlreadyAuthorised(minter);
        isMinter[minter] = true;
        emit MinterAdded(minter);
    }

    function removeMinter(address minter) external onlyOwner {
        if (!isMinter[minter]) revert MinterNotAuthorised(minter);
        isMinter[minter] = false;
        emit MinterRemoved(minter);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function _guardedSupply() internal view override returns (uint256) {
        uint256 total = token.totalSupply();
        uint256 held;
        for (uint256 i = 0; i < excluded.length; i++) {
            held += token.balanceOf(excluded[i]);
        }
        if (held > total) revert ExcludedExceedSupply(total, held);
        return total - held;
    }

    function _isExcluded(address account) private view returns (bool) {
        for (uint256 i = 0; i < excluded.length; i++) {
            if (excluded[i] == account) return true;
        }
        return false;
    }

    function _decimalsOf(address token_) private view returns (uint8) {
        if (token_ == address(0)) revert ZeroAddress();
        if (token_.code.length == 0) revert TokenHasNoCode(token_);
        return IGuardedToken(token_).decimals();
    }
}
