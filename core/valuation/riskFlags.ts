import type { Attestation } from "../attestation.js";
import type { IssuerConfig } from "../config/schema.js";
import { encodeFlags, type RaisedFlag, raiseFlag } from "../flags.js";
import { formatUsd18 } from "../numbers.js";
import { ReserveStatus } from "../reservesTree.js";
import { isoSeconds } from "../time.js";
import type { Liabilities } from "./liabilities.js";
import type { LiabilityPeg } from "./liabilityPeg.js";
import { CIRCULAR_CAUSES, SOURCE_FAILURE_CAUSES, type ValuedLineItem } from "./lineItems.js";
import type { PriceQuorum } from "./priceQuorum.js";
import type { TickReadings } from "./readings.js";
import type { SnapshotTotals } from "./totals.js";

/** One earlier attestation's counted reserves, for RESERVE_DROP's window. */
export interface ReservesPoint {
  sequence: bigint;
  observedAt: bigint;
  reservesUsd: bigint;
}

/**
 * Everything a SPEC §6 rule may look at. `previous` is the issuer's last
 * attestation (null for the first); `history` its earlier attestations (any
 * order; RESERVE_DROP uses those inside its window); `peg` the liability
 * token's market price (null when none is configured).
 */
export interface FlagContext {
  issuer: IssuerConfig;
  readings: TickReadings;
  prices: readonly PriceQuorum[];
  items: readonly ValuedLineItem[];
  liabilities: Liabilities;
  totals: SnapshotTotals;
  previous: Attestation | null;
  history: readonly ReservesPoint[];
  peg: LiabilityPeg | null;
}

/** One SPEC §6 bit: the flag with its reason when it is raised, else null. */
export type FlagRule = (ctx: FlagContext) => RaisedFlag | null;

const usd = (v: bigint) => `${formatUsd18(v)} USD`;

export const undercollateralized: FlagRule = ({ totals }) =>
  totals.ratioBps < 10000
    ? raiseFlag(
        "UNDERCOLLATERALIZED",
        `ratio ${totals.ratioBps} bps is below 10000: reserves ${usd(totals.reservesUsd)} against liabilities ${usd(totals.liabilitiesUsd)}`,
      )
    : null;

export const staleSource: FlagRule = ({ items, readings, prices, peg }) => {
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
  if (peg) {
    for (const o of peg.observations)
      if (!o.accepted) problems.push(`market price of ${peg.asset} from ${o.source}: ${o.reason ?? "rejected"}`);
    if (peg.reason && peg.venues < 2) problems.push(peg.reason);
  }
  return problems.length > 0
    ? raiseFlag("STALE_SOURCE", `${problems.length} source(s) failed or stale: ${problems.join("; ")}`)
    : null;
};

export const priceDivergence: FlagRule = ({ prices, issuer }) => {
  const divergent = prices.filter((q) => q.divergent);
  if (divergent.length === 0) return null;
  const list = divergent.map((q) => `${q.asset} ${q.divergenceBps} bps across ${q.used.join(", ")}`).join("; ");
  return raiseFlag(
    "PRICE_DIVERGENCE",
    `price sources disagree beyond ${issuer.policy.priceDivergenceBps} bps: ${list}`,
  );
};

export const unprovenOwnership: FlagRule = ({ items }) => {
  const unproven = items.filter(({ item }) => item.status === ReserveStatus.ON_CHAIN_UNPROVEN);
  if (unproven.length === 0) return null;
  const holders = [
    ...new Set(
      unproven.map(({ item, details }) => {
        const name = details.kind !== "custodian" && details.holderName ? ` (${details.holderName})` : "";
        return `${item.holder} on chain ${item.chainId}${name}`;
      }),
    ),
  ];
  const value = unproven.reduce((sum, { item }) => sum + item.valueUsd, 0n);
  return raiseFlag(
    "UNPROVEN_OWNERSHIP",
    `${unproven.length} item(s) worth ${usd(value)} not counted: ownership unproven for ${holders.join(", ")}`,
  );
};

export const offchainShareHigh: FlagRule = ({ totals, issuer }) => {
  const { offchainReservesUsd: off, reservesUsd: all } = totals;
  const max = BigInt(issuer.policy.offchainShareMaxBps);
  // Exact comparison off/all > max/10000, so a share just above the limit is never rounded away.
  if (all === 0n || off * 10000n <= max * all) return null;
  return raiseFlag(
    "OFFCHAIN_SHARE_HIGH",
    `off-chain reserves ${usd(off)} are ${(off * 10000n) / all} bps of counted reserves ${usd(all)}, above ${max} bps`,
  );
};

/** Share in bps, floored (display only; rules compare exactly). */
const shareBps = (part: bigint, whole: bigint) => (part * 10000n) / whole;

export const circularReserves: FlagRule = ({ items, issuer }) => {
  const circular = items.filter(({ details }) => details.exclusion !== null && CIRCULAR_CAUSES.has(details.exclusion));
  if (circular.length === 0) return null;
  const list = circular.map(({ item, details }) => `${item.label}: ${details.reason ?? details.exclusion}`).join("; ");
  return raiseFlag(
    "CIRCULAR_RESERVES",
    `${circular.length} reserve item(s) lead back to ${issuer.id} and count zero: ${list}`,
  );
};

/** Counted value per holder (status 0), custodian (status 2) and asset (both), largest first. */
function concentrationGroups(items: readonly ValuedLineItem[]): { name: string; value: bigint }[] {
  const groups = new Map<string, bigint>();
  const add = (name: string, value: bigint) => groups.set(name, (groups.get(name) ?? 0n) + value);
  for (const { item, details } of items) {
    if (item.status === ReserveStatus.ON_CHAIN_PROVEN && details.kind !== "custodian") {
      add(
        `holder ${item.holder} on chain ${item.chainId}${details.holderName ? ` (${details.holderName})` : ""}`,
        item.valueUsd,
      );
    } else if (item.status === ReserveStatus.OFF_CHAIN_STATEMENT && details.kind === "custodian") {
      add(`custodian ${details.custodian}`, item.valueUsd);
    } else continue;
    add(`asset ${details.asset}`, item.valueUsd);
  }
  return [...groups]
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.value > b.value ? -1 : a.value < b.value ? 1 : a.name < b.name ? -1 : 1));
}

export const concentration: FlagRule = ({ items, totals, issuer }) => {
  const all = totals.reservesUsd;
  const max = BigInt(issuer.policy.concentrationMaxBps);
  if (all === 0n) return null;
  const over = concentrationGroups(items).filter((g) => g.value * 10000n > max * all);
  const [largest, ...others] = over;
  if (!largest) return null;
  const also =
    others.length > 0
      ? `; also over the limit: ${others.map((g) => `${g.name} ${shareBps(g.value, all)} bps`).join(", ")}`
      : "";
  return raiseFlag(
    "CONCENTRATION",
    `${largest.name} holds ${shareBps(largest.value, all)} bps (${usd(largest.value)}) of counted reserves ${usd(all)}, above the ${max} bps limit${also}`,
  );
};

/**
 * Growth is relative to the previous attestation: raised when liabilities grew
 * (L1 > L0) and L1/L0 − R1/R0 > supplyGrowthMaxBps/10000, compared exactly as
 * 10000·(L1·R0 − R1·L0) > max·L0·R0. Undefined (not raised) when L0 or R0 is 0.
 */
export const supplyGrowth: FlagRule = ({ previous, totals, issuer }) => {
  if (!previous) return null;
  const { liabilitiesUsd: l0, reservesUsd: r0 } = previous;
  const { liabilitiesUsd: l1, reservesUsd: r1 } = totals;
  if (l0 === 0n || r0 === 0n || l1 <= l0) return null;
  const max = BigInt(issuer.policy.supplyGrowthMaxBps);
  const excess = 10000n * (l1 * r0 - r1 * l0);
  if (excess <= max * l0 * r0) return null;
  const growth = (from: bigint, to: bigint) => ((to - from) * 10000n) / from;
  return raiseFlag(
    "SUPPLY_GROWTH",
    `since sequence ${previous.sequence} liabilities grew ${growth(l0, l1)} bps (${usd(l0)} to ${usd(l1)}) while reserves changed ${growth(r0, r1)} bps ` +
      `(${usd(r0)} to ${usd(r1)}): ${excess / (l0 * r0)} bps more than reserves, above the ${max} bps limit`,
  );
};

/**
 * Raised when (ref − R) × 10000 > reserveDropMaxBps × ref for ref = the previous
 * attestation's reserves or the highest reserves of the attestations observed
 * within reserveDropWindowSeconds before observedAt.
 */
export const reserveDrop: FlagRule = ({ previous, history, totals, issuer, readings }) => {
  const now = readings.observedAt;
  const since = now - BigInt(issuer.policy.reserveDropWindowSeconds);
  const max = BigInt(issuer.policy.reserveDropMaxBps);
  const refs: { what: string; sequence: bigint; value: bigint }[] = [];
  if (previous)
    refs.push({
      what: `the previous attestation (sequence ${previous.sequence})`,
      sequence: previous.sequence,
      value: previous.reservesUsd,
    });
  let high: ReservesPoint | null = null;
  for (const p of history) {
    if (p.observedAt < since || p.observedAt > now) continue;
    if (!high || p.reservesUsd > high.reservesUsd || (p.reservesUsd === high.reservesUsd && p.sequence > high.sequence))
      high = p;
  }
  if (high && !(previous && high.sequence === previous.sequence)) {
    refs.push({
      what: `the ${issuer.policy.reserveDropWindowSeconds}s window's high (sequence ${high.sequence})`,
      sequence: high.sequence,
      value: high.reservesUsd,
    });
  }
  const r = totals.reservesUsd;
  const dropped = refs.filter((ref) => ref.value > r && (ref.value - r) * 10000n > max * ref.value);
  if (dropped.length === 0) return null;
  const list = dropped
    .map((ref) => `${shareBps(ref.value - r, ref.value)} bps below ${usd(ref.value)} at ${ref.what}`)
    .join(" and ");
  return raiseFlag("RESERVE_DROP", `counted reserves ${usd(r)} are ${list}, beyond the ${max} bps limit`);
};

export const liabilityPegDeviation: FlagRule = ({ peg, issuer }) => {
  if (!peg?.deviated || peg.marketPriceUsd === null) return null;
  const sources = peg.observations.filter((o) => o.accepted).map((o) => o.source);
  return raiseFlag(
    "LIABILITY_PEG_DEVIATION",
    `${peg.asset} trades at ${formatUsd18(peg.marketPriceUsd, 4)} USD (middle of ${peg.venues} venues: ${sources.join(", ")}), ` +
      `${peg.deviationBps} bps from its peg ${formatUsd18(peg.pegUsd, 4)} USD, beyond the ${issuer.policy.pegDeviationMaxBps} bps limit`,
  );
};

/** Whole days, hours or seconds, for reasons people read. */
function duration(seconds: number): string {
  if (seconds >= 86400 && seconds % 3600 === 0) return seconds === 86400 ? "1 day" : `${seconds / 86400} days`;
  if (seconds >= 3600 && seconds % 60 === 0) return `${Math.round(seconds / 360) / 10} hours`;
  return `${seconds} s`;
}

export const liabilitiesStale: FlagRule = ({ issuer, liabilities, readings }) => {
  const max = issuer.policy.maxLedgerAgeSeconds;
  const ledger = liabilities.ledger;
  if (max === undefined || ledger === null) return null;
  const age = Number(readings.observedAt) - ledger.asOf;
  if (age <= max) return null;
  const asOf = isoSeconds(ledger.asOf);
  return raiseFlag(
    "LIABILITIES_STALE",
    `ledger ${ledger.ledgerId} has asOf ${ledger.asOf} (${asOf}), ${duration(age)} before observedAt, beyond the ${duration(max)} limit (policy.maxLedgerAgeSeconds ${max})`,
  );
};

/** SPEC §6 bits 0-11, one rule each. */
/**
 * SPEC §6 bit 11: DISPUTED while a valid SPEC §12 dispute stands against the
 * attested ledger, i.e. one was stored for an asOf at or after the ledger's
 * own. The publisher reads the standing disputes with the ledger
 * (worker/disputes/disputeStore.ts); a ledger with a newer asOf clears it.
 */
export const disputed: FlagRule = ({ issuer, readings }) => {
  const ledger = readings.ledger;
  const standing = ledger?.disputes;
  if (ledger === null || standing === undefined || standing.count === 0) return null;
  const kinds = [
    standing.absent > 0 ? `${standing.absent} omitting a receipt holder` : null,
    standing.balanceDiffers > 0 ? `${standing.balanceDiffers} showing other balances than a receipt` : null,
  ].filter((k) => k !== null);
  return raiseFlag(
    "DISPUTED",
    `${standing.count} valid dispute${standing.count === 1 ? "" : "s"} (${kinds.join(", ")}) stand against ledger ${ledger.ledgerId} (asOf ${ledger.asOf}); ` +
      `listed at /v1/issuers/${issuer.id}/disputes, until a ledger with a newer asOf is attested`,
  );
};

export const FLAG_RULES: readonly FlagRule[] = [
  undercollateralized,
  staleSource,
  priceDivergence,
  unprovenOwnership,
  offchainShareHigh,
  circularReserves,
  concentration,
  supplyGrowth,
  reserveDrop,
  liabilityPegDeviation,
  liabilitiesStale,
  disputed,
];

/** Runs every rule; flags come out lowest bit first with their bit set. */
export function evaluateFlags(
  ctx: FlagContext,
  rules: readonly FlagRule[] = FLAG_RULES,
): { flags: RaisedFlag[]; bits: bigint } {
  const byBit = new Map<number, RaisedFlag>();
  for (const flag of rules.map((rule) => rule(ctx))) {
    if (flag === null) continue;
    const earlier = byBit.get(flag.bit);
    byBit.set(flag.bit, earlier ? { ...earlier, reason: `${earlier.reason}; ${flag.reason}` } : flag);
  }
  const flags = [...byBit.values()].sort((a, b) => a.bit - b.bit);
  return { flags, bits: encodeFlags(flags.map((f) => f.name)) };
}
