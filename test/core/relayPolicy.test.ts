import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../core/config/parseConfig.js";
import {
  type OnchainState,
  type RelayCandidate,
  type RelayPolicy,
  relayDecision,
  relayMarginSeconds,
} from "../../core/relayPolicy.js";

const policy: RelayPolicy = { heartbeatSeconds: 300, ratioChangeBps: 10, marginSeconds: 120 };
const onchain: OnchainState = { sequence: 5n, observedAt: 1000n, validUntil: 1600n, ratioBps: 10500, flags: 0n };
const next = (over: Partial<RelayCandidate> = {}): RelayCandidate => ({
  sequence: 6n,
  observedAt: 1060n,
  validUntil: 1660n,
  ratioBps: 10500,
  flags: 0n,
  ...over,
});

describe("relayDecision", () => {
  it("relays the first attestation an oracle sees", () => {
    expect(relayDecision(null, next(), 1060n, policy).relay).toBe(true);
  });

  it("never relays what the oracle already holds, or an expired attestation", () => {
    expect(relayDecision(onchain, next({ sequence: 5n }), 1060n, policy)).toMatchObject({
      relay: false,
      why: expect.stringMatching(/already holds #5/),
    });
    expect(relayDecision(onchain, next({ validUntil: 1059n, flags: 1n }), 1060n, policy)).toMatchObject({
      relay: false,
      why: expect.stringMatching(/expired/),
    });
  });

  it("relays on a flag change, a ratio move at the threshold, or a due heartbeat", () => {
    expect(relayDecision(onchain, next({ flags: 2n }), 1060n, policy).relay).toBe(true);
    expect(relayDecision(onchain, next({ ratioBps: 10510 }), 1060n, policy).relay).toBe(true);
    expect(relayDecision(onchain, next({ ratioBps: 10491 }), 1060n, policy).relay).toBe(false);
    expect(relayDecision(onchain, next(), 1299n, policy).relay).toBe(false);
    expect(relayDecision(onchain, next({ validUntil: 2000n }), 1300n, policy)).toMatchObject({
      relay: true,
      why: expect.stringMatching(/heartbeat/),
    });
  });

  it("relays when the on-chain copy would expire within the margin, with or without a heartbeat", () => {
    const noHeartbeat: RelayPolicy = { ratioChangeBps: 10, marginSeconds: 120 };
    // 121 s left: the next tick plus a relay still lands in time
    expect(relayDecision(onchain, next({ validUntil: 2000n }), 1479n, noHeartbeat)).toMatchObject({
      relay: false,
      why: expect.stringMatching(/no heartbeat.*121 s/),
    });
    expect(relayDecision(onchain, next({ validUntil: 2000n }), 1480n, noHeartbeat)).toMatchObject({
      relay: true,
      why: expect.stringMatching(/expiry: the on-chain #5 expires in 120 s, within the 120 s margin/),
    });
    // already expired (a publisher outage): the fresher one goes up as soon as there is one
    expect(relayDecision(onchain, next({ validUntil: 2000n }), 1700n, noHeartbeat)).toMatchObject({
      relay: true,
      why: expect.stringMatching(/expired 100 s ago/),
    });
    // the margin, not the heartbeat, decides when the heartbeat is longer
    expect(
      relayDecision(onchain, next({ validUntil: 2000n }), 1480n, { ...policy, heartbeatSeconds: 3600 }).relay,
    ).toBe(true);
  });

  it("does not spend gas on a candidate that would not outlive the copy it replaces", () => {
    const noHeartbeat: RelayPolicy = { ratioChangeBps: 10, marginSeconds: 120 };
    expect(relayDecision(onchain, next({ validUntil: 1600n }), 1500n, noHeartbeat).relay).toBe(false);
  });
});

describe("relayMarginSeconds", () => {
  it("is the tick plus the relay allowance, or the slowest measured relay when that is slower", () => {
    expect(relayMarginSeconds({ tickSeconds: 60, relaySeconds: 60 })).toBe(120);
    expect(relayMarginSeconds({ tickSeconds: 60, relaySeconds: 60 }, 20)).toBe(120);
    expect(relayMarginSeconds({ tickSeconds: 60, relaySeconds: 60 }, 95)).toBe(155);
  });
});

/**
 * A quiet period simulated event by event: an attestation every tick (valid
 * ttl), each relay decided at publish time and landing `delay` later. With
 * any timing the configuration check accepts and relays no slower than
 * relaySeconds, the on-chain copy is valid up to every next event, forever.
 */
describe("a quiet period under any accepted timing", () => {
  const timing = fc
    .record({
      tick: fc.integer({ min: 5, max: 900 }),
      relay: fc.integer({ min: 1, max: 900 }),
      extra: fc.integer({ min: 1, max: 3600 }),
      heartbeat: fc.option(fc.integer({ min: 1, max: 7200 }), { nil: undefined }),
      delays: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 }),
    })
    .map((t) => ({ ...t, ttl: t.tick + t.relay + t.extra }));

  const accepted = (t: { tick: number; relay: number; ttl: number; heartbeat: number | undefined }) => {
    try {
      parseConfig({
        version: 1,
        chains: [{ chainId: 1, rpcUrls: ["https://rpc.example"] }],
        issuers: [
          {
            id: "x",
            name: "X",
            assets: [
              {
                id: "USD",
                decimals: 6,
                pegCurrency: true,
                prices: [{ kind: "fixed", priceUsd: "1000000000000000000" }],
              },
            ],
            liabilities: { ledger: { assets: ["USD"] } },
            reserves: {},
            policy: { ttlSeconds: t.ttl },
            relayer: {
              chainId: 1,
              oracle: `0x${"ee".repeat(20)}`,
              keySecret: "RELAYER_KEY",
              tickSeconds: t.tick,
              relaySeconds: t.relay,
              ...(t.heartbeat === undefined ? {} : { heartbeatSeconds: t.heartbeat }),
            },
          },
        ],
      });
      return true;
    } catch {
      return false;
    }
  };

  it("never lets the copy expire", () => {
    fc.assert(
      fc.property(timing, (t) => {
        fc.pre(accepted(t));
        const p: RelayPolicy = {
          heartbeatSeconds: t.heartbeat,
          ratioChangeBps: 1,
          marginSeconds: relayMarginSeconds({ tickSeconds: t.tick, relaySeconds: t.relay }),
        };
        const horizon = 4 * t.ttl + 10 * t.tick;
        let copy: OnchainState | null = null;
        const landings: { at: number; state: OnchainState }[] = [];
        for (let k = 0, now = 0; now <= horizon; k++, now += t.tick) {
          // land every relay due before this tick, checking the copy was valid up to each landing
          for (const l of landings.sort((x, y) => x.at - y.at).splice(0, landings.filter((x) => x.at <= now).length)) {
            if (copy && copy.validUntil < BigInt(Math.ceil(l.at))) return false;
            if (!copy || l.state.sequence > copy.sequence) copy = l.state;
          }
          if (copy && copy.validUntil < BigInt(now)) return false;
          const candidate = {
            sequence: BigInt(k + 1),
            observedAt: BigInt(now),
            validUntil: BigInt(now + t.ttl),
            ratioBps: 10500,
            flags: 0n,
          };
          if (relayDecision(copy, candidate, BigInt(now), p).relay) {
            landings.push({ at: now + t.delays[k % t.delays.length]! * t.relay, state: candidate });
          }
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
