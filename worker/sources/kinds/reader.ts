import type { Address } from "viem";
import type { ChainConfig } from "../../../core/config/schema.js";
import type { HoldingAmount } from "../../../core/sources/holdingKind.js";
import type { HoldingEntry, HoldingType } from "../../../core/sources/holdingKinds.js";
import type { Reading } from "../../../core/valuation/readings.js";
import type { CallBatch } from "../multicall.js";

/** Where a reader reads: the chain (its Multicall3) and the holder, checksummed. */
export interface ReadAt {
  chain: ChainConfig;
  holder: Address;
}

/**
 * What one kind reads for one holding at the pinned block, through the
 * chain's shared aggregate3 batch: ok with the amount, or failed with a
 * reason naming the call that failed (never a throw).
 */
export type HoldingReader<Type extends HoldingType> = (
  batch: CallBatch,
  at: ReadAt,
  entry: HoldingEntry<Type>,
) => Promise<Reading<HoldingAmount>>;
