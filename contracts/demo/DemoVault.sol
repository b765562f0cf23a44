// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title DemoVault
/// @notice Minimal ERC-4626 vault over one ERC-20 asset; the vault is itself the
///         ERC-20 share token. `totalAssets` is the asset balance held, so any
///         transfer in raises the share price. The owner can simulate yield
///         (`simulateYield`) and loss (`simulateLoss`) so the price differs from 1.
/// @dev Share math uses one virtual share and one virtual asset, which keeps the
///      first depositor's price at 1 and makes "donate to inflate" attacks unprofitable.
contract DemoVault {
    string public name;
    string public symbol;
    uint8 public immutable decimals;
    address public immutable asset;
    address public owner;
    uint256 public totalSupply;

    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);
    event Deposit(address indexed sender, address indexed owner, uint256 assets, uint256 shares);
    event Withdraw(
        address indexed sender, address indexed receiver, address indexed owner, uint256 assets, uint256 shares
    );
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address caller);
    error ZeroAddress();
    error ZeroAmount();
    error InsufficientBalance(address account, uint256 balance, uint256 needed);
    error InsufficientAllowance(address spender, uint256 allowance, uint256 needed);
    error AssetTransferFailed(address from, address to, uint256 amount);
    error AssetBalanceUnavailable(address asset);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(address asset_, string memory name_, string memory symbol_) {
        if (asset_ == address(0)) revert ZeroAddress();
        asset = asset_;
        name = name_;
        symbol = symbol_;
        decimals = _assetDecimals(asset_);
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    // ---- ERC-20 (shares) ----

    function transfer(address to, uint256 amount) external returns (bool) {
        _transfer(msg.sender, to, amount);
        return true;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _spendAllowance(from, msg.sender, amount);
        _transfer(from, to, amount);
        return true;
    }

    // ---- ERC-4626 accounting ----

    function totalAssets() public view returns (uint256) {
        return _assetBalanceOf(address(this));
    }

    function convertToShares(uint256 assets) public view returns (uint256) {
        return _toShares(assets, false);
    }

    function convertToAssets(uint256 shares) public view returns (uint256) {
        return _toAssets(shares, false);
    }

    function maxDeposit(address) external pure returns (uint256) {
        return type(uint256).max;
    }

    function maxMint(address) external pure returns (uint256) {
        return type(uint256).max;
    }

    function maxWithdraw(address holder) external view returns (uint256) {
        return _toAssets(balanceOf[holder], false);
    }

    function maxRedeem(address holder) external view returns (uint256) {
        return balanceOf[holder];
    }

    // Rounding always favours the vault: users get fewer shares/assets, pay more.
    function previewDeposit(uint256 assets) public view returns (uint256) {
        return _toShares(assets, false);
    }

    function previewMint(uint256 shares) public view returns (uint256) {
        return _toAssets(shares, true);
    }

    function previewWithdraw(uint256 assets) public view returns (uint256) {
        return _toShares(assets, true);
    }

    function previewRedeem(uint256 shares) public view returns (uint256) {
        return _toAssets(shares, false);
    }

    // ---- ERC-4626 actions ----

    function deposit(uint256 assets, address receiver) external returns (uint256 shares) {
        shares = previewDeposit(assets);
        if (shares == 0) revert ZeroAmount();
        _enter(receiver, assets, shares);
    }

    function mint(uint256 shares, address receiver) external returns (uint256 assets) {
        if (shares == 0) revert ZeroAmount();
        assets = previewMint(shares);
        _enter(receiver, assets, shares);
    }

    function withdraw(uint256 assets, address receiver, address holder) external returns (uint256 shares) {
        shares = previewWithdraw(assets);
        _exit(receiver, holder, assets, shares);
    }

    function redeem(uint256 shares, address receiver, address holder) external returns (uint256 assets) {
        assets = previewRedeem(shares);
        if (assets == 0) revert ZeroAmount();
        _exit(receiver, holder, assets, shares);
    }

    // ---- demo controls ----

    /// @notice Pulls `amount` of the asset from the owner (needs an approval) without
    ///         minting shares: every share becomes worth more.
    function simulateYield(uint256 amount) external onlyOwner {
        _pullAsset(msg.sender, amount);
    }

    /// @notice Sends `amount` of the asset to `to` without burning shares: every share
    ///         becomes worth less.
    function simulateLoss(uint256 amount, address to) external onlyOwner {
        _pushAsset(to, amount);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    // ---- internals ----

    function _enter(address receiver, uint256 assets, uint256 shares) private {
        if (receiver == address(0)) revert ZeroAddress();
        _pullAsset(msg.sender, assets);
        totalSupply += shares;
        balanceOf[receiver] += shares;
        emit Transfer(address(0), receiver, shares);
        emit Deposit(msg.sender, receiver, assets, shares);
    }

    function _exit(address receiver, address holder, uint256 assets, uint256 shares) private {
        if (receiver == address(0)) revert ZeroAddress();
        if (msg.sender != holder) _spendAllowance(holder, msg.sender, shares);
        uint256 balance = balanceOf[holder];
        if (balance < shares) revert InsufficientBalance(holder, balance, shares);
        balanceOf[holder] = balance - shares;
        totalSupply -= shares;
        emit Transfer(holder, address(0), shares);
        _pushAsset(receiver, assets);
        emit Withdraw(msg.sender, receiver, holder, assets, shares);
    }

    function _toShares(uint256 assets, bool roundUp) private view returns (uint256) {
        return _mulDiv(assets, totalSupply + 1, totalAssets() + 1, roundUp);
    }

    function _toAssets(uint256 shares, bool roundUp) private view returns (uint256) {
        return _mulDiv(shares, totalAssets() + 1, totalSupply + 1, roundUp);
    }

    /// @dev Plain checked arithmetic: demo amounts stay far below 2**128.
    function _mulDiv(uint256 x, uint256 y, uint256 d, bool roundUp) private pure returns (uint256) {
        uint256 product = x * y;
        uint256 result = product / d;
        if (roundUp && product % d != 0) result += 1;
        return result;
    }

    function _transfer(address from, address to, uint256 amount) private {
        if (to == address(0)) revert ZeroAddress();
        uint256 balance = balanceOf[from];
        if (balance < amount) revert InsufficientBalance(from, balance, amount);
        balanceOf[from] = balance - amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }

    function _spendAllowance(address holder, address spender, uint256 amount) private {
        uint256 allowed = allowance[holder][spender];
        if (allowed == type(uint256).max) return;
        if (allowed < amount) revert InsufficientAllowance(spender, allowed, amount);
        allowance[holder][spender] = allowed - amount;
    }

    function _assetDecimals(address token) private view returns (uint8) {
        (bool ok, bytes memory data) = token.staticcall(abi.encodeWithSignature("decimals()"));
        // Tokens without decimals() are treated as 18-decimal, the common default.
        if (!ok || data.length < 32) return 18;
        uint256 value = abi.decode(data, (uint256));
        return value <= type(uint8).max ? uint8(value) : 18;
    }

    function _assetBalanceOf(address account) private view returns (uint256) {
        (bool ok, bytes memory data) = asset.staticcall(abi.encodeWithSignature("balanceOf(address)", account));
        if (!ok || data.length < 32) revert AssetBalanceUnavailable(asset);
        return abi.decode(data, (uint256));
    }

    function _pullAsset(address from, uint256 amount) private {
        bytes memory callData =
            abi.encodeWithSignature("transferFrom(address,address,uint256)", from, address(this), amount);
        _callAsset(callData, from, address(this), amount);
    }

    function _pushAsset(address to, uint256 amount) private {
        _callAsset(abi.encodeWithSignature("transfer(address,uint256)", to, amount), address(this), to, amount);
    }

    /// @dev Accepts tokens that return nothing as well as those returning `true`.
    function _callAsset(bytes memory callData, address from, address to, uint256 amount) private {
        (bool ok, bytes memory data) = asset.call(callData);
        if (!ok || (data.length != 0 && !abi.decode(data, (bool)))) revert AssetTransferFailed(from, to, amount);
    }
}
