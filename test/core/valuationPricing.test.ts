import { describe, expect, it } from "vitest";
import { priceTick } from "../../core/valuation/priceQuorum.js";
import type { PoolQuote } from "../../core/valuation/readings.js";
import { valueSnapshot } from "../../core/valuation/snapshot.js";
import { baseReadings, E18, issuerInput, makeIssuer, OBSERVED_AT, price, readingsWith } from "./valuationFixture.js";

// Pricing of a whole tick: bands, pool quotes put in USD through their quote asset's quorum, market venues.
const POOL_GOV = "0x9999999999999999999999999999999999999999";
const POOL_AUSD = "0x8888888888888888888888888888888888888888";
const GOV = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const AUSD = "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const GOV_SOURCE = `uniswapV3:1:${POOL_GOV}`;
const AUSD_SOURCE = `uniswapV3:1:${POOL_AUSD}`;

function issuerWith(band: { eth?: Record<string, string>; gov?: Record<string, string> } = {}) {
  const input = issuerInput();
  const assets = (input.assets as Record<string, unknown>[]).map((a) => (a.id === "ETH" ? { ...a, ...band.eth } : a));
  assets.push({
    id: "GOV",
    decimals: 18,
    ...band.gov,
    prices: [{ kind: "uniswapV3", chainId: 1, pool: POOL_GOV, token: GOV, quoteAsset: "ETH" }],
  });
  const liabilities = input.liabilities as { supply: Record<string, unknown> };
  const marketPrices = [
    { kind: "http", url: "https://m.example/ausd", path: "usd" },
    { kind: "uniswapV3", chainId: 1, pool: POOL_AUSD, token: AUSD, quoteAsset: "USDC" },
  ];
  return makeIssuer({ assets, liabilities: { supply: { ...liabilities.supply, marketPrices } } });
}

const pool = (asset: string, source: string, quoteAsset: string, price18: bigint): PoolQuote => ({
  asset,
  source,
  quoteAsset,
  result: { ok: true, value: { price18, updatedAt: OBSERVED_AT - 12n } },
});

/** The base tick plus half an ETH per GOV, AUSD at 0.999 USDC in its pool and 1.001 USD over HTTP. */
const tick = () =>
  readingsWith((r) => {
    r.pools = [pool("GOV", GOV_SOURCE, "ETH", E18 / 2n), pool("AUSD", AUSD_SOURCE, "USDC", (999n * E18) / 1000n)];
    r.marketPrices = [price("AUSD", "http:https://m.example/ausd", (1001n * E18) / 1000n)];
  });

describe("priceTick", () => {
  it("puts a pool quote in USD at its quote asset's quorum, and gives the pooled asset its own quorum", () => {
    const priced = priceTick(issuerWith(), tick());
    expect(priced.quorums.map((q) => [q.asset, q.priceUsd, q.method])).toEqual([
      ["USD", E18, "single"],
      ["USDC", E18, "single"],
      ["ETH", 3000n * E18, "median"],
      ["GOV", 1500n * E18, "single"],
    ]);
    expect(priced.quorums[3]!.used).toEqual([GOV_SOURCE]);
    // Reserve assets in configuration order, the pool quote with its asset.
    expect(priced.observations.map((o) => o.asset)).toEqual(["USD", "USDC", "ETH", "ETH", "ETH", "GOV"]);
    expect(priced.marketPrices.map((o) => [o.source, o.result])).toEqual([
      [
        "http:https://m.example/ausd",
        { ok: true, value: { priceUsd: (1001n * E18) / 1000n, updatedAt: OBSERVED_AT - 60n } },
      ],
      [AUSD_SOURCE, { ok: true, value: { priceUsd: (999n * E18) / 1000n, updatedAt: OBSERVED_AT - 12n } }],
    ]);
  });

  it("fails an out-of-band answer before a pool quote uses it", () => {
    const issuer = issuerWith({ eth: { minPriceUsd: (2995n * E18).toString() } });
    const priced = priceTick(issuer, tick());
    const eth = priced.quorums.find((q) => q.asset === "ETH")!;
    // 2990 is below the band: the lower of 3000 and 3010 is ETH's price, and GOV's quote.
    expect(eth).toMatchObject({
      priceUsd: 3000n * E18,
      method: "lower",
      used: [`chainlink:1:0x5f4ec3df9cbd43714fe2740f5e3616155c5b8419`, "http:https://a.example/eth"],
    });
    expect(eth.rejected).toEqual([
      {
        source: "http:https://b.example/eth",
        reason: `price ${2990n * E18} is below minPriceUsd ${2995n * E18} (the asset's sanity band); treated as a failed read`,
      },
    ]);
    expect(priced.quorums.find((q) => q.asset === "GOV")!.priceUsd).toBe(1500n * E18);
  });

  it("screens a pool quote in USD against its own asset's band", () => {
    const issuer = issuerWith({ gov: { maxPriceUsd: (1000n * E18).toString() } });
    const gov = priceTick(issuer, tick()).quorums.find((q) => q.asset === "GOV")!;
    expect(gov).toMatchObject({ priceUsd: null, method: "none" });
    expect(gov.rejected).toEqual([
      {
        source: GOV_SOURCE,
        reason: `price ${1500n * E18} is above maxPriceUsd ${1000n * E18} (the asset's sanity band); treated as a failed read`,
      },
    ]);
  });

  it("fails a pool quote whose quote asset has no price, naming it", () => {
    const readings = tick();
    readings.prices = readings.prices.filter((o) => o.asset !== "ETH");
    const gov = priceTick(issuerWith(), readings).quorums.find((q) => q.asset === "GOV")!;
    expect(gov.rejected).toEqual([{ source: GOV_SOURCE, reason: "quote asset ETH has no chosen price" }]);
  });

  it("is what valueSnapshot prices with: the market pool reaches the peg, the pooled asset the report", () => {
    const issuer = issuerWith();
    const valued = valueSnapshot({ issuer, readings: tick() });
    expect(valued.ok).toBe(true);
    if (!valued.ok) return;
    expect(valued.snapshot.prices).toEqual(priceTick(issuer, tick()).quorums);
    expect(valued.snapshot.peg).toMatchObject({ venues: 2, marketPriceUsd: (999n * E18) / 1000n, deviationBps: 10n });
  });

  it("changes nothing for readings without pools (the base tick)", () => {
    const issuer = makeIssuer();
    expect(priceTick(issuer, baseReadings()).quorums.map((q) => q.priceUsd)).toEqual([E18, E18, 3000n * E18]);
  });
});
