/**
 * Per-asset coverage of one report: what is owed in each asset against the
 * counted reserves of the same asset. Pure (no DOM), so it is tested in Node.
 *
 * The rule, also explained on the page: a reserve line item covers a
 * liability when its `asset` id is the liability's asset id ("in kind"). The
 * issuer's own token (a `supply` liability, e.g. DUSD) is never held as its
 * own reserve: it is backed by value, by the counted reserves in every asset
 * nobody is owed in kind. Without a supply liability, those reserves form a
 * row of their own. Totals are the attestation's: counted reserves against
 * liabilities in USD.
 */
import type { ReportJson } from "../core/report.js";

export interface CoverageRow {
  asset: string;
  /** in-kind: same asset id; by-value: the issuer's own token, backed by `backedBy`; not-owed: reserves in assets nobody is owed in kind. */
  kind: "in-kind" | "by-value" | "not-owed";
  decimals: string | null;
  /** Owed, in base units (null for not-owed). */
  owed: bigint | null;
  owedUsd: bigint;
  /** Counted reserves in this asset, base units (in-kind only). */
  counted: bigint | null;
  countedUsd: bigint;
  /** Reserves of this asset read but not counted (status 1 or 3), base units. */
  notCounted: bigint;
  /** counted / owed × 10000: in units in kind, in USD by value; null when nothing is owed. */
  coverageBps: bigint | null;
  /** counted − owed in base units (in-kind only). */
  surplus: bigint | null;
  surplusUsd: bigint;
  /** The counted reserves, per asset, behind a by-value or not-owed row. */
  backedBy: Held[];
}

export interface Held {
  asset: string;
  counted: bigint;
  decimals: string | null;
  countedUsd: bigint;
}

export interface Coverage {
  rows: CoverageRow[];
  total: { countedUsd: bigint; owedUsd: bigint; coverageBps: bigint | null; surplusUsd: bigint };
}

const COUNTED = new Set([0, 2]);

export function assetCoverage(report: ReportJson): Coverage {
  const byAsset = new Map<
    string,
    { counted: bigint; countedUsd: bigint; notCounted: bigint; decimals: string | null }
  >();
  for (const item of report.reserves.items) {
    const asset = item.details.asset;
    const entry = byAsset.get(asset) ?? {
      counted: 0n,
      countedUsd: 0n,
      notCounted: 0n,
      decimals: item.details.decimals,
    };
    if (COUNTED.has(item.status)) {
      entry.counted += BigInt(item.amount);
      entry.countedUsd += BigInt(item.valueUsd);
    } else entry.notCounted += BigInt(item.amount);
    byAsset.set(asset, entry);
  }
  const owedAssets = new Set(report.liabilities.assets.map((l) => l.asset));
  const pool = [...byAsset.entries()].filter(([asset, e]) => !owedAssets.has(asset) && e.countedUsd > 0n);
  const poolUsd = pool.reduce((a, [, e]) => a + e.countedUsd, 0n);
  const poolAssets: Held[] = pool.map(([asset, e]) => ({
    asset,
    counted: e.counted,
    decimals: e.decimals,
    countedUsd: e.countedUsd,
  }));
  const hasSupply = report.liabilities.assets.some((l) => l.source === "supply");

  const rows: CoverageRow[] = report.liabilities.assets.map((l) => {
    const owed = BigInt(l.amount);
    const owedUsd = BigInt(l.valueUsd);
    const held = byAsset.get(l.asset);
    if (l.source === "supply") {
      return {
        asset: l.asset,
        kind: "by-value",
        decimals: l.decimals,
        owed,
        owedUsd,
        counted: null,
        countedUsd: poolUsd,
        notCounted: held?.notCounted ?? 0n,
        coverageBps: owedUsd === 0n ? null : (poolUsd * 10000n) / owedUsd,
        surplus: null,
        surplusUsd: poolUsd - owedUsd,
        backedBy: poolAssets,
      };
    }
    const counted = held?.counted ?? 0n;
    const surplus = counted - owed;
    // The surplus in USD at the price the liability was valued at.
    const surplusUsd = owed === 0n ? (held?.countedUsd ?? 0n) : (surplus * owedUsd) / owed;
    return {
      asset: l.asset,
      kind: "in-kind",
      decimals: l.decimals,
      owed,
      owedUsd,
      counted,
      countedUsd: held?.countedUsd ?? 0n,
      notCounted: held?.notCounted ?? 0n,
      coverageBps: owed === 0n ? null : (counted * 10000n) / owed,
      surplus,
      surplusUsd,
      backedBy: [],
    };
  });
  if (!hasSupply && poolUsd > 0n) {
    rows.push({
      asset: poolAssets.map((p) => p.asset).join(", "),
      kind: "not-owed",
      decimals: null,
      owed: null,
      owedUsd: 0n,
      counted: null,
      countedUsd: poolUsd,
      notCounted: 0n,
      coverageBps: null,
      surplus: null,
      surplusUsd: poolUsd,
      backedBy: poolAssets,
    });
  }
  const countedUsd = BigInt(report.totals.reservesUsd);
  const owedUsd = BigInt(report.totals.liabilitiesUsd);
  return {
    rows,
    total: {
      countedUsd,
      owedUsd,
      coverageBps: owedUsd === 0n ? null : (countedUsd * 10000n) / owedUsd,
      surplusUsd: countedUsd - owedUsd,
    },
  };
}
