import { describe, expect, it } from "vitest";
import { valueLiabilities } from "../../core/valuation/liabilities.js";
import { type PriceQuorum, priceQuorum } from "../../core/valuation/priceQuorum.js";
import type { TickReadings } from "../../core/valuation/readings.js";
import { valueSnapshot } from "../../core/valuation/snapshot.js";
import {
  AUSD_1,
  AUSD_BASE,
  baseReadings,
  E6,
  E18,
  ESCROW,
  failedPrice,
  LEDGER_ROOT,
  makeIssuer,
  readingsWith,
} from "./valuationFixture.js";

const supplyOnly = makeIssuer();

function pricesOf(readings: TickReadings): Map<string, PriceQuorum> {
  return new Map(["USD", "USDC", "ETH"].map((a) => [a, priceQuorum(a, readings.prices, 100)]));
}

function liabilitiesOf(readings: TickReadings, issuer = supplyOnly) {
  return valueLiabilities(issuer, readings, pricesOf(readings));
}

const withLedger = makeIssuer({
  liabilities: {
    supply: {
      asset: "AUSD",
      pegUsd: E18.toString(),
      tokens: [
        { chainId: 1, token: AUSD_1, escrows: [ESCROW] },
        { chainId: 8453, token: AUSD_BASE },
      ],
    },
    ledger: { assets: ["USD", "ETH"] },
  },
});

const ledgerReadings = (edit: (r: TickReadings) => void = () => {}) =>
  readingsWith((r) => {
    // 1,000,000 cents owed in USD and 2 ETH owed in ETH
    r.ledger = {
      ledgerId: "2024-01-01",
      assets: ["USD", "ETH"],
      root: LEDGER_ROOT,
      rootSums: [1_000_000n, 2n * E18],
      users: 42,
      asOf: 1_700_000_000,
      order: "commitment",
    };
    edit(r);
  });

describe("supply liabilities", () => {
  it("value totalSupply minus escrows at the peg, per chain", () => {
    const result = liabilitiesOf(baseReadings());
    if (!result.ok) throw new Error(result.reason);
    const { supply, assets, totalUsd } = result.liabilities;
    expect(supply.map((s) => [s.chainId, s.totalSupply, s.netSupply, s.valueUsd])).toEqual([
      [1, 700_000n * E18, 600_000n * E18, 600_000n * E18],
      [8453, 50_000n * E6, 50_000n * E6, 50_000n * E18],
    ]);
    expect(supply[0]!.escrows).toEqual([{ address: ESCROW, amount: 100_000n * E18 }]);
    // one per-asset total: 650,000 AUSD expressed at 18 decimals (the 6-decimal chain scaled up exactly)
    expect(assets).toEqual([
      {
        asset: "AUSD",
        source: "supply",
        amount: 650_000n * E18,
        decimals: 18,
        priceUsd: E18,
        priceMethod: "peg",
        valueUsd: 650_000n * E18,
      },
    ]);
    expect(totalUsd).toBe(650_000n * E18);
  });

  it("round down per token, then sum", () => {
    // peg 15 usd18 units per whole token, 1 decimal, 1 base unit on each chain:
    // floor(1 × 15 / 10) = 1 per chain → 2 in all (flooring the sum, floor(2 × 15 / 10), would give 3)
    const issuer = makeIssuer({
      liabilities: {
        supply: {
          asset: "AUSD",
          pegUsd: "15",
          tokens: [
            { chainId: 1, token: AUSD_1 },
            { chainId: 8453, token: AUSD_BASE },
          ],
        },
      },
    });
    const readings = readingsWith((r) => {
      r.supply = [
        { chainId: 1, token: AUSD_1, result: { ok: true, value: { totalSupply: 1n, decimals: 1, escrows: [] } } },
        { chainId: 8453, token: AUSD_BASE, result: { ok: true, value: { totalSupply: 1n, decimals: 1, escrows: [] } } },
      ];
    });
    const result = liabilitiesOf(readings, issuer);
    expect(result.ok && result.liabilities.totalUsd).toBe(2n);
  });

  it("refuse escrows greater than the supply, naming the token", () => {
    const result = liabilitiesOf(
      readingsWith((r) => {
        const s = r.supply[0]!.result;
        if (s.ok) s.value.escrows[0]!.amount = 700_000n * E18 + 1n;
      }),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(AUSD_1);
  });

  it("refuse a failed or missing supply reading", () => {
    const failed = liabilitiesOf(
      readingsWith((r) => (r.supply[0]!.result = { ok: false, reason: "execution reverted" })),
    );
    expect(failed).toEqual({ ok: false, reason: expect.stringMatching(/execution reverted/) });
    const missing = liabilitiesOf(readingsWith((r) => r.supply.pop()));
    expect(missing).toEqual({ ok: false, reason: expect.stringContaining(AUSD_BASE) });
  });

  it("refuse to subtract a balance that is not a configured escrow, or to skip one that is", () => {
    const extra = liabilitiesOf(
      readingsWith((r) => {
        const s = r.supply[1]!.result;
        if (s.ok) s.value.escrows.push({ address: "0x9999999999999999999999999999999999999999", amount: 1n });
      }),
    );
    expect(extra).toEqual({ ok: false, reason: expect.stringMatching(/not a configured escrow/) });
    const skipped = liabilitiesOf(
      readingsWith((r) => {
        const s = r.supply[0]!.result;
        if (s.ok) s.value.escrows = [];
      }),
    );
    expect(skipped).toEqual({ ok: false, reason: expect.stringContaining(ESCROW) });
  });
});

describe("ledger liabilities", () => {
  it("value root sums at the chosen price with the asset's decimals, the peg currency at its fixed price", () => {
    const result = liabilitiesOf(ledgerReadings(), withLedger);
    if (!result.ok) throw new Error(result.reason);
    // USD: 1,000,000 cents × 1 USD / 10^2 = 10,000 USD; ETH: 2 ETH × 3000 (median) = 6,000 USD
    expect(result.liabilities.assets.slice(1)).toEqual([
      {
        asset: "USD",
        source: "ledger",
        amount: 1_000_000n,
        decimals: 2,
        priceUsd: E18,
        priceMethod: "peg",
        valueUsd: 10_000n * E18,
      },
      {
        asset: "ETH",
        source: "ledger",
        amount: 2n * E18,
        decimals: 18,
        priceUsd: 3000n * E18,
        priceMethod: "quorum",
        valueUsd: 6_000n * E18,
      },
    ]);
    // plus the 650,000 supply
    expect(result.liabilities.totalUsd).toBe(666_000n * E18);
    expect(result.liabilities.ledger).toMatchObject({ ledgerId: "2024-01-01", root: LEDGER_ROOT, users: 42 });
  });

  it("publish the ledger root as liabilitiesRoot", () => {
    const result = valueSnapshot({ issuer: withLedger, readings: ledgerReadings() });
    expect(result.ok && result.snapshot.liabilitiesRoot).toBe(LEDGER_ROOT);
    // 700,000 / 666,000 → floor(7,000,000,000 / 666,000) = 10510
    expect(result.ok && result.snapshot.totals.ratioBps).toBe(10510);
  });

  it("refuse an unpriced ledger asset, a missing ledger or one over other assets", () => {
    const unpriced = ledgerReadings(
      (r) => (r.prices = r.prices.map((p) => (p.asset === "ETH" ? failedPrice("ETH", p.source, "down") : p))),
    );
    expect(liabilitiesOf(unpriced, withLedger)).toEqual({
      ok: false,
      reason: expect.stringMatching(/ETH is unpriced/),
    });
    expect(liabilitiesOf(baseReadings(), withLedger)).toEqual({
      ok: false,
      reason: expect.stringMatching(/no complete ledger/),
    });
    const reordered = ledgerReadings((r) => (r.ledger!.assets = ["ETH", "USD"]));
    expect(liabilitiesOf(reordered, withLedger).ok).toBe(false);
  });
});
