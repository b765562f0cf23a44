import { describe, expect, it } from "vitest";
import { relayDecision, type OnchainState, type RelayCandidate } from "../../core/relayPolicy.js";

const policy = { heartbeatSeconds: 300, ratioChangeBps: 10 };
const onchain: OnchainState = { sequence: 5n, observedAt: 1000n, ratioBps: 10500, flags: 0n };
const next = (over: Partial<RelayCandidate> = {}): RelayCandidate => ({
  sequence: 6n,
  observedAt: 1060n,
  validUntil: 1300n,
  ratioBps: 10500,
  flags: 0n,
  ...over,
});

describe("relayDecision", () => {
  it("relays the first attestation an oracle sees", () => {
    expect(relayDecision(null, next(), 1060n, policy).relay).toBe(true);
  });

  it("never relays what the oracle already holds, or an expired attestation", () => {
    expect(relayDecision(onchain, next({ sequence: 5n }), 1060n, policy)).toMatchObject({ relay: false, why: expect.stringMatching(/already holds #5/) });
    expect(relayDecision(onchain, next({ validUntil: 1059n, flags: 1n }), 1060n, policy)).toMatchObject({ relay: false, why: expect.stringMatching(/expired/) });
  });

  it("relays on a flag change, a ratio move at the threshold, or a due heartbeat", () => {
    expect(relayDecision(onchain, next({ flags: 2n }), 1060n, policy).relay).toBe(true);
    expect(relayDecision(onchain, next({ ratioBps: 10510 }), 1060n, policy).relay).toBe(true);
    expect(relayDecision(onchain, next({ ratioBps: 10491 }), 1060n, policy).relay).toBe(false);
    expect(relayDecision(onchain, next(), 1299n, policy).relay).toBe(false);
    expect(relayDecision(onchain, next({ validUntil: 2000n }), 1300n, policy)).toMatchObject({ relay: true, why: expect.stringMatching(/heartbeat/) });
  });
});
