import { describe, expect, it } from "vitest";
import { raiseFlag } from "../../core/flags.js";
import type { TickReadings } from "../../core/valuation/readings.js";
import { evaluateFlags, FLAG_RULES, type FlagRule } from "../../core/valuation/riskFlags.js";
import { type Snapshot, valueSnapshot } from "../../core/valuation/snapshot.js";
import { baseReadings, E6, E18, FEED_ETH, H2, makeIssuer, price, readingsWith } from "./valuationFixture.js";

const issuer = makeIssuer();

function snapshotOf(readings: TickReadings, iss = issuer): Snapshot {
  const result = valueSnapshot({ issuer: iss, readings });
  if (!result.ok) throw new Error(`expected a snapshot, got: ${result.reason}`);
  return result.snapshot;
}

const names = (s: Snapshot) => s.flags.map((f) => f.name);
const reasonOf = (s: Snapshot, name: string) => s.flags.find((f) => f.name === name)?.reason ?? "";

/** Base tick with the 8453 supply set, so liabilities = 600,000 + that chain's AUSD. */
const withBaseSupply = (totalSupply: bigint) =>
  readingsWith((r) => (r.supply[1]!.result = { ok: true, value: { totalSupply, decimals: 6, escrows: [] } }));

/** Base tick with the custodian statement set (USD cents). */
const withStatement = (cents: bigint) =>
  readingsWith((r) => {
    const st = r.statements[0]!.result;
    if (st.ok) st.value.amount = cents;
  });

describe("risk flags (SPEC §6 bits 0-4)", () => {
  it("raises nothing for a healthy tick", () => {
    const s = snapshotOf(baseReadings());
    expect(s.flags).toEqual([]);
    expect(s.flagBits).toBe(0n);
  });

  it("UNDERCOLLATERALIZED: not at exactly 10000 bps, raised at 9999", () => {
    // reserves 700,000; liabilities 600,000 + 100,000 = 700,000 → 10000 bps
    const at = snapshotOf(withBaseSupply(100_000n * E6));
    expect(at.totals.ratioBps).toBe(10000);
    expect(names(at)).not.toContain("UNDERCOLLATERALIZED");
    // one more base unit (0.000001 AUSD) → floor(700000 × 10000 / 700000.000001) = 9999
    const below = snapshotOf(withBaseSupply(100_000n * E6 + 1n));
    expect(below.totals.ratioBps).toBe(9999);
    expect(below.flags[0]).toMatchObject({ bit: 0, name: "UNDERCOLLATERALIZED" });
    expect(below.flags[0]!.reason).toMatch(/9999 bps/);
    expect(below.flagBits).toBe(1n);
  });

  it("STALE_SOURCE: raised for a failed price source even when the asset stays priced, naming it", () => {
    const s = snapshotOf(
      readingsWith(
        (r) =>
          (r.prices[1] = {
            asset: "ETH",
            source: "http:https://a.example/eth",
            result: { ok: false, reason: "HTTP 503" },
          }),
      ),
    );
    expect(s.prices.find((q) => q.asset === "ETH")?.priceUsd).toBe(2990n * E18); // lower of the remaining two
    expect(s.flags).toEqual([expect.objectContaining({ bit: 1, name: "STALE_SOURCE" })]);
    expect(reasonOf(s, "STALE_SOURCE")).toMatch(/ETH from http:https:\/\/a\.example\/eth: HTTP 503/);
    expect(s.flagBits).toBe(2n);
  });

  it("STALE_SOURCE: raised for a status-3 item and for a failed block, naming them", () => {
    const item = snapshotOf(readingsWith((r) => (r.statements = [])));
    expect(reasonOf(item, "STALE_SOURCE")).toContain("custodian:acme-trust:ops:USD");

    const iss = makeIssuer();
    iss.liabilities.supply!.tokens.pop();
    const block = snapshotOf(
      readingsWith((r) => (r.blocks[0] = { chainId: 8453, result: { ok: false, reason: "RPC timeout" } })),
      iss,
    );
    expect(reasonOf(block, "STALE_SOURCE")).toMatch(/block of chain 8453: RPC timeout/);
  });

  it("PRICE_DIVERGENCE: not at exactly the tolerance, raised just above it with the bps", () => {
    const ethFrom = (hi: bigint) =>
      readingsWith((r) => {
        r.prices = r.prices.filter((p) => p.asset !== "ETH");
        r.prices.push(price("ETH", `chainlink:1:${FEED_ETH}`, 3000n * E18), price("ETH", "http:b", hi));
      });
    // (3030 − 3000) / 3000 = 100 bps = policy default
    expect(names(snapshotOf(ethFrom(3030n * E18)))).not.toContain("PRICE_DIVERGENCE");
    const above = snapshotOf(ethFrom(3030n * E18 + 1n));
    expect(names(above)).toEqual(["PRICE_DIVERGENCE"]);
    expect(reasonOf(above, "PRICE_DIVERGENCE")).toMatch(/ETH 101 bps/);
  });

  it("UNPROVEN_OWNERSHIP: raised when status-1 items exist, naming the holder", () => {
    const s = snapshotOf(readingsWith((r) => (r.ownership[1]!.proven = false)));
    expect(names(s)).toEqual(["UNPROVEN_OWNERSHIP"]);
    expect(reasonOf(s, "UNPROVEN_OWNERSHIP")).toContain(H2);
    expect(reasonOf(s, "UNPROVEN_OWNERSHIP")).toMatch(/20000\.00 USD/);
    expect(s.flagBits).toBe(8n);
  });

  it("OFFCHAIN_SHARE_HIGH: not at exactly the limit, raised just above it", () => {
    // on-chain 650,000; off-chain 650,000 (65,000,000 cents) → exactly 5000 bps
    const at = snapshotOf(withStatement(65_000_000n));
    expect(names(at)).not.toContain("OFFCHAIN_SHARE_HIGH");
    const above = snapshotOf(withStatement(65_000_001n));
    expect(names(above)).toEqual(["OFFCHAIN_SHARE_HIGH"]);
    expect(above.flagBits).toBe(16n);
  });

  it("OFFCHAIN_SHARE_HIGH: not raised when there are no counted reserves", () => {
    const s = snapshotOf(
      readingsWith((r) => {
        for (const h of r.holdings) h.result = { ok: false, reason: "down" };
        r.statements = [];
      }),
    );
    expect(s.totals.reservesUsd).toBe(0n);
    expect(names(s)).toEqual(["UNDERCOLLATERALIZED", "STALE_SOURCE"]);
    expect(s.flagBits).toBe(3n);
  });

  it("takes later rules (bits 5-9) with the same context and the previous attestation", () => {
    const s = snapshotOf(readingsWith((r) => (r.ownership[1]!.proven = false)));
    const seenPrevious: unknown[] = [];
    const reserveDrop: FlagRule = (ctx) => {
      seenPrevious.push(ctx.previous);
      return ctx.totals.reservesUsd < 1_000_000n * E18 ? raiseFlag("RESERVE_DROP", "test rule") : null;
    };
    const { flags, bits } = evaluateFlags(
      {
        issuer,
        readings: baseReadings(),
        prices: s.prices,
        items: s.items,
        liabilities: s.liabilities,
        totals: s.totals,
        previous: null,
        history: [],
        peg: null,
      },
      [reserveDrop, ...FLAG_RULES],
    );
    expect(flags.map((f) => f.bit)).toEqual([3, 8]);
    expect(bits).toBe((1n << 3n) | (1n << 8n));
    expect(seenPrevious).toEqual([null]);
  });
});
