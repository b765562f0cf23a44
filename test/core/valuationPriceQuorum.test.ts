import { describe, expect, it } from "vitest";
import { priceQuorum } from "../../core/valuation/priceQuorum.js";
import type { PriceObservation } from "../../core/valuation/readings.js";

const ok = (source: string, priceUsd: bigint, asset = "ETH"): PriceObservation => ({
  asset,
  source,
  result: { ok: true, value: { priceUsd } },
});
const bad = (source: string, reason: string): PriceObservation => ({
  asset: "ETH",
  source,
  result: { ok: false, reason },
});

describe("priceQuorum", () => {
  it("takes the median of three, whatever the input order", () => {
    const q = priceQuorum("ETH", [ok("a", 3010n), ok("b", 2990n), ok("c", 3000n)], 100);
    expect(q.priceUsd).toBe(3000n);
    expect(q.method).toBe("median");
    expect(q.used).toEqual(["a", "b", "c"]);
    expect(q.reason).toBeNull();
  });

  it("takes the lower middle value for an even count, never an average", () => {
    // sorted: 10, 20, 30, 40 → lower middle is 20 (an average would be 25)
    const q = priceQuorum("ETH", [ok("a", 40n), ok("b", 10n), ok("c", 30n), ok("d", 20n)], 1_000_000);
    expect(q.priceUsd).toBe(20n);
    expect(q.method).toBe("median");
  });

  it("takes the lower of two and the only one of one", () => {
    expect(priceQuorum("ETH", [ok("a", 1001n), ok("b", 1000n)], 100)).toMatchObject({
      priceUsd: 1000n,
      method: "lower",
    });
    expect(priceQuorum("ETH", [ok("a", 1234n)], 100)).toMatchObject({
      priceUsd: 1234n,
      method: "single",
      divergenceBps: 0n,
      divergent: false,
    });
  });

  it("leaves an asset unpriced, with a reason, when nothing answers", () => {
    const none = priceQuorum("ETH", [ok("a", 5n, "BTC")], 100);
    expect(none).toMatchObject({ priceUsd: null, method: "none", used: [], rejected: [] });
    expect(none.reason).toMatch(/no price source answered for ETH/);

    const failed = priceQuorum("ETH", [bad("a", "timeout"), bad("b", "HTTP 500")], 100);
    expect(failed).toMatchObject({ priceUsd: null, method: "none" });
    expect(failed.rejected).toEqual([
      { source: "a", reason: "timeout" },
      { source: "b", reason: "HTTP 500" },
    ]);
    expect(failed.reason).toMatch(/every price source of ETH failed/);
  });

  it("counts only ok observations", () => {
    const q = priceQuorum("ETH", [ok("a", 3000n), bad("b", "stale: updatedAt 1h ago"), ok("c", 3100n)], 1000);
    expect(q).toMatchObject({ priceUsd: 3000n, method: "lower", used: ["a", "c"] });
    expect(q.rejected).toEqual([{ source: "b", reason: "stale: updatedAt 1h ago" }]);
  });

  it("treats a zero price as a failed observation, never a value", () => {
    const q = priceQuorum("ETH", [ok("a", 0n), ok("b", 3000n)], 100);
    expect(q).toMatchObject({ priceUsd: 3000n, method: "single", used: ["b"] });
    expect(q.rejected[0]?.source).toBe("a");
    expect(q.rejected[0]?.reason).toMatch(/zero/);
    expect(priceQuorum("ETH", [ok("a", 0n)], 100)).toMatchObject({ priceUsd: null, method: "none" });
  });

  it("counts a source that answers twice only once", () => {
    const q = priceQuorum("ETH", [ok("a", 1n), ok("a", 1n), ok("b", 100n), ok("c", 100n)], 1_000_000);
    // without the duplicate a would drag the lower median of (1,1,100,100) down to 1
    expect(q).toMatchObject({ priceUsd: 100n, method: "median", used: ["a", "b", "c"] });
  });

  it("divergence exactly at the tolerance is not divergent; just above is", () => {
    // (10100 - 10000) × 10000 / 10000 = 100 bps
    const at = priceQuorum("ETH", [ok("a", 10_000n), ok("b", 10_100n)], 100);
    expect(at).toMatchObject({ divergenceBps: 100n, divergent: false });
    // (10101 - 10000) × 10000 / 10000 = 101 bps
    expect(priceQuorum("ETH", [ok("a", 10_000n), ok("b", 10_101n)], 100)).toMatchObject({
      divergenceBps: 101n,
      divergent: true,
    });
    // 100.0001 bps: a hair above the tolerance still counts (rounded up, not down to 100)
    const hair = priceQuorum("ETH", [ok("a", 10_000_000n), ok("b", 10_100_001n)], 100);
    expect(hair).toMatchObject({ divergenceBps: 101n, divergent: true });
  });

  it("measures divergence from min to max over every accepted source", () => {
    // (3100 - 2900) × 10000 / 2900 = 689.65… → 690 bps
    const q = priceQuorum("ETH", [ok("a", 2900n), ok("b", 3000n), ok("c", 3100n)], 500);
    expect(q).toMatchObject({ priceUsd: 3000n, divergenceBps: 690n, divergent: true });
  });
});
