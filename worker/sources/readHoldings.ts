import { erc20Abi, erc4626Abi, getAddress, type Address, type Client } from "viem";
import type { ChainConfig, HolderConfig } from "../../core/config/schema.js";
import { NATIVE_TOKEN } from "../../core/reservesTree.js";
import type { HoldingReading, PinnedBlock, Reading } from "../../core/valuation/readings.js";
import { createChainCallBatch, multicall3Abi, type CallBatch } from "./multicall.js";

/** Native coins of EVM chains have 18 decimals. */
const NATIVE_DECIMALS = 18;

export interface ReadHoldingsParameters {
  chain: ChainConfig;
  /** The issuer's holders on this chain (others are ignored). */
  holders: readonly HolderConfig[];
  block: PinnedBlock;
  /** Share the aggregate3 rounds with other readers of this chain; a private batch when omitted. */
  batch?: CallBatch;
}

/**
 * Every configured holding of every holder on this chain, at the pinned block,
 * in two aggregate3 rounds at most:
 * 1. native `getEthBalance` (on Multicall3), ERC-20 `balanceOf` + `decimals`,
 *    vault `balanceOf` (shares) + `asset()`;
 * 2. vault `convertToAssets(shares)` + the underlying's `decimals()`.
 * Each holding is ok, or failed with a reason naming the call that failed.
 * Addresses in the readings are checksummed.
 *
 * @example
 * const holdings = await readHoldings(client, { chain, holders: issuer.reserves.holders, block });
 */
export async function readHoldings(client: Client, parameters: ReadHoldingsParameters): Promise<HoldingReading[]> {
  const { chain, block } = parameters;
  const batch = parameters.batch ?? createChainCallBatch(client, chain, block.number);
  const holders = parameters.holders.filter((h) => h.chainId === chain.chainId);
  const reads: Promise<HoldingReading>[] = [];
  for (const holder of holders) {
    const address = getAddress(holder.address);
    for (const holding of holder.holdings) {
      const base = { chainId: chain.chainId, holder: address, asset: holding.asset };
      if (holding.type === "native") {
        reads.push(
          readNative(batch, getAddress(chain.multicall3), address).then((result) => ({ ...base, kind: "native", source: NATIVE_TOKEN, result })),
        );
      } else if (holding.type === "erc20") {
        const token = getAddress(holding.token);
        reads.push(readErc20(batch, token, address).then((result) => ({ ...base, kind: "erc20", source: token, result })));
      } else {
        const vault = getAddress(holding.vault);
        reads.push(readVault(batch, vault, address).then((result) => ({ ...base, kind: "erc4626", source: vault, result })));
      }
    }
  }
  return Promise.all(reads);
}

type Amount = HoldingReading["result"];

async function readNative(batch: CallBatch, multicall3: Address, holder: Address): Promise<Amount> {
  const balance = await batch.read({ address: multicall3, abi: multicall3Abi, functionName: "getEthBalance", args: [holder] });
  if (!balance.ok) return balance;
  return { ok: true, value: { amount: balance.value, token: NATIVE_TOKEN, decimals: NATIVE_DECIMALS } };
}

async function readErc20(batch: CallBatch, token: Address, holder: Address): Promise<Amount> {
  const [balance, decimals] = await Promise.all([
    batch.read({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [holder] }),
    readDecimals(batch, token),
  ]);
  if (!balance.ok) return balance;
  if (!decimals.ok) return decimals;
  return { ok: true, value: { amount: balance.value, token, decimals: decimals.value } };
}

async function readVault(batch: CallBatch, vault: Address, holder: Address): Promise<Amount> {
  const [shares, asset] = await Promise.all([
    batch.read({ address: vault, abi: erc4626Abi, functionName: "balanceOf", args: [holder] }),
    batch.read({ address: vault, abi: erc4626Abi, functionName: "asset" }),
  ]);
  if (!shares.ok) return shares;
  if (!asset.ok) return asset;
  const [amount, decimals] = await Promise.all([
    batch.read({ address: vault, abi: erc4626Abi, functionName: "convertToAssets", args: [shares.value] }),
    readDecimals(batch, asset.value),
  ]);
  if (!amount.ok) return amount;
  if (!decimals.ok) return decimals;
  return { ok: true, value: { amount: amount.value, token: asset.value, decimals: decimals.value, shares: shares.value } };
}

/** `decimals()` of a token; the batch makes it once per token however many readers ask. */
export function readDecimals(batch: CallBatch, token: Address): Promise<Reading<number>> {
  return batch.read({ address: token, abi: erc20Abi, functionName: "decimals" });
}
