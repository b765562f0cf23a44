import { type Client, getAddress } from "viem";
import type { ChainConfig, HolderConfig } from "../../core/config/schema.js";
import { holdingKind } from "../../core/sources/holdingKinds.js";
import type { HoldingReading, PinnedBlock } from "../../core/valuation/readings.js";
import { holdingReader } from "./holdingReaders.js";
import { type CallBatch, createChainCallBatch } from "./multicall.js";

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
 * each read by its kind's reader (./holdingReaders.ts) in the shared
 * aggregate3 rounds: two at most for today's kinds (native `getEthBalance` on
 * Multicall3, ERC-20 `balanceOf` + `decimals`, vault `balanceOf` + `asset()`;
 * then vault `convertToAssets(shares)` + the underlying's `decimals()`).
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
      const base = holdingReadingBase(chain.chainId, address, holding);
      reads.push(
        holdingReader(holding.type)(batch, { chain, holder: address }, holding).then((result) => ({ ...base, result })),
      );
    }
  }
  return Promise.all(reads);
}

/** A holding's reading without its result: where it was read, with the kind's source checksummed. */
export function holdingReadingBase(
  chainId: number,
  holder: string,
  holding: HolderConfig["holdings"][number],
): Omit<HoldingReading, "result"> {
  return {
    chainId,
    holder: getAddress(holder),
    asset: holding.asset,
    kind: holding.type,
    source: getAddress(holdingKind(holding.type).source(holding)),
  };
}
