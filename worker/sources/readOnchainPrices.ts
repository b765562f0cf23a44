import { type Client, getAddress } from "viem";
import type { AssetConfig, ChainConfig, PriceSourceConfig } from "../../core/config/schema.js";
import { FUTURE_SKEW_SECONDS } from "../../core/custodianStatement.js";
import type { PinnedBlock, PoolQuote, PriceObservation } from "../../core/valuation/readings.js";
import { type CallBatch, createChainCallBatch } from "./multicall.js";
import { readDecimals } from "./readDecimals.js";

const aggregatorV3Abi = [
  {
    type: "function",
    name: "latestRoundData",
    stateMutability: "view",
    inputs: [],
    outputs: [
      { name: "roundId", type: "uint80" },
      { name: "answer", type: "int256" },
      { name: "startedAt", type: "uint256" },
      { name: "updatedAt", type: "uint256" },
      { name: "answeredInRound", type: "uint80" },
    ],
  },
  { type: "function", name: "decimals", stateMutability: "view", inputs: [], outputs: [{ name: "", type: "uint8" }] },
] as const;

const uniswapV3PoolAbi = [
  {
    type: "function",
    name: "slot0",
    stateMutability: "view",
    inputs: [],
    outputs: [
      { name: "sqrtPriceX96", type: "uint160" },
      { name: "tick", type: "int24" },
      { name: "observationIndex", type: "uint16" },
      { name: "observationCardinality", type: "uint16" },
      { name: "observationCardinalityNext", type: "uint16" },
      { name: "feeProtocol", type: "uint8" },
      { name: "unlocked", type: "bool" },
    ],
  },
  { type: "function", name: "token0", stateMutability: "view", inputs: [], outputs: [{ name: "", type: "address" }] },
  { type: "function", name: "token1", stateMutability: "view", inputs: [], outputs: [{ name: "", type: "address" }] },
] as const;

const USD18 = 10n ** 18n;
const Q192 = 2n ** 192n;

type ChainlinkSource = Extract<PriceSourceConfig, { kind: "chainlink" }>;
type UniswapV3Source = Extract<PriceSourceConfig, { kind: "uniswapV3" }>;

// Pool quotes are handed to valuation as read (core/valuation/readings.ts PoolQuote), which puts them in USD.
export type { PoolQuote };

export interface ReadOnchainPricesParameters {
  chain: ChainConfig;
  /** The issuer's assets; only their chainlink / uniswapV3 sources on this chain are read. */
  assets: readonly AssetConfig[];
  block: PinnedBlock;
  /** Unix seconds of the tick; a feed whose updatedAt is more than maxAgeSeconds before it is stale. */
  now: bigint;
  batch?: CallBatch;
}

export const chainlinkLabel = (chainId: number, feed: string): string => `chainlink:${chainId}:${feed.toLowerCase()}`;
export const uniswapV3Label = (chainId: number, pool: string): string => `uniswapV3:${chainId}:${pool.toLowerCase()}`;

/**
 * Chainlink-style feeds (`latestRoundData` + `decimals`) become USD
 * observations directly. Uniswap-v3-style pools (`slot0`, `token0`, `token1`,
 * then both `decimals`) become PoolQuotes in quote-asset terms: put them in
 * USD in valuation (core/valuation/priceQuorum.ts `priceTick`) once the quote assets are priced.
 *
 * @example
 * const { direct, pools } = await readOnchainPrices(client, { chain, assets: issuer.assets, block, now });
 */
export async function readOnchainPrices(
  client: Client,
  parameters: ReadOnchainPricesParameters,
): Promise<{ direct: PriceObservation[]; pools: PoolQuote[] }> {
  const { chain, assets, block, now } = parameters;
  const batch = parameters.batch ?? createChainCallBatch(client, chain, block.number);
  const direct: Promise<PriceObservation>[] = [];
  const pools: Promise<PoolQuote>[] = [];
  for (const asset of assets) {
    for (const source of asset.prices) {
      if (source.kind === "chainlink" && source.chainId === chain.chainId) {
        direct.push(
          readChainlink(batch, chain.chainId, source, now, block.timestamp).then((result) => ({
            asset: asset.id,
            source: chainlinkLabel(chain.chainId, source.feed),
            result,
          })),
        );
      } else if (source.kind === "uniswapV3" && source.chainId === chain.chainId) {
        pools.push(
          readPool(batch, source, block).then((result) => ({
            asset: asset.id,
            source: uniswapV3Label(chain.chainId, source.pool),
            quoteAsset: source.quoteAsset,
            result,
          })),
        );
      }
    }
  }
  return { direct: await Promise.all(direct), pools: await Promise.all(pools) };
}

async function readChainlink(
  batch: CallBatch,
  chainId: number,
  source: ChainlinkSource,
  now: bigint,
  blockTime: bigint,
): Promise<PriceObservation["result"]> {
  const feed = getAddress(source.feed);
  const [round, decimals] = await Promise.all([
    batch.read({ address: feed, abi: aggregatorV3Abi, functionName: "latestRoundData" }),
    batch.read({ address: feed, abi: aggregatorV3Abi, functionName: "decimals" }),
  ]);
  if (!round.ok) return round;
  if (!decimals.ok) return decimals;
  const [, answer, , updatedAt] = round.value;
  if (answer <= 0n) return { ok: false, reason: `feed ${feed} on chain ${chainId} answered ${answer} (not positive)` };
  if (updatedAt === 0n)
    return { ok: false, reason: `feed ${feed} on chain ${chainId} has no completed round (updatedAt 0)` };
  // A round cannot have been updated after the block it is read at (nor after now): a later updatedAt is a broken or lying feed.
  const latest = (now > blockTime ? now : blockTime) + FUTURE_SKEW_SECONDS;
  if (updatedAt > latest) {
    return {
      ok: false,
      reason: `feed ${feed} on chain ${chainId} says it was updated at ${updatedAt}, after the block read (${blockTime}) and now (${now})`,
    };
  }
  const age = now - updatedAt;
  if (age > BigInt(source.maxAgeSeconds)) {
    return {
      ok: false,
      reason: `stale: feed ${feed} updated at ${updatedAt}, ${age}s before now, over its ${source.maxAgeSeconds}s limit`,
    };
  }
  return { ok: true, value: { priceUsd: scaleToUsd18(answer, decimals.value), updatedAt } };
}

/** An integer with `decimals` decimals as usd18: exact up to 18 decimals, floored beyond. */
export function scaleToUsd18(value: bigint, decimals: number): bigint {
  return decimals <= 18 ? value * 10n ** BigInt(18 - decimals) : value / 10n ** BigInt(decimals - 18);
}

async function readPool(batch: CallBatch, source: UniswapV3Source, block: PinnedBlock): Promise<PoolQuote["result"]> {
  const pool = getAddress(source.pool);
  const token = getAddress(source.token);
  const [slot0, token0, token1] = await Promise.all([
    batch.read({ address: pool, abi: uniswapV3PoolAbi, functionName: "slot0" }),
    batch.read({ address: pool, abi: uniswapV3PoolAbi, functionName: "token0" }),
    batch.read({ address: pool, abi: uniswapV3PoolAbi, functionName: "token1" }),
  ]);
  if (!slot0.ok) return slot0;
  if (!token0.ok) return token0;
  if (!token1.ok) return token1;
  const isToken0 = token0.value.toLowerCase() === token.toLowerCase();
  if (!isToken0 && token1.value.toLowerCase() !== token.toLowerCase()) {
    return { ok: false, reason: `token ${token} is neither token0 nor token1 of pool ${pool}` };
  }
  const [decimals0, decimals1] = await Promise.all([
    readDecimals(batch, token0.value),
    readDecimals(batch, token1.value),
  ]);
  if (!decimals0.ok) return decimals0;
  if (!decimals1.ok) return decimals1;
  const sqrtPriceX96 = slot0.value[0];
  if (sqrtPriceX96 === 0n) return { ok: false, reason: `pool ${pool} is not initialised (sqrtPriceX96 = 0)` };
  const price18 = poolPrice18(sqrtPriceX96, decimals0.value, decimals1.value, isToken0);
  if (price18 === 0n) return { ok: false, reason: `pool ${pool} price of ${token} is below 1e-18 of the quote token` };
  return { ok: true, value: { price18, updatedAt: block.timestamp } };
}

/**
 * Price of one whole `token` in whole units of the pool's other token, 18
 * decimals, floored. Exact rational first: token1-per-token0 in whole units
 * is sqrtPriceX96² · 10^dec0 / (2^192 · 10^dec1); token1's price is its inverse.
 */
export function poolPrice18(
  sqrtPriceX96: bigint,
  decimals0: number,
  decimals1: number,
  tokenIsToken0: boolean,
): bigint {
  const num = sqrtPriceX96 * sqrtPriceX96 * 10n ** BigInt(decimals0);
  const den = Q192 * 10n ** BigInt(decimals1);
  return tokenIsToken0 ? (num * USD18) / den : (den * USD18) / num;
}

/** A failed observation for every on-chain source of this chain (the chain could not be read or reorganised). */
export function failedOnchainPrices(
  chainId: number,
  assets: readonly AssetConfig[],
  reason: string,
): PriceObservation[] {
  const out: PriceObservation[] = [];
  for (const asset of assets) {
    for (const source of asset.prices) {
      if (source.kind === "chainlink" && source.chainId === chainId)
        out.push({ asset: asset.id, source: chainlinkLabel(chainId, source.feed), result: { ok: false, reason } });
      if (source.kind === "uniswapV3" && source.chainId === chainId)
        out.push({ asset: asset.id, source: uniswapV3Label(chainId, source.pool), result: { ok: false, reason } });
    }
  }
  return out;
}
