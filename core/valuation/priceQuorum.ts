import type { IssuerConfig } from "../config/schema.js";
import { ONE_USD, parseAmount } from "../numbers.js";
import type { PoolQuote, PriceObservation, TickReadings } from "./readings.js";

/*
 * Pricing, in one place: the sanity bands, pool quotes put in USD, fixed
 * prices, and the quorum that chooses one price per asset. The sources read
 * raw answers (TickReadings.prices, .marketPrices, .pools); `priceTick`
 * turns them into the prices valuation counts, once per tick.
 */

export type QuorumMethod = "median" | "lower" | "single" | "none";

/** One source's answer as the report shows it: accepted into the quorum or rejected with a reason. */
export interface ObservedPrice {
  source: string;
  priceUsd: bigint | null;
  updatedAt: bigint | null;
  accepted: boolean;
  reason: string | null;
}

/** The price chosen for one asset and how. `priceUsd` is null when no source gave a usable answer. */
export interface PriceQuorum {
  asset: string;
  priceUsd: bigint | null;
  method: QuorumMethod;
  /** Sources whose answers took part in the quorum, sorted by source. */
  used: string[];
  rejected: { source: string; reason: string }[];
  observations: ObservedPrice[];
  /** ceil((max - min) * 10000 / min) over the accepted answers; 0 with fewer than two. */
  divergenceBps: bigint;
  divergent: boolean;
  /** Why the asset is unpriced, else null. */
  reason: string | null;
}

/** Rejects what must never become a price: a failed read, zero or negative, a source answering twice. */
function screen(observations: readonly PriceObservation[]): ObservedPrice[] {
  const seen = new Set<string>();
  return observations.map((o): ObservedPrice => {
    const updatedAt = o.result.ok ? (o.result.value.updatedAt ?? null) : null;
    const price = o.result.ok ? o.result.value.priceUsd : null;
    const reject = (reason: string): ObservedPrice => ({
      source: o.source,
      priceUsd: price,
      updatedAt,
      accepted: false,
      reason,
    });
    if (seen.has(o.source)) return reject("the same source answered twice; only its first answer counts");
    seen.add(o.source);
    if (!o.result.ok) return reject(o.result.reason);
    if (o.result.value.priceUsd <= 0n)
      return reject(`price ${o.result.value.priceUsd} is not positive; a zero price is treated as a failed read`);
    return { source: o.source, priceUsd: o.result.value.priceUsd, updatedAt, accepted: true, reason: null };
  });
}

/** Rounds up so that `divergenceBps > tolerance` holds exactly when the true ratio exceeds it. */
function divergenceBps(min: bigint, max: bigint): bigint {
  return ((max - min) * 10000n + min - 1n) / min;
}

/**
 * Chooses one price for `asset` from its observations: the median of three
 * or more (the lower middle value for an even count, never an average), the
 * lower of two, the only one of one. A bad source can only push the choice
 * down among honest ones, never invent a value between them.
 */
export function priceQuorum(
  asset: string,
  observations: readonly PriceObservation[],
  priceDivergenceBps: number,
): PriceQuorum {
  // Sorted by source so the report does not depend on the order readers finished in.
  const mine = observations
    .filter((o) => o.asset === asset)
    .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  const screened = screen(mine);
  const accepted = screened.filter((o) => o.accepted);
  const rejected = screened
    .filter((o) => !o.accepted)
    .map((o) => ({ source: o.source, reason: o.reason ?? "rejected" }));
  const base = { asset, used: accepted.map((o) => o.source), rejected, observations: screened };
  if (accepted.length === 0) {
    const reason =
      screened.length === 0 ? `no price source answered for ${asset}` : `every price source of ${asset} failed`;
    return { ...base, priceUsd: null, method: "none", divergenceBps: 0n, divergent: false, reason };
  }
  const sorted = accepted.map((o) => o.priceUsd as bigint).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  const chosen = sorted[(sorted.length - 1) >> 1]!;
  const method: QuorumMethod = sorted.length >= 3 ? "median" : sorted.length === 2 ? "lower" : "single";
  const bps = divergenceBps(min, max);
  return {
    ...base,
    priceUsd: chosen,
    method,
    divergenceBps: bps,
    divergent: bps > BigInt(priceDivergenceBps),
    reason: null,
  };
}

/** An asset's sanity band (AssetConfig minPriceUsd / maxPriceUsd, usd18 decimal strings). */
export interface PriceBand {
  minPriceUsd?: string;
  maxPriceUsd?: string;
}

/** Why `priceUsd` is outside the band, or null when it is inside (or there is no band). */
export function outsideBand(priceUsd: bigint, band: PriceBand): string | null {
  if (band.maxPriceUsd !== undefined && priceUsd > BigInt(band.maxPriceUsd))
    return `price ${priceUsd} is above maxPriceUsd ${band.maxPriceUsd}`;
  if (band.minPriceUsd !== undefined && priceUsd < BigInt(band.minPriceUsd))
    return `price ${priceUsd} is below minPriceUsd ${band.minPriceUsd}`;
  return null;
}

/**
 * The observation, or a failed read when its price is outside the asset's
 * sanity band: applied first in `priceTick`, so the report shows the
 * rejection as the source's failure and re-computation needs no band.
 */
export function screenPriceBand(observation: PriceObservation, band: PriceBand | undefined): PriceObservation {
  if (band === undefined || !observation.result.ok) return observation;
  const why = outsideBand(observation.result.value.priceUsd, band);
  if (why === null) return observation;
  return {
    ...observation,
    result: { ok: false, reason: `${why} (the asset's sanity band); treated as a failed read` },
  };
}

/**
 * Puts pool quotes in USD: priceUsd = floor(price18 · quoteUsd / 1e18), with
 * `quotePriceUsd` the chosen usd18 price of the quote asset (null: unpriced,
 * and the observation fails saying so).
 */
export function poolQuotesInUsd(
  pools: readonly PoolQuote[],
  quotePriceUsd: (assetId: string) => bigint | null,
): PriceObservation[] {
  return pools.map(({ asset, source, quoteAsset, result }) => {
    if (!result.ok) return { asset, source, result };
    const quoteUsd = quotePriceUsd(quoteAsset);
    if (quoteUsd === null || quoteUsd <= 0n) {
      return { asset, source, result: { ok: false, reason: `quote asset ${quoteAsset} has no chosen price` } };
    }
    return {
      asset,
      source,
      result: {
        ok: true,
        value: { priceUsd: (result.value.price18 * quoteUsd) / ONE_USD, updatedAt: result.value.updatedAt },
      },
    };
  });
}

/**
 * A `fixed` price is configuration, not a reading: when the readers did not
 * echo it, it is added here so the peg currency is always priced.
 */
function withFixedPrices(issuer: IssuerConfig, observations: readonly PriceObservation[]): PriceObservation[] {
  const out = [...observations];
  for (const asset of issuer.assets) {
    for (const source of asset.prices) {
      if (source.kind !== "fixed") continue;
      if (out.some((o) => o.asset === asset.id && o.source === "fixed")) continue;
      out.push({
        asset: asset.id,
        source: "fixed",
        result: {
          ok: true,
          value: { priceUsd: parseAmount(source.priceUsd, `assets.${asset.id}.prices.fixed.priceUsd`) },
        },
      });
    }
  }
  return out;
}

/** What pricing made of one tick's raw answers. */
export interface TickPrices {
  /** One quorum per reserve asset, in configuration order. */
  quorums: PriceQuorum[];
  /** The reserve assets' observations as the quorums saw them: bands applied, pools in USD, fixed prices added. */
  observations: PriceObservation[];
  /** The liability token's market venues, likewise (for liabilityPeg). */
  marketPrices: PriceObservation[];
}

/**
 * Prices one tick. Out-of-band answers fail first (AssetConfig minPriceUsd /
 * maxPriceUsd), so the report shows them as the source's failure and nothing
 * (a pool quote included) uses them. An asset's quorum over its direct
 * sources prices the pools quoted in it; configuration never quotes a pool in
 * an asset that is itself priced from a pool, so that quorum is the asset's
 * own and is not run again. Pool quotes in USD are band-screened like any
 * answer, then every asset priced from a pool gets its quorum.
 */
export function priceTick(issuer: IssuerConfig, readings: TickReadings): TickPrices {
  const bandOf = new Map(issuer.assets.map((a) => [a.id, a]));
  const band = (o: PriceObservation) => screenPriceBand(o, bandOf.get(o.asset));
  const bps = issuer.policy.priceDivergenceBps;
  const market = issuer.liabilities.supply?.marketPrices.length ? issuer.liabilities.supply.asset : null;
  const pools = readings.pools ?? [];

  const direct = withFixedPrices(issuer, readings.prices.map(band));
  const directQuorums = new Map<string, PriceQuorum>();
  const directQuorum = (asset: string): PriceQuorum => {
    let quorum = directQuorums.get(asset);
    if (!quorum) {
      quorum = priceQuorum(asset, direct, bps);
      directQuorums.set(asset, quorum);
    }
    return quorum;
  };
  const pooled = poolQuotesInUsd(pools, (asset) => directQuorum(asset).priceUsd).map(band);
  const reservePooled = pooled.filter((o) => o.asset !== market);
  const observations = [...direct, ...reservePooled];
  const quorums = issuer.assets.map((a) =>
    reservePooled.some((o) => o.asset === a.id) ? priceQuorum(a.id, observations, bps) : directQuorum(a.id),
  );
  const rank = new Map(issuer.assets.map((a, i) => [a.id, i]));
  const at = (o: PriceObservation) => rank.get(o.asset) ?? issuer.assets.length;
  return {
    quorums,
    observations: observations
      .map((o, i) => ({ o, i }))
      .sort((a, b) => at(a.o) - at(b.o) || a.i - b.i)
      .map(({ o }) => o),
    marketPrices: [...readings.marketPrices.map(band), ...pooled.filter((o) => o.asset === market)],
  };
}
