import { type Address, erc20Abi } from "viem";
import type { Reading } from "../../core/valuation/readings.js";
import type { CallBatch } from "./multicall.js";

/** `decimals()` of a token; the batch makes it once per token however many readers ask. */
export function readDecimals(batch: CallBatch, token: Address): Promise<Reading<number>> {
  return batch.read({ address: token, abi: erc20Abi, functionName: "decimals" });
}
