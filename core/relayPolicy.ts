/**
 * When to put a new attestation on-chain: when it tells a contract something
 * new (ratio or flags changed), when the on-chain copy would expire before
 * the next chance to replace it, or when the heartbeat is due — every submit
 * costs gas, but an expired copy freezes every contract that reads it while
 * HTTP readers see a fresh attestation.
 */
export interface OnchainState {
  sequence: bigint;
  observedAt: bigint;
  validUntil: bigint;
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
  /** Relay without a change once the on-chain copy is this old; absent: only the expiry margin refreshes it. */
  heartbeatSeconds?: number;
  ratioChangeBps: number;
  /**
   * How long before its validUntil the on-chain copy must be replaced: the
   * time to the next tick plus the time a relay takes (relayMarginSeconds).
   */
  marginSeconds: number;
}

/** The relayer's settings that make up the expiry margin (core/config/relayerSchema.ts). */
export interface RelayTiming {
  tickSeconds: number;
  relaySeconds: number;
}

/**
 * Seconds before expiry at which the on-chain copy is replaced: a relay
 * skipped now gets its next chance one tick later, and that one lands after
 * the relay time. The slowest relay measured lately counts when it is slower
 * than the configured allowance.
 */
export function relayMarginSeconds(timing: RelayTiming, measuredRelaySeconds: number | null = null): number {
  return timing.tickSeconds + Math.max(timing.relaySeconds, measuredRelaySeconds ?? 0);
}

export type RelayDecision = { relay: boolean; why: string };

export function relayDecision(
  onchain: OnchainState | null,
  next: RelayCandidate,
  now: bigint,
  policy: RelayPolicy,
): RelayDecision {
  if (onchain && onchain.sequence >= next.sequence) {
    return { relay: false, why: `the oracle already holds #${onchain.sequence}` };
  }
  if (next.validUntil < now)
    return { relay: false, why: `#${next.sequence} expired at ${next.validUntil}; the oracle would refuse it` };
  if (!onchain) return { relay: true, why: "the oracle holds no attestation of this issuer yet" };
  if (next.flags !== onchain.flags) {
    return { relay: true, why: `flags changed from ${onchain.flags} to ${next.flags}` };
  }
  const move = Math.abs(next.ratioBps - onchain.ratioBps);
  if (move >= Math.max(1, policy.ratioChangeBps)) {
    return { relay: true, why: `ratio moved ${move} bps (${onchain.ratioBps} → ${next.ratioBps})` };
  }
  const left = onchain.validUntil - now;
  if (left <= BigInt(policy.marginSeconds) && next.validUntil > onchain.validUntil) {
    const state = left < 0n ? `expired ${-left} s ago` : `expires in ${left} s`;
    return {
      relay: true,
      why: `expiry: the on-chain #${onchain.sequence} ${state}, within the ${policy.marginSeconds} s margin (next tick + relay time)`,
    };
  }
  const age = now - onchain.observedAt;
  if (policy.heartbeatSeconds !== undefined && age >= BigInt(policy.heartbeatSeconds)) {
    return {
      relay: true,
      why: `heartbeat: the on-chain attestation is ${age} s old (heartbeat ${policy.heartbeatSeconds} s)`,
    };
  }
  const heartbeat =
    policy.heartbeatSeconds === undefined ? "no heartbeat" : `heartbeat at ${age} of ${policy.heartbeatSeconds} s`;
  return {
    relay: false,
    why: `no change since #${onchain.sequence}, ${heartbeat}, and it stays valid ${left} s (margin ${policy.marginSeconds} s)`,
  };
}
