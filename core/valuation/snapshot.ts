import { type Attestation, ZERO_HASH } from "../attestation.js";
import type { Hex } from "../bytes.js";
import type { IssuerConfig } from "../config/schema.js";
import type { RaisedFlag } from "../flags.js";
import { reservesRoot } from "../reservesTree.js";
import { type Liabilities, valueLiabilities } from "./liabilities.js";
import { type LiabilityPeg, liabilityPeg } from "./liabilityPeg.js";
import { duplicateLabels, reserveLineItems, type ValuedLineItem } from "./lineItems.js";
import { type PriceQuorum, priceTick } from "./priceQuorum.js";
import type { TickReadings } from "./readings.js";
import { evaluateFlags, type ReservesPoint } from "./riskFlags.js";
import { type SnapshotTotals, snapshotTotals } from "./totals.js";

export type { SnapshotTotals };

/** Everything valuation derives from one tick: what the report shows and the attestation signs. */
export interface Snapshot {
  issuerId: string;
  observedAt: bigint;
  assets: { id: string; decimals: number; pegCurrency: boolean }[];
  prices: PriceQuorum[];
  /** In the order given to the reserves tree. */
  items: ValuedLineItem[];
  liabilities: Liabilities;
  /** The liability token's market price against its peg; null when no market prices are configured. */
  peg: LiabilityPeg | null;
  totals: SnapshotTotals;
  flags: RaisedFlag[];
  flagBits: bigint;
  reservesRoot: Hex;
  /** The ledger root, or the zero hash when liabilities are on-chain supply only. */
  liabilitiesRoot: Hex;
}

export type SnapshotResult = { ok: true; snapshot: Snapshot } | { ok: false; reason: string };

export interface ValueSnapshotParameters {
  issuer: IssuerConfig;
  readings: TickReadings;
  /** The issuer's last attestation, for rules that compare with it (SPEC §6 bits 7-8). */
  previous?: Attestation | null;
  /** Earlier attestations' reserves, for RESERVE_DROP's window (those outside it are ignored). */
  history?: readonly ReservesPoint[];
}

/**
 * Values one tick: a price per asset, a line item per configured reserve
 * source, liabilities at what is owed, totals, flags and both roots. Pure:
 * the same inputs give the same snapshot. Refuses (ok: false) only when
 * publishing would mislead: liabilities that cannot be fully valued, or no
 * reserve line item at all.
 */
export function valueSnapshot({
  issuer,
  readings,
  previous = null,
  history = [],
}: ValueSnapshotParameters): SnapshotResult {
  const pricing = priceTick(issuer, readings);
  const prices = pricing.quorums;
  const priceMap = new Map(prices.map((q) => [q.asset, q]));

  const items = reserveLineItems({ issuer, readings, prices: priceMap });
  if (items.length === 0)
    return {
      ok: false,
      reason: `issuer ${issuer.id} has no reserve holders or custodians; a snapshot needs at least one reserve line item`,
    };
  const dup = duplicateLabels(items);
  if (dup.length > 0)
    return { ok: false, reason: `reserve labels must be unique; configured twice: ${dup.join(", ")}` };

  const valued = valueLiabilities(issuer, readings, priceMap);
  if (!valued.ok) return { ok: false, reason: `liabilities of ${issuer.id} cannot be valued: ${valued.reason}` };
  const liabilities = valued.liabilities;

  const totals = snapshotTotals(items, liabilities);
  const peg = liabilityPeg(issuer, pricing.marketPrices);
  const { flags, bits } = evaluateFlags({
    issuer,
    readings,
    prices,
    items,
    liabilities,
    totals,
    previous,
    history,
    peg,
  });

  return {
    ok: true,
    snapshot: {
      issuerId: issuer.id,
      observedAt: readings.observedAt,
      assets: issuer.assets.map((a) => ({ id: a.id, decimals: a.decimals, pegCurrency: a.pegCurrency })),
      prices,
      items,
      liabilities,
      peg,
      totals,
      flags,
      flagBits: bits,
      reservesRoot: reservesRoot(items.map((v) => v.item)),
      liabilitiesRoot: liabilities.ledger ? (liabilities.ledger.root.toLowerCase() as Hex) : ZERO_HASH,
    },
  };
}
