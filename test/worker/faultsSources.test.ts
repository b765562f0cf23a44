/**
 * Fault injection, price and on-chain sources (issue #8 item 1): an HTTP
 * price source (publishTick's fetchFn) answering garbage, zero, a negative or
 * a huge number; an on-chain feed that is not a feed; and single reads failing
 * inside the Multicall3 batch (the test proxy's failCalls): the supply, an
 * escrow balance, one holding.
 */
import { pad } from "viem";
import { describe, expect, it } from "vitest";
import { valueSnapshot } from "../../core/valuation/snapshot.js";
import { demoAccounts } from "../../scripts/demo/world.js";
import { gatherReadings } from "../../worker/sources/gatherReadings.js";
import {
  config,
  essentials,
  expectNothingStored,
  healthyTick,
  latestReport,
  now,
  priceServer,
  type Report,
  rpcChannel,
  storeState,
  tick,
  verifyHistory,
  withChain,
  withHttpPrice,
  withIssuer,
  world,
} from "./faultsSupport.js";

const ISSUER = "demo-stable";
const ethItem = (r: Report) =>
  r.reserves.items.find((i: { label: string }) => i.label.toLowerCase().includes(world.contracts.weth!.toLowerCase()));
const ethQuorum = (r: Report) => r.prices.find((p: { asset: string }) => p.asset === "ETH");
const HUGE = "1000000000000000000000000000000"; // 1e30 USD per ETH
const USD18 = 10n ** 18n;

/** A tick where ETH's HTTP source answers `answer`: the source is rejected, and everything counted is what a healthy tick counts. */
async function rejectedPrice(answer: string, reason: RegExp) {
  const healthy = await healthyTick(ISSUER);
  const outcome = await tick(withHttpPrice(config, ISSUER, "ETH"), ISSUER, { fetchFn: priceServer(() => answer) });
  expect(outcome).toMatchObject({ published: true });
  const { report } = await latestReport(ISSUER);
  await verifyHistory(ISSUER);
  expect(essentials(report).items).toEqual(essentials(healthy).items);
  const observation = ethQuorum(report).observations.find((o: { source: string }) => o.source.startsWith("http:"));
  expect(observation.accepted).toBe(false);
  expect(observation.reason).toMatch(reason);
  expect(report.flags.map((f: { name: string }) => f.name)).toContain("STALE_SOURCE");
  await healthyTick(ISSUER);
}

describe("faults: a price source misbehaving (demo-stable, ETH)", () => {
  it("faults: price source returning garbage (not JSON) → rejected with a reason, nothing else changes", async () => {
    await rejectedPrice("<html>rate limited</html>", /not valid JSON/);
  });

  it("faults: price source returning zero → rejected, nothing else changes", async () => {
    await rejectedPrice(JSON.stringify({ usd: "0" }), /not a positive price/);
  });

  it("faults: price source returning a negative number → rejected, nothing else changes", async () => {
    await rejectedPrice(JSON.stringify({ usd: "-3150" }), /negative/);
  });

  it("faults: price source returning a huge number (1e30 USD) beside two honest ones → the median ignores it, PRICE_DIVERGENCE raised", async () => {
    const healthy = await healthyTick(ISSUER);
    const outcome = await tick(withHttpPrice(config, ISSUER, "ETH"), ISSUER, {
      fetchFn: priceServer(() => JSON.stringify({ usd: HUGE })),
    });
    expect(outcome.published && outcome.flags).toContain("PRICE_DIVERGENCE");
    const { report } = await latestReport(ISSUER);
    await verifyHistory(ISSUER);
    expect(ethQuorum(report).method).toBe("median");
    expect(BigInt(ethItem(report).priceUsd)).toBeLessThan(10_000n * USD18);
    expect(ethItem(report).valueUsd).toBe(ethItem(healthy).valueUsd);
  });

  it("faults: the only price source returning a huge number → maxPriceUsd rejects it: ETH unpriced, its item status 3, STALE_SOURCE", async () => {
    const fetchFn = priceServer(() => JSON.stringify({ usd: HUGE }));
    const band = { minPriceUsd: (1n * USD18).toString(), maxPriceUsd: (1_000_000n * USD18).toString() };
    // without the band the lone source would be believed: reserves worth about 4e31 USD
    const unguarded = withHttpPrice(config, ISSUER, "ETH", { only: true });
    const issuer = unguarded.issuers.find((i) => i.id === ISSUER)!;
    const readings = await gatherReadings({
      issuer,
      chains: unguarded.chains,
      secrets: {},
      statements: [],
      ledger: null,
      now: now(),
      fetchFn,
    });
    const unguardedValue = valueSnapshot({ issuer, readings, previous: null, history: [] });
    expect(unguardedValue.ok && unguardedValue.snapshot.totals.reservesUsd > 10n ** 30n * USD18).toBe(true);

    const guarded = withHttpPrice(config, ISSUER, "ETH", { only: true, band });
    const healthy = await healthyTick(ISSUER);
    const outcome = await tick(guarded, ISSUER, { fetchFn });
    expect(outcome.published && outcome.flags).toContain("STALE_SOURCE");
    const { report, attestation } = await latestReport(ISSUER);
    await verifyHistory(ISSUER);
    expect(ethItem(report).status).toBe(3);
    expect(ethItem(report).valueUsd).toBe("0");
    expect(ethQuorum(report).observations[0].reason).toMatch(/above maxPriceUsd .*sanity band/);
    const counted = (r: Report) =>
      r.reserves.items
        .filter((i: { status: number }) => i.status === 0 || i.status === 2)
        .reduce((s: bigint, i: { valueUsd: string }) => s + BigInt(i.valueUsd), 0n);
    expect(BigInt(attestation.reservesUsd!)).toBe(counted(healthy) - BigInt(ethItem(healthy).valueUsd));
    // an honest answer inside the band counts again
    await healthyTick(
      ISSUER,
      guarded,
      undefined,
      priceServer(() => JSON.stringify({ usd: "3150" })),
    );
    expect(ethItem((await latestReport(ISSUER)).report).status).toBe(0);
  });

  it("faults: an on-chain price feed that is not a feed (garbage answer) → rejected, ETH still priced by its pool", async () => {
    const notAFeed = withIssuer(config, ISSUER, (issuer) => {
      const source = issuer.assets.find((a) => a.id === "ETH")!.prices.find((p) => p.kind === "chainlink")!;
      if (source.kind === "chainlink") source.feed = world.contracts.usdc!;
    });
    const outcome = await tick(notAFeed, ISSUER);
    expect(outcome.published && outcome.flags).toContain("STALE_SOURCE");
    const { report } = await latestReport(ISSUER);
    await verifyHistory(ISSUER);
    expect(ethQuorum(report).method).toBe("single");
    expect(ethItem(report).status).toBe(0);
    await healthyTick(ISSUER);
  });
});

describe("faults: single reads failing in the Multicall3 batch", () => {
  const selector = { totalSupply: "18160ddd", balanceOf: "70a08231" };
  const arg = (address: string) =>
    pad(address as `0x${string}`)
      .slice(2)
      .toLowerCase();

  async function refusedWhenFailing(name: string, failCalls: string) {
    await healthyTick(ISSUER);
    const rpc = await rpcChannel(name);
    const cfg = withChain(config, { rpcUrls: [rpc.url] });
    await rpc.control({ failCalls });
    const before = await storeState(ISSUER);
    const outcome = await tick(cfg, ISSUER);
    expect(outcome.published).toBe(false);
    await expectNothingStored(ISSUER, before);
    await rpc.heal();
    await healthyTick(ISSUER, cfg);
    return outcome.published ? "" : outcome.reason;
  }

  it("faults: supply read failing → nothing published (liabilities unknown)", async () => {
    const reason = await refusedWhenFailing("src-supply", selector.totalSupply);
    expect(reason).toMatch(/totalSupply/);
  });

  it("faults: escrow read failing → nothing published (supply minus a missing escrow would overstate liabilities)", async () => {
    const reason = await refusedWhenFailing("src-escrow", selector.balanceOf + arg(demoAccounts.bridgeEscrow.address));
    expect(reason).toMatch(/balanceOf/);
  });

  it("faults: one holding read failing → that item status 3 with STALE_SOURCE, every other item as a healthy tick has it", async () => {
    const healthy = await healthyTick(ISSUER);
    const rpc = await rpcChannel("src-holding");
    await rpc.control({ failCalls: selector.balanceOf + arg(world.contracts.contractWallet!) });
    const outcome = await tick(withChain(config, { rpcUrls: [rpc.url] }), ISSUER);
    expect(outcome.published && outcome.flags).toContain("STALE_SOURCE");
    const { report } = await latestReport(ISSUER);
    await verifyHistory(ISSUER);
    const items = essentials(report).items;
    const expected = essentials(healthy).items;
    const failed = items.findIndex((i: { label: string }) =>
      i.label.toLowerCase().includes(world.contracts.contractWallet!.toLowerCase()),
    );
    expect(failed).toBeGreaterThanOrEqual(0);
    expect(items[failed]).toMatchObject({ status: 3, valueUsd: "0" });
    expect(items.filter((_: unknown, i: number) => i !== failed)).toEqual(
      expected.filter((_: unknown, i: number) => i !== failed),
    );
    await healthyTick(ISSUER);
  });
});
