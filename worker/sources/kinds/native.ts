import { getAddress } from "viem";
import { NATIVE_TOKEN } from "../../../core/reservesTree.js";
import { multicall3Abi } from "../multicall.js";
import type { HoldingReader } from "./reader.js";

/** Native coins of EVM chains have 18 decimals. */
const NATIVE_DECIMALS = 18;

/** The chain's coin: Multicall3 `getEthBalance(holder)` in the shared round. */
export const readNative: HoldingReader<"native"> = async (batch, { chain, holder }) => {
  const balance = await batch.read({
    address: getAddress(chain.multicall3),
    abi: multicall3Abi,
    functionName: "getEthBalance",
    args: [holder],
  });
  if (!balance.ok) return balance;
  return { ok: true, value: { amount: balance.value, token: NATIVE_TOKEN, decimals: NATIVE_DECIMALS } };
};
