// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// The part of SolvencyOracle a consumer needs.
interface ISolvencyHealth {
    function healthReasons(bytes32 issuer, uint32 minRatioBps, uint64 maxAgeSeconds, uint64 denyFlags)
        external
        view
        returns (uint256);
}

interface IERC20Transfers {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// @title GatedLendingMarket
/// @notice Example consumer: one collateral token (issued by `issuer`) and one borrow
///         token at a fixed price and LTV. New deposits and borrows need the issuer's
///         attestation to pass the market's policy in the SolvencyOracle; otherwise they
///         revert CollateralFrozen(reasons). Withdrawals and repayments never look at
///         the oracle, so existing positions can always be unwound (the freeze pattern
///         of Aave's Proof-of-Reserve executor).
contract GatedLendingMarket {
    uint256 private constant BPS = 10_000;
    uint256 private constant PRICE_SCALE = 1e18;

    ISolvencyHealth public immutable oracle;
    bytes32 public immutable issuer;
    IERC20Transfers public immutable collateralToken;
    IERC20Transfers public immutable borrowToken;
    /// Borrow-token units per collateral unit, scaled by 1e18.
    uint256 public immutable collateralPrice;
    uint256 public immutable ltvBps;
    // The market's oracle policy (SPEC §10 gate parameters).
    uint32 public immutable minRatioBps;
    uint64 public immutable maxAgeSeconds;
    uint64 public immutable denyFlags;

    mapping(address => uint256) public collateralOf;
    mapping(address => uint256) public debtOf;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event Borrowed(address indexed account, uint256 amount);
    event Repaid(address indexed account, uint256 amount);

    error ZeroAddress();
    error ZeroAmount();
    error InvalidLtv(uint256 ltvBps);
    /// `reasons` is the oracle's healthReasons bitmask under this market's policy.
    error CollateralFrozen(uint256 reasons);
    error InsufficientCollateral(address account, uint256 collateral, uint256 needed);
    error BorrowLimitExceeded(address account, uint256 debt, uint256 limit);
    error RepayExceedsDebt(address account, uint256 debt, uint256 amount);
    error TokenTransferFailed(address token, address from, address to, uint256 amount);

    struct Config {
        address oracle;
        bytes32 issuer;
        address collateralToken;
        address borrowToken;
        uint256 collateralPrice;
        uint256 ltvBps;
        uint32 minRatioBps;
        uint64 maxAgeSeconds;
        uint64 denyFlags;
    }

    constructor(Config memory c) {
        if (c.oracle == address(0) || c.collateralToken == address(0) || c.borrowToken == address(0)) {
            revert ZeroAddress();
        }
        if (c.ltvBps == 0 || c.ltvBps >= BPS) revert InvalidLtv(c.ltvBps);
        oracle = ISolvencyHealth(c.oracle);
        issuer = c.issuer;
        collateralToken = IERC20Transfers(c.collateralToken);
        borrowToken = IERC20Transfers(c.borrowToken);
        collateralPrice = c.collateralPrice;
        ltvBps = c.ltvBps;
        minRatioBps = c.minRatioBps;
        maxAgeSeconds = c.maxAgeSeconds;
        denyFlags = c.denyFlags;
    }

    /// @notice The oracle's reasons to freeze the collateral now; 0 when it is accepted.
    function frozenReasons() public view returns (uint256) {
        return oracle.healthReasons(issuer, minRatioBps, maxAgeSeconds, denyFlags);
    }

    /// @notice How much `account` may owe in total against its collateral.
    function borrowLimit(address account) public view returns (uint256) {
        return collateralOf[account] * collateralPrice / PRICE_SCALE * ltvBps / BPS;
    }

    function deposit(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        _requireNotFrozen();
        collateralOf[msg.sender] += amount;
        _pull(collateralToken, amount);
        emit Deposited(msg.sender, amount);
    }

    /// @notice Allowed while frozen, as long as the remaining collateral still covers the debt.
    function withdraw(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint256 collateral = collateralOf[msg.sender];
        if (collateral < amount) revert InsufficientCollateral(msg.sender, collateral, amount);
        collateralOf[msg.sender] = collateral - amount;
        uint256 debt = debtOf[msg.sender];
        uint256 limit = borrowLimit(msg.sender);
        if (debt > limit) revert BorrowLimitExceeded(msg.sender, debt, limit);
        _push(collateralToken, amount);
        emit Withdrawn(msg.sender, amount);
    }

    function borrow(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        _requireNotFrozen();
        uint256 debt = debtOf[msg.sender] + amount;
        uint256 limit = borrowLimit(msg.sender);
        if (debt > limit) revert BorrowLimitExceeded(msg.sender, debt, limit);
        debtOf[msg.sender] = debt;
        _push(borrowToken, amount);
        emit Borrowed(msg.sender, amount);
    }

    /// @notice Allowed while frozen.
    function repay(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint256 debt = debtOf[msg.sender];
        if (amount > debt) revert RepayExceedsDebt(msg.sender, debt, amount);
        debtOf[msg.sender] = debt - amount;
        _pull(borrowToken, amount);
        emit Repaid(msg.sender, amount);
    }

    function _requireNotFrozen() private view {
        uint256 reasons = frozenReasons();
        if (reasons != 0) revert CollateralFrozen(reasons);
    }

    function _pull(IERC20Transfers token, uint256 amount) private {
        if (!token.transferFrom(msg.sender, address(this), amount)) {
            revert TokenTransferFailed(address(token), msg.sender, address(this), amount);
        }
    }

    function _push(IERC20Transfers token, uint256 amount) private {
        if (!token.transfer(msg.sender, amount)) {
            revert TokenTransferFailed(address(token), address(this), msg.sender, amount);
        }
    }
}
