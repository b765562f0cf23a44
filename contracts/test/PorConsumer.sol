// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// Chainlink's AggregatorV3Interface, declared here as any consumer would.
interface AggregatorV3Interface {
    function decimals() external view returns (uint8);
    function description() external view returns (string memory);
    function version() external view returns (uint256);
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}

/// @title PorConsumer
/// @notice A Proof-of-Reserve minting guard written the way Chainlink PoR consumers
///         are: an 18-decimal token whose supply may never exceed the reserves a
///         feed reports, and whose feed must have been updated within `heartbeat`.
///         It knows only AggregatorV3Interface, so it proves ReserveFeed is a drop-in.
contract PorConsumer {
    uint8 public constant decimals = 18;

    AggregatorV3Interface public immutable reserveFeed;
    uint256 public immutable heartbeat;
    address public immutable minter;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;

    event Transfer(address indexed from, address indexed to, uint256 value);

    error NotMinter(address caller);
    error InvalidReserveAnswer(int256 answer);
    error StaleReserves(uint256 updatedAt, uint256 heartbeat);
    error InsufficientReserves(uint256 reserves, uint256 supplyAfterMint);

    constructor(address reserveFeed_, uint256 heartbeat_) {
        reserveFeed = AggregatorV3Interface(reserveFeed_);
        heartbeat = heartbeat_;
        minter = msg.sender;
    }

    function mint(uint256 amount) external {
        if (msg.sender != minter) revert NotMinter(msg.sender);
        uint256 reserves = reservesInTokenUnits();
        uint256 supplyAfterMint = totalSupply + amount;
        if (reserves < supplyAfterMint) revert InsufficientReserves(reserves, supplyAfterMint);
        totalSupply = supplyAfterMint;
        balanceOf[msg.sender] += amount;
        emit Transfer(address(0), msg.sender, amount);
    }

    /// @notice The feed's latest answer rescaled to this token's decimals, after the PoR sanity checks.
    function reservesInTokenUnits() public view returns (uint256) {
        (uint80 roundId, int256 answer,, uint256 updatedAt, uint80 answeredInRound) = reserveFeed.latestRoundData();
        if (answer <= 0 || answeredInRound < roundId) revert InvalidReserveAnswer(answer);
        if (updatedAt > block.timestamp || block.timestamp - updatedAt > heartbeat) {
            revert StaleReserves(updatedAt, heartbeat);
        }
        uint8 feedDecimals = reserveFeed.decimals();
        uint256 reserves = uint256(answer);
        if (feedDecimals < decimals) return reserves * 10 ** (decimals - feedDecimals);
        return reserves / 10 ** (feedDecimals - decimals);
    }
}
