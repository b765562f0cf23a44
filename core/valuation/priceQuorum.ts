import type { PriceObservation } from "./readings.js";

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
    const reject = (reason: string): ObservedPrice => ({ source: o.source, priceUsd: price, updatedAt, accepted: false, reason });
    if (seen.has(o.source)) return reject("the same source answered twice; only its first answer counts");
    seen.add(o.source);
    if (!o.result.ok) return reject(o.result.reason);
    if (o.result.value.priceUsd <= 0n) return reject(`price ${o.result.value.priceUsd} is not positive; a zero price is treated as a failed read`);
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
export function priceQuorum(asset: string, observations: readonly PriceObservation[], priceDivergenceBps: number): PriceQuorum {
  // Sorted by source so the report does not depend on the order readers finished in.
  const mine = observations.filter((o) => o.asset === asset).sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  const screened = screen(mine);
  const accepted = screened.filter((o) => o.accepted);
  const rejected = screened.filter((o) => !o.accepted).map((o) => ({ source: o.source, reason: o.reason ?? "rejected" }));
  const base = { asset, used: accepted.map((o) => o.source), rejected, observations: screened };
  if (accepted.length === 0) {
    const reason = screened.length === 0 ? `no price source answered for ${asset}` : `every price source of ${asset} failed`;
    return { ...base, priceUsd: null, method: "none", divergenceBps: 0n, divergent: false, reason };
  }
  const sorted = accepted.map((o) => o.priceUsd as bigint).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  const chosen = sorted[(sorted.length - 1) >> 1]!;
  const method: QuorumMethod = sorted.length >= 3 ? "median" : sorted.length === 2 ? "lower" : "single";
  const bps = divergenceBps(min, max);
  return { ...base, priceUsd: chosen, method, divergenceBps: bps, divergent: bps > BigInt(priceDivergenceBps), reason: null };
}

/** An asset's sanity band (AssetConfig minPriceUsd / maxPriceUsd, usd18 decimal strings). */
export interface PriceBand {
  minPriceUsd?: string;
  maxPriceUsd?: string;
}

/** Why `priceUsd` is outside the band, or null when it is inside (or there is no band). */
export function outsideBand(priceUsd: bigint, band: PriceBand): string | null {
  if (band.maxPriceUsd !== undefined && priceUsd > BigInt(band.maxPriceUsd)) return `price ${priceUsd} is above maxPriceUsd ${band.maxPriceUsd}`;
  if (band.minPriceUsd !== undefined && priceUsd < BigInt(band.minPriceUsd)) return `price ${priceUsd} is below minPriceUsd ${band.minPriceUsd}`;
  return null;
}

/**
 * The observation, or a failed read when its price is outside the asset's
 * sanity band: applied where prices are read, so the report shows the
 * rejection as the source's failure and re-computation needs no band.
 */
export function screenPriceBand(observation: PriceObservation, band: PriceBand | undefined): PriceObservation {
  if (band === undefined || !observation.result.ok) return observation;
  const why = outsideBand(observation.result.value.priceUsd, band);
  if (why === null) return observation;
  return { ...observation, result: { ok: false, reason: `${why} (the asset's sanity band); treated as a failed read` } };
}
