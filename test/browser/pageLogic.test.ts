/** The page's display rules that need no browser: number formatting and the status rule. */
import { describe, expect, it } from "vitest";
import type { ReportJson, ReportLookThroughJson } from "../../core/report.js";
import { assetCoverage } from "../../page/coverage.js";
import { dependencyMap, onCycle, simpleCycles } from "../../page/dependencyGraph.js";
import { age, amount, ratio, tokenAmount, usd, usdCompact, usdDelta, usdShort } from "../../page/format.js";
import { issuerStatus } from "../../page/issuerStatus.js";
import { readOnChain } from "../../page/onChain.js";
import { flagWords } from "../../page/plainWords.js";

describe("page formatting", () => {
  it("formats ratios in basis points without floats", () => {
    expect(ratio("10289")).toBe("102.89 %");
    expect(ratio(9999)).toBe("99.99 %");
    expect(ratio(5n)).toBe("0.05 %");
    expect(ratio("1234567")).toBe("12,345.67 %");
    expect(ratio("4294967295")).toBe("∞ (no liabilities)");
  });

  it("formats usd18 values and token amounts exactly", () => {
    expect(usd(1_561_141_867_599_573_510_589_500n)).toBe("$1,561,141.86"); // truncated, never rounded up
    expect(usd(0n)).toBe("$0.00");
    expect(usd(10n ** 18n * 1234n, 0)).toBe("$1,234");
    expect(usdShort(2_887_500n * 10n ** 18n)).toBe("$2.8M");
    expect(usdShort(999n * 10n ** 18n)).toBe("$999");
    expect(amount("250000000000000000000", "18", "ETH")).toBe("250 ETH");
    expect(amount("1128389307", "6", "USD")).toBe("1,128.389307 USD");
    expect(amount("1", "18")).toBe("0.000000000000000001");
    expect(amount("123456", null)).toBe("123,456 base units");
  });

  it("says how long ago, and how long until", () => {
    expect(age(1000, 1002)).toBe("just now");
    expect(age(1000, 1042)).toBe("42 s ago");
    expect(age(1000, 1000 + 150)).toBe("2 min ago");
    expect(age(1000, 1000 + 7200)).toBe("2 h ago");
    expect(age(1000 + 600, 1000)).toBe("in 10 min");
  });
});

describe("issuer status", () => {
  const now = 1_000n;
  it("is stale without an attestation or past validUntil, even when flagged", () => {
    expect(issuerStatus(null, now).status).toBe("stale");
    expect(issuerStatus({ validUntil: 999n, flags: 0n }, now).status).toBe("stale");
    expect(issuerStatus({ validUntil: 999n, flags: 8n }, now).status).toBe("stale");
  });

  it("is flagged when any flag bit is set, healthy otherwise", () => {
    const flagged = issuerStatus({ validUntil: 1_000n, flags: 8n }, now);
    expect(flagged).toEqual({ status: "flagged", why: "flags raised: UNPROVEN_OWNERSHIP" });
    expect(issuerStatus({ validUntil: 2_000n, flags: 0n }, now).status).toBe("healthy");
  });
});

describe("trimmed amounts, one formatter", () => {
  it("keeps dollars to the cent everywhere, signs differences, and compacts only for charts", () => {
    expect(usd(-371_353_912n * 10n ** 12n)).toBe("−$371.35");
    expect(usdDelta(28_997_999_000n * 10n ** 12n)).toBe("+$28,997.99");
    expect(usdDelta(-1n * 10n ** 18n)).toBe("−$1.00");
    expect(usdCompact(1_028_999_999_000_000_000_000_000n)).toBe("$1.02M"); // truncated: a surplus is never rounded into existence
    expect(usdCompact(1_000_002n * 10n ** 18n)).toBe("$1.00M");
    expect(usdCompact(2_887_500n * 10n ** 18n)).toBe("$2.88M");
    expect(usdCompact(850_000n * 10n ** 18n)).toBe("$850k");
    expect(usdCompact(12_345n * 10n ** 18n)).toBe("$12.3k");
    expect(usdCompact(999_99n * 10n ** 16n)).toBe("$999.99");
    expect(usdCompact(-2_500_000n * 10n ** 18n)).toBe("−$2.50M");
  });

  it("trims token amounts to the digits that matter, truncating", () => {
    expect(tokenAmount("214445358445294520302", "18", "ETH")).toBe("214.44 ETH");
    expect(tokenAmount("36092846281753348098", "18", "ETH")).toBe("36.0928 ETH");
    expect(tokenAmount("900371353912", "6", "USD")).toBe("900,371.35 USD");
    expect(tokenAmount("250000000000000000000", "18", "ETH")).toBe("250 ETH");
    expect(tokenAmount("123456789", "18")).toBe("0.0000000001234");
    expect(tokenAmount("0", "18", "ETH")).toBe("0 ETH");
    expect(tokenAmount(-5_000_000n, "6", "USD")).toBe("−5 USD");
  });

  it("words flags plainly and keeps unknown names readable", () => {
    expect(flagWords("UNPROVEN_OWNERSHIP")).toBe("A wallet's ownership is not proven");
    expect(flagWords("SOME_NEW_FLAG")).toBe("some new flag");
  });
});

/** A report with only what coverage and the map read (SPEC §4 field names). */
function report(
  issuer: string,
  items: {
    asset: string;
    amount: string;
    amountRead?: string;
    decimals: string;
    valueUsd: string;
    status: number;
    lookThrough?: ReportLookThroughJson;
  }[],
  liabilities: ReportJson["liabilities"]["assets"],
  totals: [string, string],
): ReportJson {
  return {
    issuer,
    reserves: {
      root: "0x",
      items: items.map((i) => ({
        amount: i.amount,
        valueUsd: i.valueUsd,
        status: i.status,
        priceUsd: i.status === 3 ? "0" : E18.toString(),
        details: {
          kind: "erc20",
          asset: i.asset,
          decimals: i.decimals,
          amountRead: i.amountRead ?? null,
          lookThrough: i.lookThrough ?? null,
          reason: null,
        },
      })),
    },
    prices: [...new Set(items.map((i) => i.asset))].map((asset) => ({ asset, priceUsd: E18.toString() })),
    liabilities: { assets: liabilities },
    totals: { reservesUsd: totals[0], liabilitiesUsd: totals[1] },
  } as unknown as ReportJson;
}
const E18 = 10n ** 18n;
const usd18 = (dollars: bigint) => (dollars * E18).toString();

describe("coverage per asset", () => {
  it("matches reserves to what is owed by asset id, in units, and keeps the rest as not owed in kind", () => {
    // The demo exchange: USD and ETH owed; USD at a custodian, ETH in a hot wallet (and an unproven cold one), USDC owed to nobody.
    const r = report(
      "demo",
      [
        { asset: "ETH", amount: (250n * E18).toString(), decimals: "18", valueUsd: usd18(787_500n), status: 0 },
        { asset: "USDC", amount: "1200000000000", decimals: "6", valueUsd: usd18(1_200_000n), status: 0 },
        { asset: "ETH", amount: (100n * E18).toString(), decimals: "18", valueUsd: usd18(315_000n), status: 1 },
        { asset: "USD", amount: "900000000000", decimals: "6", valueUsd: usd18(900_000n), status: 2 },
      ],
      [
        {
          asset: "USD",
          source: "ledger",
          amount: "900371353912",
          decimals: "6",
          priceUsd: E18.toString(),
          priceMethod: "peg",
          valueUsd: "900371353912000000000000",
        },
        {
          asset: "ETH",
          source: "ledger",
          amount: "213907153718246651902",
          decimals: "18",
          priceUsd: (3150n * E18).toString(),
          priceMethod: "quorum",
          valueUsd: "673807534212476953491300",
        },
      ],
      [usd18(2_887_500n), "1574178888124476953491300"],
    );
    const { rows, total } = assetCoverage(r);
    expect(rows.map((x) => [x.asset, x.kind])).toEqual([
      ["USD", "in-kind"],
      ["ETH", "in-kind"],
      ["USDC", "not-owed"],
    ]);
    const [usdRow, ethRow, usdc] = rows;
    expect(usdRow!.coverageBps).toBe(9995n); // 900,000 / 900,371.35
    expect(usdRow!.surplus).toBe(-371_353_912n);
    expect(usdRow!.surplusUsd).toBe(-371_353_912_000_000_000_000n);
    expect(ethRow!.counted).toBe(250n * E18);
    expect(ethRow!.notCounted).toBe(100n * E18); // read, never covering anything
    expect(ethRow!.coverageBps).toBe(11687n);
    expect(usdc!.countedUsd).toBe(1_200_000n * E18);
    expect(total.coverageBps).toBe(18342n);
  });

  it("backs the issuer's own token by value with every reserve nobody is owed in kind", () => {
    const r = report(
      "demo-stable",
      [
        { asset: "USDC", amount: "902999999999", decimals: "6", valueUsd: "902999999999000000000000", status: 0 },
        { asset: "ETH", amount: (40n * E18).toString(), decimals: "18", valueUsd: usd18(126_000n), status: 0 },
      ],
      [
        {
          asset: "DUSD",
          source: "supply",
          amount: "1000002000000",
          decimals: "6",
          priceUsd: E18.toString(),
          priceMethod: "peg",
          valueUsd: usd18(1_000_002n),
        },
      ],
      ["1028999999999000000000000", usd18(1_000_002n)],
    );
    const { rows } = assetCoverage(r);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      asset: "DUSD",
      kind: "by-value",
      coverageBps: 10289n,
      surplusUsd: 28_997_999_999n * 10n ** 12n,
    });
    expect(rows[0]!.backedBy.map((b) => b.asset)).toEqual(["USDC", "ETH"]);
  });
});

describe("dependency map", () => {
  // Issuers x and y of scenarios/circular.json after the mutual mint: each holds the other's token, excluded as circular.
  // As the publisher reports them: a circular holding has no market price of its own (the asset's price is in `prices`).
  const look = (issuer: string, circular: string[] | null): ReportLookThroughJson => ({
    issuer,
    url: null,
    attestation: null,
    marketPriceUsd: circular ? null : E18.toString(),
    haircutBps: "1123",
    circular,
  });
  const x = report(
    "x",
    [
      { asset: "USDC", amount: "1000000000000", decimals: "6", valueUsd: usd18(1_000_000n), status: 0 },
      // Excluded as circular: amount 0, the amount read kept in amountRead (as the publisher reports it).
      {
        asset: "YUSD",
        amount: "0",
        amountRead: "9000000000000",
        decimals: "6",
        valueUsd: "0",
        status: 3,
        lookThrough: look("y", ["x", "y", "x"]),
      },
    ],
    [],
    [usd18(1_000_000n), usd18(8_900_000n)],
  );
  const y = report(
    "y",
    [
      {
        asset: "XUSD",
        amount: "0",
        amountRead: "8000000000000",
        decimals: "6",
        valueUsd: "0",
        status: 3,
        lookThrough: look("x", ["y", "x", "y"]),
      },
      {
        asset: "EUSD",
        amount: "5000000000",
        decimals: "6",
        valueUsd: usd18(4_000n),
        status: 0,
        lookThrough: { ...look("e", null), url: "https://other.example", haircutBps: "8000" },
      },
    ],
    [],
    [usd18(2_000_000n), usd18(9_900_000n)],
  );

  it("draws an edge per holder and token, weighted at market, with what counts", () => {
    const map = dependencyMap([
      { id: "x", name: "Issuer X", ratioBps: "1123", report: x },
      { id: "y", name: "Issuer Y", ratioBps: "2020", report: y },
      { id: "z", name: "Issuer Z", ratioBps: null, report: null },
    ]);
    expect(map.nodes.map((n) => [n.id, n.external])).toEqual([
      ["x", false],
      ["y", false],
      ["z", false],
      ["e@https://other.example", true],
    ]);
    expect(map.edges.map((e) => [e.from, e.to, e.marketUsd, e.countedUsd])).toEqual([
      ["x", "y", 9_000_000n * E18, 0n],
      ["y", "e@https://other.example", 5_000n * E18, 4_000n * E18],
      ["y", "x", 8_000_000n * E18, 0n],
    ]);
    expect(map.edges[0]!.notes).toEqual(["circular: x → y → x"]);
    expect(map.cycles).toEqual([["x", "y", "x"]]);
    expect(onCycle(map.cycles[0]!, "y", "x")).toBe(true);
    expect(onCycle(map.cycles[0]!, "y", "e@https://other.example")).toBe(false);
  });

  it("finds every simple cycle once, self-holdings included", () => {
    const edges = [
      ["a", "b"],
      ["b", "c"],
      ["c", "a"],
      ["b", "a"],
      ["d", "d"],
      ["c", "e"],
    ].map(([from, to]) => ({ from: from!, to: to! }));
    expect(simpleCycles(edges)).toEqual([
      ["a", "b", "c", "a"],
      ["a", "b", "a"],
      ["d", "d"],
    ]);
    expect(simpleCycles([])).toEqual([]);
  });
});

describe("on-chain publication", () => {
  const now = 10_000n;
  const times = (s: string) => (s === "7" ? { observedAt: 9_000n, validUntil: 9_900n } : null);
  it("derives the on-chain copy from the attestation last relayed when the publisher does not say", () => {
    const status = readOnChain(
      { configured: true, chainId: 1, oracle: "0xabc", heartbeatSeconds: 300, lastSubmitted: "7", attempts: [] },
      times,
      now,
    );
    expect(status).toMatchObject({
      configured: true,
      chainId: 1,
      chainName: null,
      feed: null,
      copy: { sequence: "7", observedAt: 9_000n, validUntil: 9_900n, source: "derived" },
    });
  });

  it("takes the copy the relayer route read on-chain, with its age, and says when only the relay log was read", () => {
    // The shape GET /v1/issuers/{issuer}/relayer serves (RelayerStatus.onchain).
    const onchain = {
      source: "chain",
      sequence: "8",
      observedAt: 9_500,
      validUntil: 12_000,
      remainingSeconds: 2_000,
      expired: false,
    };
    expect(readOnChain({ configured: true, lastSubmitted: "7", onchain }, times, now).copy).toEqual({
      sequence: "8",
      observedAt: 9_500n,
      validUntil: 12_000n,
      source: "publisher",
    });
    const fromLog = { ...onchain, source: "relayLog", sequence: "7", chainError: "connection refused" };
    expect(readOnChain({ configured: true, lastSubmitted: "7", onchain: fromLog }, times, now).copy).toMatchObject({
      sequence: "7",
      source: "relayLog",
    });
    // The oracle holds nothing for the issuer: nothing on-chain, whatever the relay log says.
    const empty = {
      source: "chain",
      sequence: null,
      observedAt: null,
      validUntil: null,
      remainingSeconds: null,
      expired: null,
    };
    expect(readOnChain({ configured: true, lastSubmitted: "7", onchain: empty }, times, now).copy).toBeNull();
  });

  it("says nothing is on-chain, or nothing is configured, without guessing", () => {
    expect(readOnChain({ configured: true, attempts: [] }, times, now).copy).toBeNull();
    expect(readOnChain({ configured: false, attempts: [] }, times, now).configured).toBe(false);
    expect(readOnChain("not json", times, now).configured).toBe(false);
  });
});
