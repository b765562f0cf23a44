/**
 * Fault injection, RPC providers (issue #8 item 1): the demo world's chain
 * reached through a channel of the test RPC proxy that is made to fail.
 * demo-stable's liabilities are its on-chain supply, so a chain that cannot
 * be read must publish nothing; every scenario then checks that the next
 * healthy tick publishes the next sequence and that history verifies.
 */
import { describe, expect, it } from "vitest";
import {
  config,
  essentials,
  expectNothingStored,
  healthyTick,
  leakedUrls,
  type ProxyCommand,
  rpcChannel,
  storeState,
  tick,
  verifyHistory,
  withChain,
} from "./faultsSupport.js";

const ISSUER = "demo-stable";

/** Breaks the channel with `fault`, runs a tick through it, and expects a refusal that stored nothing. */
async function refusedThrough(name: string, fault: ProxyCommand, chain: Partial<(typeof config.chains)[number]> = {}) {
  const rpc = await rpcChannel(name);
  const cfg = withChain(config, { rpcUrls: [rpc.url], ...chain });
  const before = await storeState(ISSUER);
  await rpc.control(fault);
  let reason: string;
  try {
    const outcome = await tick(cfg, ISSUER);
    expect(outcome.published).toBe(false);
    reason = outcome.published ? "" : outcome.reason;
  } finally {
    await rpc.heal();
  }
  await expectNothingStored(ISSUER, before);
  expect(leakedUrls(reason)).toEqual([]);
  // The same channel, healed, serves the next healthy tick.
  await healthyTick(ISSUER, cfg);
  return reason;
}

describe("faults: RPC providers (demo-stable, liabilities on chain)", () => {
  it("a healthy tick publishes first (the baseline every scenario recovers to)", async () => {
    await healthyTick(ISSUER);
  });

  it("faults: RPC down → nothing published (liabilities unknown), next tick recovers", async () => {
    const reason = await refusedThrough("rpc-down", { failAfter: 0 });
    expect(reason).toMatch(/liabilit|supply/i);
  });

  it("faults: RPC slower than its timeout → nothing published, next tick recovers", async () => {
    const reason = await refusedThrough("rpc-slow", { delayMs: 1500 }, { timeoutMs: 300 });
    expect(reason).toMatch(/time|took too long/i);
  });

  it("faults: RPC returning JSON-RPC errors → nothing published, next tick recovers", async () => {
    await refusedThrough("rpc-errors", { error: true });
  });

  it("faults: RPC failing eth_call only (block pinned, reads fail) → nothing published", async () => {
    await refusedThrough("rpc-call-errors", { error: true, methods: ["eth_call"] });
  });

  it("faults: RPC returning non-JSON (an HTML error page) → nothing published", async () => {
    await refusedThrough("rpc-html", { garbage: "html" });
  });

  it("faults: RPC returning truncated JSON → nothing published", async () => {
    await refusedThrough("rpc-truncated", { garbage: "truncated" });
  });

  it("faults: RPC returning a result that is not hex → nothing published", async () => {
    await refusedThrough("rpc-bad-result", { garbage: "badResult", methods: ["eth_call"] });
  });

  it("faults: RPC answering under wrong ids → refused, or exactly what a healthy tick publishes", async () => {
    const rpc = await rpcChannel("rpc-wrong-id");
    const cfg = withChain(config, { rpcUrls: [rpc.url] });
    const baseline = essentials(await healthyTick(ISSUER));
    const before = await storeState(ISSUER);
    await rpc.control({ garbage: "wrongId" });
    try {
      const outcome = await tick(cfg, ISSUER);
      if (outcome.published) {
        // The answers' contents are right; only their ids are not: nothing wrong may come of it.
        const reports = await verifyHistory(ISSUER);
        expect(essentials(reports.at(-1))).toEqual(baseline);
      } else {
        await expectNothingStored(ISSUER, before);
      }
    } finally {
      await rpc.heal();
    }
    await healthyTick(ISSUER, cfg);
  });

  it("faults: the first RPC of a chain down, the fallback used → the same attestation as a healthy tick", async () => {
    const down = await rpcChannel("rpc-first-down");
    const backup = await rpcChannel("rpc-fallback");
    await down.control({ failAfter: 0 });
    try {
      const cfg = withChain(config, { rpcUrls: [down.url, backup.url] });
      const viaFallback = await healthyTick(ISSUER, cfg);
      expect((await backup.control({})).forwarded).toBeGreaterThan(0);
      const direct = await healthyTick(ISSUER);
      expect(essentials(viaFallback)).toEqual(essentials(direct));
      expect(viaFallback.reserves.items.map((i: { status: number }) => i.status)).toEqual([0, 0, 0]);
    } finally {
      await down.heal();
    }
  });

  it("faults: a reorg between reads (the pinned block's hash changes) → nothing published", async () => {
    // Pinning takes one request (confirmations 0); every block read after it sees another hash.
    const reason = await refusedThrough("rpc-reorg", { fakeReorgAfter: 1 });
    expect(reason).toMatch(/reorg/);
  });

  it("faults: RPC dying mid-tick after the block is pinned → nothing published", async () => {
    await refusedThrough("rpc-dies", { failAfter: 2 });
  });
});
