import type { Address } from "viem";
import type { Hex } from "../bytes.js";
import type { IssuerConfig } from "../config/schema.js";
import { parseAmount, valueUsd } from "../numbers.js";
import type { PriceQuorum } from "./priceQuorum.js";
import type { PrivateLedgerRoot, TickReadings } from "./readings.js";

/** The issuer's own token on one chain: what is in circulation and what it is worth at its peg. */
export interface SupplyLiability {
  chainId: number;
  token: Address;
  decimals: number;
  totalSupply: bigint;
  escrows: { address: Address; amount: bigint }[];
  /** totalSupply − Σ escrows. */
  netSupply: bigint;
  pegUsd: bigint;
  /** floor(netSupply × pegUsd / 10^decimals). */
  valueUsd: bigint;
  blockNumber: bigint;
}

/** One per-asset liability total, as published in the report's `liabilities.assets`. */
export interface AssetLiability {
  asset: string;
  source: "supply" | "ledger";
  amount: bigint;
  decimals: number;
  priceUsd: bigint;
  /** `peg`: the issuer owes the peg (supply token, or a peg-currency asset at its fixed price); `quorum`: the chosen market price. */
  priceMethod: "peg" | "quorum";
  valueUsd: bigint;
}

export interface LedgerInfo {
  ledgerId: string;
  assets: string[];
  root: Hex;
  rootSums: bigint[];
  users: number;
  asOf: number;
  order: "commitment" | null;
  /** A private ledger's root facts (SPEC §11); absent for the sum tree. */
  private?: PrivateLedgerRoot;
}

export interface Liabilities {
  assets: AssetLiability[];
  supply: SupplyLiability[];
  ledger: LedgerInfo | null;
  totalUsd: bigint;
}

export type LiabilitiesResult = { ok: true; liabilities: Liabilities } | { ok: false; reason: string };

const lower = (a: string) => a.toLowerCase() as Address;

class Refusal {
  constructor(readonly reason: string) {}
}
function refuse(reason: string): never {
  throw new Refusal(reason);
}

function supplyLiabilities(issuer: IssuerConfig, readings: TickReadings): SupplyLiability[] {
  const supply = issuer.liabilities.supply;
  if (!supply) return [];
  const pegUsd = parseAmount(supply.pegUsd, "liabilities.supply.pegUsd");
  return supply.tokens.map((t) => {
    const name = `${supply.asset} token ${lower(t.token)} on chain ${t.chainId}`;
    const block = readings.blocks.find((b) => b.chainId === t.chainId)?.result;
    if (!block) refuse(`no block was pinned on chain ${t.chainId} for ${name}`);
    if (!block.ok) refuse(`the block of chain ${t.chainId} for ${name} could not be pinned: ${block.reason}`);
    const reading = readings.supply.find((s) => s.chainId === t.chainId && lower(s.token) === lower(t.token));
    if (!reading) refuse(`the supply of ${name} was not read`);
    if (!reading.result.ok) refuse(`the supply of ${name} could not be read: ${reading.result.reason}`);
    const { totalSupply, decimals, escrows } = reading.result.value;
    const configured = t.escrows.map(lower);
    const readEscrows = escrows.map((e) => ({ address: lower(e.address), amount: e.amount }));
    for (const address of configured) {
      if (readEscrows.filter((e) => e.address === address).length !== 1)
        refuse(`escrow ${address} of ${name} was not read exactly once`);
    }
    for (const e of readEscrows) {
      if (!configured.includes(e.address))
        refuse(`${name}: ${e.address} is not a configured escrow; subtracting it would understate liabilities`);
    }
    const escrowed = readEscrows.reduce((sum, e) => sum + e.amount, 0n);
    if (escrowed > totalSupply) refuse(`${name}: escrow balances ${escrowed} exceed totalSupply ${totalSupply}`);
    const netSupply = totalSupply - escrowed;
    const value = valueUsd(netSupply, pegUsd, decimals);
    return {
      chainId: t.chainId,
      token: lower(t.token),
      decimals,
      totalSupply,
      escrows: readEscrows,
      netSupply,
      pegUsd,
      valueUsd: value,
      blockNumber: block.value.number,
    };
  });
}

/** Sums amounts of different decimals exactly by scaling to the largest. */
function supplyAsset(asset: string, items: readonly SupplyLiability[]): AssetLiability {
  const decimals = Math.max(...items.map((s) => s.decimals));
  const amount = items.reduce((sum, s) => sum + s.netSupply * 10n ** BigInt(decimals - s.decimals), 0n);
  const value = items.reduce((sum, s) => sum + s.valueUsd, 0n);
  return { asset, source: "supply", amount, decimals, priceUsd: items[0]!.pegUsd, priceMethod: "peg", valueUsd: value };
}

function ledgerLiabilities(
  issuer: IssuerConfig,
  readings: TickReadings,
  prices: ReadonlyMap<string, PriceQuorum>,
): { info: LedgerInfo | null; assets: AssetLiability[] } {
  const config = issuer.liabilities.ledger;
  if (!config) return { info: null, assets: [] };
  const ledger = readings.ledger;
  if (!ledger) refuse("the issuer has a user ledger but no complete ledger snapshot was found");
  if (ledger.assets.length !== config.assets.length || ledger.assets.some((a, i) => a !== config.assets[i])) {
    refuse(
      `ledger ${ledger.ledgerId} lists assets [${ledger.assets.join(", ")}], the configuration [${config.assets.join(", ")}]`,
    );
  }
  if (ledger.rootSums.length !== config.assets.length)
    refuse(`ledger ${ledger.ledgerId} has ${ledger.rootSums.length} root sums for ${config.assets.length} assets`);
  const assets = config.assets.map((id, i): AssetLiability => {
    const asset = issuer.assets.find((a) => a.id === id);
    if (!asset) refuse(`ledger asset ${id} is not an asset of issuer ${issuer.id}`);
    const amount = ledger.rootSums[i]!;
    const fixed = asset.pegCurrency ? asset.prices.find((p) => p.kind === "fixed") : undefined;
    if (fixed) {
      const price = parseAmount(fixed.priceUsd, `assets.${id}.prices.fixed.priceUsd`);
      return {
        asset: id,
        source: "ledger",
        amount,
        decimals: asset.decimals,
        priceUsd: price,
        priceMethod: "peg",
        valueUsd: valueUsd(amount, price, asset.decimals),
      };
    }
    const quorum = prices.get(id);
    if (!quorum || quorum.priceUsd === null)
      refuse(`ledger asset ${id} is unpriced (${quorum?.reason ?? "no quorum"}); its liabilities cannot be valued`);
    return {
      asset: id,
      source: "ledger",
      amount,
      decimals: asset.decimals,
      priceUsd: quorum.priceUsd,
      priceMethod: "quorum",
      valueUsd: valueUsd(amount, quorum.priceUsd, asset.decimals),
    };
  });
  const { ledgerId, root, rootSums, users, asOf, order } = ledger;
  const info: LedgerInfo = { ledgerId, assets: [...ledger.assets], root, rootSums: [...rootSums], users, asOf, order };
  if (ledger.private) info.private = ledger.private;
  return { info, assets };
}

/**
 * SPEC §1 liabilities at what is owed: the supply token at its peg (net of
 * escrows), ledger balances at each asset's chosen price (the fixed price for
 * the peg currency). Anything that would leave liabilities understated (a
 * failed supply read, a missing ledger, an unpriced ledger asset) is a
 * refusal: the tick publishes nothing rather than a flattering ratio.
 */
export function valueLiabilities(
  issuer: IssuerConfig,
  readings: TickReadings,
  prices: ReadonlyMap<string, PriceQuorum>,
): LiabilitiesResult {
  try {
    const supply = supplyLiabilities(issuer, readings);
    const ledger = ledgerLiabilities(issuer, readings, prices);
    const assets = [
      ...(supply.length > 0 ? [supplyAsset(issuer.liabilities.supply!.asset, supply)] : []),
      ...ledger.assets,
    ];
    const totalUsd = assets.reduce((sum, a) => sum + a.valueUsd, 0n);
    return { ok: true, liabilities: { assets, supply, ledger: ledger.info, totalUsd } };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, reason: error.reason };
    throw error;
  }
}
