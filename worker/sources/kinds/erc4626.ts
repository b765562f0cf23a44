import { erc4626Abi, getAddress } from "viem";
import { readDecimals } from "../readDecimals.js";
import type { HoldingReader } from "./reader.js";

/**
 * Vault shares in two rounds: `balanceOf(holder)` (shares) and `asset()`,
 * then `convertToAssets(shares)` and the underlying's `decimals()`.
 */
export const readErc4626: HoldingReader<"erc4626"> = async (batch, { holder }, entry) => {
  const vault = getAddress(entry.vault);
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
  return {
    ok: true,
    value: { amount: amount.value, token: asset.value, decimals: decimals.value, shares: shares.value },
  };
};
