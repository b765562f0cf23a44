import { erc20Abi, getAddress } from "viem";
import { readDecimals } from "../readDecimals.js";
import type { HoldingReader } from "./reader.js";

/** An ERC-20 balance: `balanceOf(holder)` and the token's `decimals()`, one round. */
export const readErc20: HoldingReader<"erc20"> = async (batch, { holder }, entry) => {
  const token = getAddress(entry.token);
  const [balance, decimals] = await Promise.all([
    batch.read({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [holder] }),
    readDecimals(batch, token),
  ]);
  if (!balance.ok) return balance;
  if (!decimals.ok) return decimals;
  return { ok: true, value: { amount: balance.value, token, decimals: decimals.value } };
};
