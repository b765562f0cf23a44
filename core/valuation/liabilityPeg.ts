import type { IssuerConfig } from "../config/schema.js";
import { parseAmount } from "../numbers.js";
import { type ObservedPrice, priceQuorum } from "./priceQuorum.js";
import type { PriceObservation } from "./readings.js";

/**
 * The market price of the issuer's own liability token against its peg, for
 * LIABILITY_PEG_DEVIATION only: liabilities are always valued at the peg
 * (SPEC §1). Null when the issuer configures no market prices.
 */
export interface LiabilityPeg {
  asset: string;
  pegUsd: bigint;
  /** Every venue's answer, screened like any price source (sorted by source). */
  observations: ObservedPrice[];
  /** Venues whose answers were accepted. */
  venues: number;
  /** The middle accepted answer (see liabilityPeg); null with fewer than two venues. */
  marketPriceUsd: bigint | null;
  /** ceil(|market − peg| × 10000 / peg); null with fewer than two venues. */
  deviationBps: bigint | null;
  /** |market − peg| / peg > pegDeviationMaxBps / 10000, exactly. */
  deviated: boolean;
  /** Why there is no market price, else null. */
  reason: string | null;
}

const distance = (a: bigint, b: bigint) => (a > b ? a - b : b - a);

/**
 * The market price is the median of the accepted venue answers; with an even
 * count, of the two middle answers the one nearer the peg. So one venue can
 * neither raise the flag alone (two venues must both be off) nor hide a
 * deviation the others agree on (three or more: the majority decides).
 */
export function liabilityPeg(issuer: IssuerConfig, marketPrices: readonly PriceObservation[]): LiabilityPeg | null {
  const supply = issuer.liabilities.supply;
  if (!supply || supply.marketPrices.length === 0) return null;
  const pegUsd = parseAmount(supply.pegUsd, "liabilities.supply.pegUsd");
  const quorum = priceQuorum(supply.asset, marketPrices, issuer.policy.priceDivergenceBps);
  const accepted = quorum.observations.filter((o) => o.accepted).map((o) => o.priceUsd as bigint);
  const base = { asset: supply.asset, pegUsd, observations: quorum.observations, venues: accepted.length };
  if (pegUsd === 0n)
    return {
      ...base,
      marketPriceUsd: null,
      deviationBps: null,
      deviated: false,
      reason: `pegUsd of ${supply.asset} is 0; there is no peg to deviate from`,
    };
  if (accepted.length < 2) {
    const reason = `only ${accepted.length} of ${supply.marketPrices.length} market price venue(s) of ${supply.asset} answered; a peg deviation needs at least two`;
    return { ...base, marketPriceUsd: null, deviationBps: null, deviated: false, reason };
  }
  const sorted = [...accepted].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const upper = sorted[sorted.length >> 1]!;
  const lowerMiddle = sorted[(sorted.length - 1) >> 1]!;
  const market = distance(upper, pegUsd) < distance(lowerMiddle, pegUsd) ? upper : lowerMiddle;
  const off = distance(market, pegUsd);
  const deviationBps = (off * 10000n + pegUsd - 1n) / pegUsd;
  const deviated = off * 10000n > BigInt(issuer.policy.pegDeviationMaxBps) * pegUsd;
  return { ...base, marketPriceUsd: market, deviationBps, deviated, reason: null };
}
