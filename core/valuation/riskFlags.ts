import type { Attestation } from "../attestation.js";
import type { IssuerConfig } from "../config/schema.js";
import { encodeFlags, raiseFlag, type RaisedFlag } from "../flags.js";
import { formatUsd18 } from "../numbers.js";
import { ReserveStatus } from "../reservesTree.js";
import { SOURCE_FAILURE_CAUSES, type ValuedLineItem } from "./lineItems.js";
import type { Liabilities } from "./liabilities.js";
import type { PriceQuorum } from "./priceQuorum.js";
import type { TickReadings } from "./readings.js";
import type { SnapshotTotals } from "./snapshot.js";

/** Everything a SPEC §6 rule may look at. `previous` is the issuer's last attestation (null for the first). */
export interface FlagContext {
  issuer: IssuerConfig;
  readings: TickReadings;
  prices: readonly PriceQuorum[];
  items: readonly ValuedLineItem[];
  liabilities: Liabilities;
  totals: SnapshotTotals;
  previous: Attestation | null;
}

/** One SPEC §6 bit: the flag with its reason when it is raised, else null. */
export type FlagRule = (ctx: FlagContext) => RaisedFlag | null;

const usd = (v: bigint) => `${formatUsd18(v)} USD`;

export const undercollateralized: FlagRule = ({ totals }) =>
  totals.ratioBps < 10000
    ? raiseFlag("UNDERCOLLATERALIZED", `ratio ${totals.ratioBps} bps is below 10000: reserves ${usd(totals.reservesUsd)} against liabilities ${usd(totals.liabilitiesUsd)}`)
    : null;

export const staleSource: FlagRule = ({ items, readings, prices }) => {
  const problems: string[] = [];
  for (const b of readings.blocks) if (!b.result.ok) problems.push(`block of chain ${b.chainId}: ${b.result.reason}`);
  for (const { item, details } of items) {
    if (item.status === ReserveStatus.EXCLUDED && details.exclusion && SOURCE_FAILURE_CAUSES.has(details.exclusion)) {
      problems.push(`${item.label}: ${details.reason ?? details.exclusion}`);
    }
  }
  for (const q of prices) {
    for (const r of q.rejected) problems.push(`price of ${q.asset} from ${r.source}: ${r.reason}`);
    if (q.priceUsd === null && q.rejected.length === 0) problems.push(`price of ${q.asset}: ${q.reason ?? "unpriced"}`);
  }
  return problems.length > 0 ? raiseFlag("STALE_SOURCE", `${problems.length} source(s) failed or stale: ${problems.join("; ")}`) : null;
};

export const priceDivergence: FlagRule = ({ prices, issuer }) => {
  const divergent = prices.filter((q) => q.divergent);
  if (divergent.length === 0) return null;
  const list = divergent.map((q) => `${q.asset} ${q.divergenceBps} bps across ${q.used.join(", ")}`).join("; ");
  return raiseFlag("PRICE_DIVERGENCE", `price sources disagree beyond ${issuer.policy.priceDivergenceBps} bps: ${list}`);
};

export const unprovenOwnership: FlagRule = ({ items }) => {
  const unproven = items.filter(({ item }) => item.status === ReserveStatus.ON_CHAIN_UNPROVEN);
  if (unproven.length === 0) return null;
  const holders = [...new Set(unproven.map(({ item, details }) => {
    const name = details.kind !== "custodian" && details.holderName ? ` (${details.holderName})` : "";
    return `${item.holder} on chain ${item.chainId}${name}`;
  }))];
  const value = unproven.reduce((sum, { item }) => sum + item.valueUsd, 0n);
  return raiseFlag("UNPROVEN_OWNERSHIP", `${unproven.length} item(s) worth ${usd(value)} not counted: ownership unproven for ${holders.join(", ")}`);
};

export const offchainShareHigh: FlagRule = ({ totals, issuer }) => {
  const { offchainReservesUsd: off, reservesUsd: all } = totals;
  const max = BigInt(issuer.policy.offchainShareMaxBps);
  // Exact comparison off/all > max/10000, so a share just above the limit is never rounded away.
  if (all === 0n || off * 10000n <= max * all) return null;
  return raiseFlag("OFFCHAIN_SHARE_HIGH", `off-chain reserves ${usd(off)} are ${(off * 10000n) / all} bps of counted reserves ${usd(all)}, above ${max} bps`);
};

/** SPEC §6 bits 0-4. Bits 5-9 append their rules here. */
export const FLAG_RULES: readonly FlagRule[] = [undercollateralized, staleSource, priceDivergence, unprovenOwnership, offchainShareHigh];

/** Runs every rule; flags come out lowest bit first with their bit set. */
export function evaluateFlags(ctx: FlagContext, rules: readonly FlagRule[] = FLAG_RULES): { flags: RaisedFlag[]; bits: bigint } {
  const byBit = new Map<number, RaisedFlag>();
  for (const flag of rules.map((rule) => rule(ctx))) {
    if (flag === null) continue;
    const earlier = byBit.get(flag.bit);
    byBit.set(flag.bit, earlier ? { ...earlier, reason: `${earlier.reason}; ${flag.reason}` } : flag);
  }
  const flags = [...byBit.values()].sort((a, b) => a.bit - b.bit);
  return { flags, bits: encodeFlags(flags.map((f) => f.name)) };
}
