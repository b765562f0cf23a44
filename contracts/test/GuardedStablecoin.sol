// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {SolventGuardedMint} from "../SolventMintGuard.sol";

/// @title GuardedStablecoin
/// @notice A minimal token that guards its own mint with SolventGuardedMint: the way a new
///         stablecoin would wire the guard in (one modifier on `mint`). Holders can burn
///         their own tokens, which frees room under the limit.
contract GuardedStablecoin is SolventGuardedMint {
    string public name;
    string public symbol;
    uint8 public immutable decimals;
    address public immutable minter;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;

    event Transfer(address indexed from, address indexed to, uint256 value);

    error NotMinter(address caller);
    error InsufficientBalance(address account, uint256 balance, uint256 needed);

    modifier onlyMinter() {
        if (msg.sender != minter) revert NotMinter(msg.sender);
        _;
    }

    constructor(string memory name_, string memory symbol_, uint8 decimals_, MintPolicy memory policy)
        SolventGuardedMint(policy, decimals_)
    {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
        minter = msg.sender;
    }

    function mint(address to, uint256 amount) external onlyMinter onlyWithinReserves(amount) {
        if (to == address(0)) revert ZeroAddress();
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    function burn(uint256 amount) external {
        uint256 balance = balanceOf[msg.sender];
        if (balance < amount) revert InsufficientBalance(msg.sender, balance, amount);
        balanceOf[msg.sender] = balance - amount;
        totalSupply -= amount;
        emit Transfer(msg.sender, address(0), amount);
    }

    function _guardedSupply() internal view override returns (uint256) {
        return totalSupply;
    }
}
