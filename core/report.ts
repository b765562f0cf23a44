import { keccak256 } from "viem";
import { type Hex, utf8 } from "./bytes.js";
import type { PolicyConfig } from "./config/schema.js";
import { fail } from "./errors.js";
import type { RaisedFlag } from "./flags.js";
import { type ReserveLineItemJson, reserveLineItemToJson } from "./reservesTree.js";
import type { HoldingType } from "./sources/holdingKinds.js";
import type { LedgerInfo } from "./valuation/liabilities.js";
import type { LiabilityPeg } from "./valuation/liabilityPeg.js";
import type { LineItemDetails, LookThroughDetails } from "./valuation/lineItems.js";
import type { ObservedPrice, PriceQuorum } from "./valuation/priceQuorum.js";
import type { BlockReading } from "./valuation/readings.js";
import type { Snapshot } from "./valuation/snapshot.js";

/**
 * SPEC §4 report. Every integer is a decimal string except `version`, an
 * item's `status` and a flag's `bit` (JSON numbers, as SPEC §4 and
 * reserveLineItemToJson have them); bytes and addresses are lowercase 0x-hex.
 * Key order is fixed by the object literals below, so the same snapshot
 * always serialises to the same bytes.
 */
export const REPORT_VERSION = 1;

export type ReportItemDetailsJson =
  | {
      kind: HoldingType;
      asset: string;
      holderName: string | null;
      source: string;
      decimals: string | null;
      blockNumber: string | null;
      shares: string | null;
      amountRead: string | null;
      ownership: { method: string; proven: boolean; detail: string };
      lookThrough: ReportLookThroughJson | null;
      exclusion: string | null;
      reason: string | null;
    }
  | {
      kind: "custodian";
      asset: string;
      decimals: string;
      custodian: string;
      account: string;
      statement: {
        custodian: string;
        account: string;
        amount: string;
        nonce: string;
        asOf: string;
        signer: string;
      } | null;
      exclusion: string | null;
      reason: string | null;
    };

/** A look-through holding: the attestation relied on and the haircut; priceUsd = floor(marketPriceUsd × haircutBps / 10000). */
export interface ReportLookThroughJson {
  issuer: string;
  url: string | null;
  attestation: {
    sequence: string;
    observedAt: string;
    validUntil: string;
    ratioBps: string;
    digest: string;
    signer: string;
  } | null;
  marketPriceUsd: string | null;
  haircutBps: string | null;
  circular: string[] | null;
}

/** The liability token's market price against its peg (LIABILITY_PEG_DEVIATION); never used to value liabilities. */
export interface ReportMarketJson {
  asset: string;
  pegUsd: string;
  venues: string;
  marketPriceUsd: string | null;
  deviationBps: string | null;
  deviated: boolean;
  reason: string | null;
  observations: ReportPriceJson["observations"];
}

export type ReportItemJson = ReserveLineItemJson & { details: ReportItemDetailsJson };

export interface ReportPriceJson {
  asset: string;
  priceUsd: string | null;
  method: string;
  divergenceBps: string;
  divergent: boolean;
  reason: string | null;
  observations: {
    source: string;
    priceUsd: string | null;
    updatedAt: string | null;
    accepted: boolean;
    reason: string | null;
  }[];
}

export interface ReportJson {
  version: 1;
  issuer: string;
  sequence: string;
  observedAt: string;
  validUntil: string;
  assets: { id: string; decimals: string; pegCurrency: boolean }[];
  reserves: { root: Hex; items: ReportItemJson[] };
  prices: ReportPriceJson[];
  liabilities: {
    assets: {
      asset: string;
      source: string;
      amount: string;
      decimals: string;
      priceUsd: string;
      priceMethod: string;
      valueUsd: string;
    }[];
    supply: {
      chainId: string;
      token: string;
      decimals: string;
      blockNumber: string;
      totalSupply: string;
      escrows: { address: string; amount: string }[];
      netSupply: string;
      pegUsd: string;
      valueUsd: string;
    }[];
    root: Hex | null;
    ledger: ReportLedgerJson | PrivateReportLedgerJson | LegacyReportLedgerJson | null;
    market: ReportMarketJson | null;
  };
  totals: {
    reservesUsd: string;
    onchainReservesUsd: string;
    offchainReservesUsd: string;
    liabilitiesUsd: string;
    ratioBps: string;
  };
  policy: Record<string, string | number | boolean | null>;
  flags: { bit: number; name: string; reason: string }[];
  blocks: {
    chainId: string;
    number: string | null;
    hash: string | null;
    timestamp: string | null;
    error: string | null;
  }[];
}

/**
 * SPEC §4 `liabilities.ledger`: the attested ledger's id, when its balances
 * were true, its leaf count, its leaf order (only "commitment"; absent for
 * ledgers built in random order) and tree scheme, plus its assets and root sums.
 */
export interface ReportLedgerJson {
  id: string;
  asOf: string;
  leafCount: string;
  order?: "commitment";
  scheme: "sum-sha256-v1";
  assets: string[];
  rootSums: string[];
}

/**
 * `liabilities.ledger` of a private ledger (SPEC §11, docs/spec.md §4): the
 * padded leaf count (2^depth, never the user count), no root sums; per asset
 * its committed unit, root commitment, total in quantised units and total
 * blinding, so anyone can open the root commitments to the totals.
 * `liabilities.assets[k].amount` = totals[k] × 10^(decimals − unitDecimals[k]).
 */
export interface PrivateReportLedgerJson {
  id: string;
  asOf: string;
  leafCount: string;
  order: "commitment";
  scheme: "pedersen-ristretto255-v2";
  assets: string[];
  unitDecimals: number[];
  rootCommitments: Hex[];
  totals: string[];
  totalBlindings: Hex[];
}

/** The ledger entry of reports published before SPEC §4 named ledgers by id and asOf. */
export interface LegacyReportLedgerJson {
  ledgerId: string;
  assets: string[];
  rootSums: string[];
  users: string;
}

export interface BuildReportOptions {
  issuerId: string;
  sequence: bigint;
  observedAt: bigint;
  validUntil: bigint;
  policy: PolicyConfig;
  blocks: readonly BlockReading[];
}

export interface BuiltReport {
  report: ReportJson;
  bytes: Uint8Array;
  reportHash: Hex;
}

const dec = (v: bigint | number) => (typeof v === "number" ? BigInt(v) : v).toString(10);
const decOrNull = (v: bigint | number | null) => (v === null ? null : dec(v));

function detailsJson(d: LineItemDetails): ReportItemDetailsJson {
  if (d.kind === "custodian") {
    const s = d.statement;
    return {
      kind: "custodian",
      asset: d.asset,
      decimals: dec(d.decimals),
      custodian: d.custodian,
      account: d.account,
      statement: s && {
        custodian: d.custodian,
        account: d.account,
        amount: dec(s.amount),
        nonce: dec(s.nonce),
        asOf: dec(s.asOf),
        signer: s.signer.toLowerCase(),
      },
      exclusion: d.exclusion,
      reason: d.reason,
    };
  }
  return {
    kind: d.kind,
    asset: d.asset,
    holderName: d.holderName,
    source: d.source.toLowerCase(),
    decimals: decOrNull(d.decimals),
    blockNumber: decOrNull(d.blockNumber),
    shares: decOrNull(d.shares),
    amountRead: decOrNull(d.amountRead),
    ownership: { method: d.ownership.method, proven: d.ownership.proven, detail: d.ownership.detail },
    lookThrough: d.lookThrough && lookThroughJson(d.lookThrough),
    exclusion: d.exclusion,
    reason: d.reason,
  };
}

function lookThroughJson(l: LookThroughDetails): ReportLookThroughJson {
  const a = l.attestation;
  return {
    issuer: l.issuer,
    url: l.url,
    attestation: a && {
      sequence: dec(a.sequence),
      observedAt: dec(a.observedAt),
      validUntil: dec(a.validUntil),
      ratioBps: dec(a.ratioBps),
      digest: a.digest.toLowerCase(),
      signer: a.signer.toLowerCase(),
    },
    marketPriceUsd: decOrNull(l.marketPriceUsd),
    haircutBps: decOrNull(l.haircutBps),
    circular: l.circular && [...l.circular],
  };
}

function observationsJson(observations: readonly ObservedPrice[]): ReportPriceJson["observations"] {
  return observations.map((o) => ({
    source: o.source,
    priceUsd: decOrNull(o.priceUsd),
    updatedAt: decOrNull(o.updatedAt),
    accepted: o.accepted,
    reason: o.reason,
  }));
}

function priceJson(q: PriceQuorum): ReportPriceJson {
  return {
    asset: q.asset,
    priceUsd: decOrNull(q.priceUsd),
    method: q.method,
    divergenceBps: dec(q.divergenceBps),
    divergent: q.divergent,
    reason: q.reason,
    observations: observationsJson(q.observations),
  };
}

function marketJson(p: LiabilityPeg | null): ReportMarketJson | null {
  if (!p) return null;
  return {
    asset: p.asset,
    pegUsd: dec(p.pegUsd),
    venues: dec(p.venues),
    marketPriceUsd: decOrNull(p.marketPriceUsd),
    deviationBps: decOrNull(p.deviationBps),
    deviated: p.deviated,
    reason: p.reason,
    observations: observationsJson(p.observations),
  };
}

const POLICY_ORDER = [
  "ttlSeconds",
  "maxSourceAgeSeconds",
  "statementMaxAgeSeconds",
  "priceDivergenceBps",
  "offchainShareMaxBps",
  "concentrationMaxBps",
  "supplyGrowthMaxBps",
  "reserveDropMaxBps",
  "reserveDropWindowSeconds",
  "pegDeviationMaxBps",
];

/** Known keys in schema order, any later additions after them alphabetically; integers as decimal strings. */
function policyJson(policy: PolicyConfig): ReportJson["policy"] {
  const entries = Object.entries(policy as Record<string, unknown>);
  const rank = (k: string) => (POLICY_ORDER.includes(k) ? POLICY_ORDER.indexOf(k) : POLICY_ORDER.length);
  entries.sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const out: ReportJson["policy"] = {};
  for (const [key, value] of entries) {
    if (typeof value === "number" && Number.isInteger(value)) out[key] = dec(value);
    else if (typeof value === "string" || typeof value === "boolean" || value === null) out[key] = value;
    else fail("INVALID_ARGUMENT", `policy.${key}`, "is not a plain value the report can carry");
  }
  return out;
}

function blocksJson(blocks: readonly BlockReading[]): ReportJson["blocks"] {
  return [...blocks]
    .sort((a, b) => a.chainId - b.chainId)
    .map((b) =>
      b.result.ok
        ? {
            chainId: dec(b.chainId),
            number: dec(b.result.value.number),
            hash: b.result.value.hash.toLowerCase(),
            timestamp: dec(b.result.value.timestamp),
            error: null,
          }
        : { chainId: dec(b.chainId), number: null, hash: null, timestamp: null, error: b.result.reason },
    );
}

function flagsJson(flags: readonly RaisedFlag[]): ReportJson["flags"] {
  return flags.map((f) => ({ bit: f.bit, name: f.name, reason: f.reason }));
}

/** `liabilities.ledger` of the attested ledger: the sum tree's, or a private ledger's (no sums, committed totals). */
function ledgerJson(ledger: LedgerInfo): ReportLedgerJson | PrivateReportLedgerJson {
  const head = { id: ledger.ledgerId, asOf: dec(ledger.asOf), leafCount: dec(ledger.users) };
  const p = ledger.private;
  if (p) {
    return {
      ...head,
      order: "commitment",
      scheme: "pedersen-ristretto255-v2",
      assets: [...ledger.assets],
      unitDecimals: [...p.unitDecimals],
      rootCommitments: p.rootCommitments.map((c) => c.toLowerCase() as Hex),
      totals: p.totals.map(dec),
      totalBlindings: p.totalBlindings.map((b) => b.toLowerCase() as Hex),
    };
  }
  return {
    ...head,
    ...(ledger.order === "commitment" ? { order: "commitment" as const } : {}),
    scheme: "sum-sha256-v1",
    assets: [...ledger.assets],
    rootSums: ledger.rootSums.map(dec),
  };
}

/** The report as a document, before serialisation. */
export function reportJson(snapshot: Snapshot, options: BuildReportOptions): ReportJson {
  if (options.issuerId !== snapshot.issuerId)
    fail(
      "INVALID_ARGUMENT",
      "report.issuer",
      `"${options.issuerId}" is not the snapshot's issuer "${snapshot.issuerId}"`,
    );
  if (options.observedAt !== snapshot.observedAt)
    fail("INVALID_ARGUMENT", "report.observedAt", `${options.observedAt} is not the snapshot's ${snapshot.observedAt}`);
  if (options.validUntil < options.observedAt)
    fail("INVALID_ARGUMENT", "report.validUntil", `${options.validUntil} is before observedAt ${options.observedAt}`);
  const { liabilities, totals } = snapshot;
  return {
    version: REPORT_VERSION,
    issuer: options.issuerId,
    sequence: dec(options.sequence),
    observedAt: dec(options.observedAt),
    validUntil: dec(options.validUntil),
    assets: snapshot.assets.map((a) => ({ id: a.id, decimals: dec(a.decimals), pegCurrency: a.pegCurrency })),
    reserves: {
      root: snapshot.reservesRoot,
      items: snapshot.items.map(({ item, details }) => ({
        ...reserveLineItemToJson(item),
        details: detailsJson(details),
      })),
    },
    prices: snapshot.prices.map(priceJson),
    liabilities: {
      assets: liabilities.assets.map((a) => ({
        asset: a.asset,
        source: a.source,
        amount: dec(a.amount),
        decimals: dec(a.decimals),
        priceUsd: dec(a.priceUsd),
        priceMethod: a.priceMethod,
        valueUsd: dec(a.valueUsd),
      })),
      supply: liabilities.supply.map((s) => ({
        chainId: dec(s.chainId),
        token: s.token.toLowerCase(),
        decimals: dec(s.decimals),
        blockNumber: dec(s.blockNumber),
        totalSupply: dec(s.totalSupply),
        escrows: s.escrows.map((e) => ({ address: e.address.toLowerCase(), amount: dec(e.amount) })),
        netSupply: dec(s.netSupply),
        pegUsd: dec(s.pegUsd),
        valueUsd: dec(s.valueUsd),
      })),
      root: liabilities.ledger ? (liabilities.ledger.root.toLowerCase() as Hex) : null,
      ledger: liabilities.ledger && ledgerJson(liabilities.ledger),
      market: marketJson(snapshot.peg),
    },
    totals: {
      reservesUsd: dec(totals.reservesUsd),
      onchainReservesUsd: dec(totals.onchainReservesUsd),
      offchainReservesUsd: dec(totals.offchainReservesUsd),
      liabilitiesUsd: dec(totals.liabilitiesUsd),
      ratioBps: dec(totals.ratioBps),
    },
    policy: policyJson(options.policy),
    flags: flagsJson(snapshot.flags),
    blocks: blocksJson(options.blocks),
  };
}

/** The exact bytes that are stored, served and hashed: 2-space JSON and a trailing newline. */
export function serializeReport(report: ReportJson): Uint8Array {
  return utf8(`${JSON.stringify(report, null, 2)}\n`);
}

/**
 * Builds the SPEC §4 report of a snapshot and its `reportHash`
 * (keccak256 of the exact bytes).
 */
export function buildReport(snapshot: Snapshot, options: BuildReportOptions): BuiltReport {
  const report = reportJson(snapshot, options);
  const bytes = serializeReport(report);
  return { report, bytes, reportHash: keccak256(bytes) };
}
