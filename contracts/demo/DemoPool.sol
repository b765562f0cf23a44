// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title DemoPool
/// @notice Read-only stand-in for a Uniswap v3 pool: `token0`, `token1`, `fee` and
///         `slot0` with the real v3 return tuple. There is no liquidity or swapping;
///         the owner sets the price directly and `tick` is derived from it.
contract DemoPool {
    /// Price bounds of Uniswap v3 (sqrt prices at ticks -887272 and 887272); a price
    /// must be >= MIN and < MAX, so a v3 pool's tick is always in [-887272, 887271].
    uint160 public constant MIN_SQRT_PRICE = 4295128739;
    uint160 public constant MAX_SQRT_PRICE = 1461446703485210103287273052203988822378723970342;
    int24 private constant MAX_TICK_BELOW_MAX_PRICE = 887271;

    /// log2(sqrt(1.0001)) * 2**128, rounded down: one tick, measured in log2 of sqrtPrice.
    uint256 private constant LOG2_SQRT_TICK_BASE_X128 = 24544956935546159117212237183077944;

    address public immutable token0;
    address public immutable token1;
    uint24 public immutable fee;
    address public owner;

    uint160 private sqrtPriceX96;
    int24 private tick;

    event PriceSet(uint160 sqrtPriceX96, int24 tick);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address caller);
    error ZeroAddress();
    /// v3 pools always order their tokens by address.
    error TokensNotSorted(address token0, address token1);
    error SqrtPriceOutOfRange(uint160 sqrtPriceX96);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(address token0_, address token1_, uint24 fee_, uint160 sqrtPriceX96_) {
        if (token0_ >= token1_) revert TokensNotSorted(token0_, token1_);
        token0 = token0_;
        token1 = token1_;
        fee = fee_;
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
        _setPrice(sqrtPriceX96_);
    }

    function slot0()
        external
        view
        returns (
            uint160 sqrtPriceX96_,
            int24 tick_,
            uint16 observationIndex,
            uint16 observationCardinality,
            uint16 observationCardinalityNext,
            uint8 feeProtocol,
            bool unlocked
        )
    {
        return (sqrtPriceX96, tick, 0, 1, 1, 0, true);
    }

    /// @notice Sets the price of token0 in token1 (raw units) as sqrt(price) * 2**96.
    function setSqrtPriceX96(uint160 sqrtPriceX96_) external onlyOwner {
        _setPrice(sqrtPriceX96_);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function _setPrice(uint160 sqrtPriceX96_) private {
        if (sqrtPriceX96_ < MIN_SQRT_PRICE || sqrtPriceX96_ >= MAX_SQRT_PRICE) {
            revert SqrtPriceOutOfRange(sqrtPriceX96_);
        }
        sqrtPriceX96 = sqrtPriceX96_;
        tick = tickAtSqrtPrice(sqrtPriceX96_);
        emit PriceSet(sqrtPriceX96_, tick);
    }

    /// @notice floor(log_1.0001(price)) for price = (sqrtPriceX96 / 2**96)**2, computed as
    ///         floor(log2(sqrtPriceX96 / 2**96) / log2(sqrt(1.0001))).
    /// @dev log2 is computed to 64 fractional bits by the classic square-and-compare
    ///      method; the result can only differ from an exact computation when the
    ///      price lies within ~1e-15 (relative) of a tick boundary.
    function tickAtSqrtPrice(uint160 sqrtPriceX96_) public pure returns (int24) {
        uint256 x = sqrtPriceX96_;
        uint256 msb = 0;
        for (uint256 step = 128; step > 0; step >>= 1) {
            if (x >> (msb + step) != 0) msb += step;
        }
        // Mantissa normalised to [2**127, 2**128), i.e. [1, 2) with 127 fractional bits.
        uint256 m = msb >= 127 ? x >> (msb - 127) : x << (127 - msb);
        int256 log2X64 = (int256(msb) - 96) << 64;
        for (uint256 bit = 1 << 63; bit > 0; bit >>= 1) {
            m = (m * m) >> 127;
            if (m >= 1 << 128) {
                m >>= 1;
                log2X64 += int256(bit);
            }
        }
        int256 numerator = log2X64 << 64;
        int256 denominator = int256(LOG2_SQRT_TICK_BASE_X128);
        int256 quotient = numerator / denominator;
        // Solidity division truncates toward zero; ticks round toward negative infinity.
        if (numerator < 0 && numerator % denominator != 0) quotient -= 1;
        // Just below MAX_SQRT_PRICE the exact tick is 887272 (by ~1e-21); v3 reports 887271 there.
        if (quotient > MAX_TICK_BELOW_MAX_PRICE) quotient = MAX_TICK_BELOW_MAX_PRICE;
        return int24(quotient);
    }
}
