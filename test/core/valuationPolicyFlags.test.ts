import { describe, expect, it } from "vitest";
import { type Attestation, ZERO_HASH } from "../../core/attestation.js";
import { buildReport } from "../../core/report.js";
import type { TickReadings } from "../../core/valuation/readings.js";
import type { ReservesPoint } from "../../core/valuation/riskFlags.js";
import { type Snapshot, valueSnapshot } from "../../core/valuation/snapshot.js";
import {
  baseReadings,
  E6,
  E18,
  FEED_ETH,
  failedPrice,
  H1,
  issuerInput,
  makeIssuer,
  OBSERVED_AT,
  price,
  readingsWith,
} from "./valuationFixture.js";

/**
 * SPEC §6 bits 6-9 on the fixture tick: counted reserves 700,000 USD (H1
 * "Treasury" 630,000 of which USDC 600,000 and ETH 30,000; H2 20,000 USDC;
 * custodian acme-trust 50,000 USD), liabilities 650,000 (AUSD at 1.00).
 */
const issuer = makeIssuer();
const withPolicy = (policy: Record<string, number>) => makeIssuer({ policy });

function snapshotOf(
  readings: TickReadings,
  iss = issuer,
  previous: Attestation | null = null,
  history: ReservesPoint[] = [],
): Snapshot {
  const result = valueSnapshot({ issuer: iss, readings, previous, history });
  if (!result.ok) throw new Error(`expected a snapshot, got: ${result.reason}`);
  return result.snapshot;
}

const names = (s: Snapshot) => s.flags.map((f) => f.name);
const reasonOf = (s: Snapshot, name: string) => s.flags.find((f) => f.name === name)?.reason ?? "";
const usd = (whole: bigint) => whole * E18;

/** A previous attestation with the given totals (other fields do not matter to the rules). */
function previous(
  reservesUsd: bigint,
  liabilitiesUsd: bigint,
  sequence = 4n,
  observedAt = OBSERVED_AT - 3600n,
): Attestation {
  return {
    issuer: ZERO_HASH,
    sequence,
    previous: ZERO_HASH,
    observedAt,
    validUntil: observedAt + 3600n,
    reservesUsd,
    onchainReservesUsd: reservesUsd,
    offchainReservesUsd: 0n,
    liabilitiesUsd,
    ratioBps: 0,
    reservesRoot: ZERO_HASH,
    liabilitiesRoot: ZERO_HASH,
    flags: 0n,
    reportHash: ZERO_HASH,
  };
}

describe("CONCENTRATION (bit 6)", () => {
  it("is off by default: 10000 bps can never be exceeded", () => {
    expect(issuer.policy.concentrationMaxBps).toBe(10000);
    expect(names(snapshotOf(baseReadings()))).toEqual([]);
  });

  it("is not raised at exactly the limit, raised one bps below it, naming the largest holder and its share", () => {
    // H1 holds 630,000 / 700,000 = 9000 bps exactly
    expect(names(snapshotOf(baseReadings(), withPolicy({ concentrationMaxBps: 9000 })))).toEqual([]);
    const s = snapshotOf(baseReadings(), withPolicy({ concentrationMaxBps: 8999 }));
    expect(names(s)).toEqual(["CONCENTRATION"]);
    expect(reasonOf(s, "CONCENTRATION")).toBe(
      `holder ${H1} on chain 1 (Treasury) holds 9000 bps (630000.00 USD) of counted reserves 700000.00 USD, above the 8999 bps limit`,
    );
    expect(s.flagBits).toBe(1n << 6n);
  });

  it("measures assets and custodians too, listing the others over the limit", () => {
    const s = snapshotOf(baseReadings(), withPolicy({ concentrationMaxBps: 500 }));
    // USDC 620,000 = 8857 bps; USD and acme-trust 50,000 = 714 bps; ETH 428 and H2 285 are under
    expect(reasonOf(s, "CONCENTRATION")).toBe(
      `holder ${H1} on chain 1 (Treasury) holds 9000 bps (630000.00 USD) of counted reserves 700000.00 USD, above the 500 bps limit; ` +
        "also over the limit: asset USDC 8857 bps, asset USD 714 bps, custodian acme-trust 714 bps",
    );
  });

  it("counts only counted reserves: an unproven holder is not a concentration", () => {
    // H2 unproven: counted 680,000, H1 630,000 → 9264 bps
    const s = snapshotOf(
      readingsWith((r) => (r.ownership[1]!.proven = false)),
      withPolicy({ concentrationMaxBps: 9264 }),
    );
    expect(names(s)).toEqual(["UNPROVEN_OWNERSHIP", "CONCENTRATION"]);
    expect(reasonOf(s, "CONCENTRATION")).toMatch(
      /holds 9264 bps \(630000\.00 USD\) of counted reserves 680000\.00 USD/,
    );
  });
});

describe("SUPPLY_GROWTH (bit 7)", () => {
  it("is not raised on the first attestation", () => {
    expect(names(snapshotOf(baseReadings(), issuer, null))).toEqual([]);
  });

  it("compares liabilities growth with reserves growth: not at exactly the limit, raised just above", () => {
    // liabilities 500,000 → 650,000 (+3000 bps), reserves 700,000 → 700,000 (0 bps): 3000 bps more
    const prev = previous(usd(700_000n), usd(500_000n));
    expect(names(snapshotOf(baseReadings(), withPolicy({ supplyGrowthMaxBps: 3000 }), prev))).toEqual([]);
    const s = snapshotOf(baseReadings(), withPolicy({ supplyGrowthMaxBps: 2999 }), prev);
    expect(names(s)).toEqual(["SUPPLY_GROWTH"]);
    expect(reasonOf(s, "SUPPLY_GROWTH")).toBe(
      "since sequence 4 liabilities grew 3000 bps (500000.00 USD to 650000.00 USD) while reserves changed 0 bps (700000.00 USD to 700000.00 USD): " +
        "3000 bps more than reserves, above the 2999 bps limit",
    );
    // one wei more of previous liabilities makes the growth just under 3000 bps
    expect(
      names(
        snapshotOf(
          baseReadings(),
          withPolicy({ supplyGrowthMaxBps: 2999 }),
          previous(usd(700_000n), usd(500_000n) + 1n),
        ),
      ),
    ).toEqual(["SUPPLY_GROWTH"]);
    expect(
      names(
        snapshotOf(baseReadings(), withPolicy({ supplyGrowthMaxBps: 2999 }), previous(usd(700_000n), usd(500_100n))),
      ),
    ).toEqual([]); // +2997 bps
  });

  it("is not raised when reserves grew alongside (minting against deposits)", () => {
    // liabilities +3000 bps, reserves 500,000 → 700,000 = +4000 bps
    expect(names(snapshotOf(baseReadings(), issuer, previous(usd(500_000n), usd(500_000n))))).toEqual([]);
    // liabilities +3000 bps, reserves +2000 bps (583,333.33 → 700,000, a hair more for the floor): 1000 bps more = the default limit
    expect(
      names(snapshotOf(baseReadings(), issuer, previous((usd(700_000n) * 10000n) / 12000n, usd(500_000n)))),
    ).toEqual([]);
  });

  it("is not raised when liabilities shrank, however reserves moved", () => {
    // liabilities 700,000 → 650,000 while reserves 1,400,000 → 700,000: that is RESERVE_DROP's business
    expect(names(snapshotOf(baseReadings(), issuer, previous(usd(1_400_000n), usd(700_000n))))).toEqual([
      "RESERVE_DROP",
    ]);
  });

  it("over-mint: supply grows 7.6x on the same reserves → UNDERCOLLATERALIZED and SUPPLY_GROWTH", () => {
    // previously 700,000 owed on 700,000 held; now 5,320,000 owed (600,000 + 4,720,000 on chain 8453)
    const overMint = readingsWith(
      (r) => (r.supply[1]!.result = { ok: true, value: { totalSupply: 4_720_000n * E6, decimals: 6, escrows: [] } }),
    );
    const s = snapshotOf(overMint, issuer, previous(usd(700_000n), usd(700_000n)));
    expect(s.totals.liabilitiesUsd).toBe(usd(5_320_000n));
    expect(names(s)).toEqual(["UNDERCOLLATERALIZED", "SUPPLY_GROWTH"]);
    expect(reasonOf(s, "SUPPLY_GROWTH")).toMatch(/liabilities grew 66000 bps/);
  });
});

describe("RESERVE_DROP (bit 8)", () => {
  it("is not raised on the first attestation", () => {
    expect(names(snapshotOf(baseReadings()))).toEqual([]);
  });

  it("against the previous attestation: not at exactly the limit (default 2000 bps), raised just above", () => {
    // 875,000 → 700,000 is exactly 2000 bps down
    expect(names(snapshotOf(baseReadings(), issuer, previous(usd(875_000n), usd(650_000n))))).toEqual([]);
    const s = snapshotOf(baseReadings(), issuer, previous(usd(875_000n) + 1n, usd(650_000n)));
    expect(names(s)).toEqual(["RESERVE_DROP"]);
    expect(reasonOf(s, "RESERVE_DROP")).toBe(
      "counted reserves 700000.00 USD are 2000 bps below 875000.00 USD at the previous attestation (sequence 4), beyond the 2000 bps limit",
    );
  });

  it("drain: 40% gone since the previous tick", () => {
    const s = snapshotOf(baseReadings(), issuer, previous((usd(700_000n) * 10n + 5n) / 6n, usd(650_000n)));
    expect(names(s)).toEqual(["RESERVE_DROP"]);
    expect(reasonOf(s, "RESERVE_DROP")).toMatch(/are 4000 bps below 1166666\.66 USD/);
  });

  it("against the window's high: a slow bleed the previous attestation alone would miss", () => {
    const prev = previous(usd(750_000n), usd(650_000n), 9n); // -666 bps since the last tick: fine alone
    const history: ReservesPoint[] = [
      { sequence: 9n, observedAt: OBSERVED_AT - 3600n, reservesUsd: usd(750_000n) },
      { sequence: 5n, observedAt: OBSERVED_AT - 86_400n, reservesUsd: usd(1_000_000n) }, // exactly at the window's start: inside
      { sequence: 2n, observedAt: OBSERVED_AT - 86_401n, reservesUsd: usd(5_000_000n) }, // outside
    ];
    const s = snapshotOf(baseReadings(), issuer, prev, history);
    expect(names(s)).toEqual(["RESERVE_DROP"]);
    expect(reasonOf(s, "RESERVE_DROP")).toBe(
      "counted reserves 700000.00 USD are 3000 bps below 1000000.00 USD at the 86400s window's high (sequence 5), beyond the 2000 bps limit",
    );
    // a window one second shorter leaves the 1,000,000 point out
    expect(names(snapshotOf(baseReadings(), withPolicy({ reserveDropWindowSeconds: 86_399 }), prev, history))).toEqual(
      [],
    );
  });

  it("names both references when both are beyond the limit", () => {
    const s = snapshotOf(baseReadings(), issuer, previous(usd(1_000_000n), usd(650_000n), 9n), [
      { sequence: 7n, observedAt: OBSERVED_AT - 7200n, reservesUsd: usd(1_400_000n) },
    ]);
    expect(reasonOf(s, "RESERVE_DROP")).toBe(
      "counted reserves 700000.00 USD are 3000 bps below 1000000.00 USD at the previous attestation (sequence 9) and 5000 bps below 1400000.00 USD at the 86400s window's high (sequence 7), beyond the 2000 bps limit",
    );
  });
});

describe("LIABILITY_PEG_DEVIATION (bit 9)", () => {
  const venues = [
    { kind: "http", url: "https://m.example/a", path: "p" },
    { kind: "http", url: "https://m.example/b", path: "p" },
    { kind: "chainlink", chainId: 1, feed: FEED_ETH, maxAgeSeconds: 3600 },
  ];
  const base = issuerInput() as Record<string, any>;
  const pegIssuer = (count: number) =>
    makeIssuer({ liabilities: { supply: { ...base.liabilities.supply, marketPrices: venues.slice(0, count) } } });
  const A = "http:https://m.example/a";
  const B = "http:https://m.example/b";
  const C = `chainlink:1:${FEED_ETH}`;
  const cents = (c: bigint) => (c * E18) / 100n;
  const market = (...answers: [string, bigint | null][]) =>
    readingsWith((r) => {
      r.marketPrices = answers.map(([source, p]) =>
        p === null ? failedPrice("AUSD", source, "HTTP 503") : price("AUSD", source, p),
      );
    });

  it("is not raised at exactly the limit (default 100 bps), raised when both of two venues are beyond it", () => {
    expect(names(snapshotOf(market([A, cents(99n)], [B, cents(99n)]), pegIssuer(2)))).toEqual([]);
    const s = snapshotOf(market([A, cents(99n) - 1n], [B, cents(98n)]), pegIssuer(2));
    expect(names(s)).toEqual(["LIABILITY_PEG_DEVIATION"]);
    expect(s.flagBits).toBe(1n << 9n);
    expect(reasonOf(s, "LIABILITY_PEG_DEVIATION")).toBe(
      `AUSD trades at 0.9899 USD (middle of 2 venues: ${A}, ${B}), 101 bps from its peg 1.0000 USD, beyond the 100 bps limit`,
    );
    // above the peg counts as well
    expect(names(snapshotOf(market([A, cents(102n)], [B, cents(103n)]), pegIssuer(2)))).toEqual([
      "LIABILITY_PEG_DEVIATION",
    ]);
  });

  it("single venue at 0.65 against two at 1.00: the median holds, nothing raised", () => {
    expect(names(snapshotOf(market([A, cents(65n)], [B, E18], [C, E18]), pegIssuer(3)))).toEqual([]);
    // with only two venues one of them alone cannot raise it either
    expect(names(snapshotOf(market([A, cents(65n)], [B, E18]), pegIssuer(2)))).toEqual([]);
  });

  it("a depeg the venues agree on is raised, while liabilities stay at face value", () => {
    const s = snapshotOf(market([A, cents(23n)], [B, cents(23n)], [C, cents(126n)]), pegIssuer(3));
    expect(names(s)).toEqual(["LIABILITY_PEG_DEVIATION"]);
    expect(s.peg).toMatchObject({ marketPriceUsd: cents(23n), deviationBps: 7700n, venues: 3, deviated: true });
    expect(s.totals.liabilitiesUsd).toBe(usd(650_000n));
    expect(s.liabilities.assets[0]).toMatchObject({ priceUsd: E18, priceMethod: "peg" });
  });

  it("with fewer than two venues answering: not raised, and STALE_SOURCE says so", () => {
    const s = snapshotOf(market([A, cents(23n)], [B, null]), pegIssuer(2));
    expect(names(s)).toEqual(["STALE_SOURCE"]);
    expect(reasonOf(s, "STALE_SOURCE")).toContain(`market price of AUSD from ${B}: HTTP 503`);
    expect(reasonOf(s, "STALE_SOURCE")).toContain(
      "only 1 of 2 market price venue(s) of AUSD answered; a peg deviation needs at least two",
    );
    expect(s.peg).toMatchObject({ marketPriceUsd: null, deviated: false, venues: 1 });
  });

  it("appears in the report as liabilities.market", () => {
    const readings = market([A, cents(23n)], [B, cents(24n)]);
    const iss = pegIssuer(2);
    const built = buildReport(snapshotOf(readings, iss), {
      issuerId: iss.id,
      sequence: 1n,
      observedAt: OBSERVED_AT,
      validUntil: OBSERVED_AT + 3600n,
      policy: iss.policy,
      blocks: readings.blocks,
    });
    expect(built.report.liabilities.market).toEqual({
      asset: "AUSD",
      pegUsd: E18.toString(),
      venues: "2",
      marketPriceUsd: cents(24n).toString(),
      deviationBps: "7600",
      deviated: true,
      reason: null,
      observations: [
        {
          source: A,
          priceUsd: cents(23n).toString(),
          updatedAt: String(OBSERVED_AT - 60n),
          accepted: true,
          reason: null,
        },
        {
          source: B,
          priceUsd: cents(24n).toString(),
          updatedAt: String(OBSERVED_AT - 60n),
          accepted: true,
          reason: null,
        },
      ],
    });
  });
});

describe("reserve-asset scenarios priced by quorum", () => {
  it("stale oracle at 1.26 against two pools at 0.23: PRICE_DIVERGENCE, the median 0.23 values the asset", () => {
    const s = snapshotOf(
      readingsWith((r) => {
        r.prices = r.prices.filter((p) => p.asset !== "ETH");
        r.prices.push(
          price("ETH", `chainlink:1:${FEED_ETH}`, (126n * E18) / 100n),
          price("ETH", "http:https://a.example/eth", (23n * E18) / 100n),
          price("ETH", "http:https://b.example/eth", (23n * E18) / 100n),
        );
      }),
    );
    expect(s.prices.find((q) => q.asset === "ETH")).toMatchObject({
      priceUsd: (23n * E18) / 100n,
      method: "median",
      divergent: true,
    });
    expect(names(s)).toEqual(["PRICE_DIVERGENCE"]);
    // 10 ETH × 0.23 = 2.30 instead of 30,000: 670,002.30 counted against 650,000
    expect(s.totals.reservesUsd).toBe(usd(670_002n) + (30n * E18) / 100n);
  });
});

describe("LIABILITIES_STALE (bit 10)", () => {
  const ledgerIssuer = (policy: Record<string, number> = {}) =>
    makeIssuer({ liabilities: { ...(issuerInput().liabilities as object), ledger: { assets: ["USD"] } }, policy });
  const withLedger = (asOf: number) =>
    readingsWith((r) => {
      r.ledger = {
        ledgerId: "lg_test",
        assets: ["USD"],
        root: `0x${"ab".repeat(32)}`,
        rootSums: [1_000n * E6],
        users: 3,
        asOf,
        order: "commitment",
      };
    });

  it("is off unless policy.maxLedgerAgeSeconds is set", () => {
    expect(names(snapshotOf(withLedger(0), ledgerIssuer()))).not.toContain("LIABILITIES_STALE");
  });

  it("is raised when asOf is older than the limit, naming asOf and age; not at the limit", () => {
    const day = 86400;
    const at = Number(OBSERVED_AT);
    expect(names(snapshotOf(withLedger(at - day), ledgerIssuer({ maxLedgerAgeSeconds: day })))).not.toContain(
      "LIABILITIES_STALE",
    );
    const stale = snapshotOf(withLedger(at - 3 * day), ledgerIssuer({ maxLedgerAgeSeconds: day }));
    expect(names(stale)).toContain("LIABILITIES_STALE");
    expect(stale.flags.find((f) => f.name === "LIABILITIES_STALE")?.bit).toBe(10);
    const asOf = new Date((at - 3 * day) * 1000).toISOString().replace(".000Z", "Z");
    expect(reasonOf(stale, "LIABILITIES_STALE")).toBe(
      `ledger lg_test has asOf ${at - 3 * day} (${asOf}), 3 days before observedAt, beyond the 1 day limit (policy.maxLedgerAgeSeconds 86400)`,
    );
  });
});
