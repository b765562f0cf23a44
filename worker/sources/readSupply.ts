import { type Client, erc20Abi, getAddress } from "viem";
import type { ChainConfig, IssuerConfig } from "../../core/config/schema.js";
import type { PinnedBlock, SupplyReading } from "../../core/valuation/readings.js";
import { type CallBatch, createChainCallBatch } from "./multicall.js";
import { readDecimals } from "./readDecimals.js";

export interface ReadSupplyParameters {
  chain: ChainConfig;
  /** The issuer's supply liability (`issuer.liabilities.supply`); nothing to read when undefined. */
  supply: IssuerConfig["liabilities"]["supply"];
  block: PinnedBlock;
  batch?: CallBatch;
}

/**
 * `totalSupply()` and `decimals()` of each liability token configured on this
 * chain, with each escrow's `balanceOf`, in one aggregate3 round. A token
 * whose totalSupply, decimals or any escrow balance fails is failed as a whole:
 * supply minus a missing escrow would overstate liabilities silently.
 *
 * @example
 * const supply = await readSupply(client, { chain, supply: issuer.liabilities.supply, block });
 */
export async function readSupply(client: Client, parameters: ReadSupplyParameters): Promise<SupplyReading[]> {
  const { chain, supply, block } = parameters;
  if (!supply) return [];
  const batch = parameters.batch ?? createChainCallBatch(client, chain, block.number);
  const tokens = supply.tokens.filter((t) => t.chainId === chain.chainId);
  return Promise.all(
    tokens.map(async (entry): Promise<SupplyReading> => {
      const token = getAddress(entry.token);
      const escrows = entry.escrows.map((e) => getAddress(e));
      const [totalSupply, decimals, ...balances] = await Promise.all([
        batch.read({ address: token, abi: erc20Abi, functionName: "totalSupply" }),
        readDecimals(batch, token),
        ...escrows.map((escrow) =>
          batch.read({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [escrow] }),
        ),
      ]);
      const base = { chainId: chain.chainId, token };
      if (!totalSupply.ok) return { ...base, result: totalSupply };
      if (!decimals.ok) return { ...base, result: decimals };
      const amounts: { address: typeof token; amount: bigint }[] = [];
      for (const [i, balance] of balances.entries()) {
        if (!balance.ok) return { ...base, result: balance };
        amounts.push({ address: escrows[i]!, amount: balance.value });
      }
      return {
        ...base,
        result: { ok: true, value: { totalSupply: totalSupply.value, decimals: decimals.value, escrows: amounts } },
      };
    }),
  );
}
