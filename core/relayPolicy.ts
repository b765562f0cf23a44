/**
 * When to put a new attestation on-chain: only when it tells a contract
 * something new (ratio or flags changed) or the on-chain one is getting old
 * (heartbeat) — every submit costs gas.
 */
export interface OnchainState {
  sequence: bigint;
  observedAt: bigint;
  ratioBps: number;
  flags: bigint;
}

export interface RelayCandidate {
  sequence: bigint;
  observedAt: bigint;
  validUntil: bigint;
  ratioBps: number;
  flags: bigint;
}

export interface RelayPolicy {
  heartbeatSeconds: number;
  ratioChangeBps: number;
}

export type RelayDecision = { relay: boolean; why: string };

export function relayDecision(onchain: OnchainState | null, next: RelayCandidate, now: bigint, policy: RelayPolicy): RelayDecision {
  if (onchain && onchain.sequence >= next.sequence) {
    return { relay: false, why: `the oracle already holds #${onchain.sequence}` };
  }
  if (next.validUntil < now) return { relay: false, why: `#${next.sequence} expired at ${next.validUntil}; the oracle would refuse it` };
  if (!onchain) return { relay: true, why: "the oracle holds no attestation of this issuer yet" };
  if (next.flags !== onchain.flags) {
    return { relay: true, why: `flags changed from ${onchain.flags} to ${next.flags}` };
  }
  const move = Math.abs(next.ratioBps - onchain.ratioBps);
  if (move >= Math.max(1, policy.ratioChangeBps)) {
    return { relay: true, why: `ratio moved ${move} bps (${onchain.ratioBps} → ${next.ratioBps})` };
  }
  const age = now - onchain.observedAt;
  if (age >= BigInt(policy.heartbeatSeconds)) {
    return { relay: true, why: `heartbeat: the on-chain attestation is ${age} s old (heartbeat ${policy.heartbeatSeconds} s)` };
  }
  return { relay: false, why: `no change since #${onchain.sequence} and the heartbeat is not due (${age} of ${policy.heartbeatSeconds} s)` };
}
