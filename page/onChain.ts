/**
 * The on-chain publication of an issuer, read from `GET .../relayer`. Pure.
 * The route grows over time (the on-chain copy's own validity may be served
 * by newer publishers); what is not served is derived from the attestation
 * the relayer last submitted, and the page says which.
 */

export interface RelayAttempt {
  sequence: string;
  attempt: number;
  status: string;
  txHash: string | null;
  gasUsed: string | null;
  reason: string;
  at: number;
}

export interface OnChainCopy {
  sequence: string;
  observedAt: bigint | null;
  validUntil: bigint | null;
  /**
   * "publisher": read on-chain by the relayer route; "relayLog": the route could not read the chain and
   * names the last attestation it submitted (a lower bound); "derived": from the submitted attestation's own fields.
   */
  source: "publisher" | "relayLog" | "derived";
}

export interface OnChainStatus {
  configured: boolean;
  chainId: number | null;
  chainName: string | null;
  oracle: string | null;
  feed: string | null;
  heartbeatSeconds: number | null;
  attempts: RelayAttempt[];
  lastSubmitted: string | null;
  copy: OnChainCopy | null;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === "string" ? v : null);
const int = (v: unknown) => (typeof v === "number" && Number.isInteger(v) ? v : null);
const seconds = (v: unknown): bigint | null =>
  typeof v === "string" && /^\d+$/.test(v)
    ? BigInt(v)
    : typeof v === "number" && Number.isInteger(v)
      ? BigInt(v)
      : null;

/**
 * The copy the relayer route read on-chain (`onchain`, see the RelayerStatus
 * schema in /openapi.json): "none" when the oracle holds nothing for the
 * issuer, null when the route does not say (an older publisher).
 */
function servedCopy(body: Json): OnChainCopy | "none" | null {
  const c = body.onchain;
  if (!isObject(c)) return null;
  const sequence = str(c.sequence);
  if (sequence === null) return c.source === "chain" ? "none" : null;
  const source = c.source === "relayLog" ? "relayLog" : "publisher";
  return { sequence, observedAt: seconds(c.observedAt), validUntil: seconds(c.validUntil), source };
}

/**
 * Reads a relayer answer. `attestationTimes` gives observedAt / validUntil of
 * a sequence when the page has it (from the history), for the derived copy.
 */
export function readOnChain(
  body: unknown,
  attestationTimes: (sequence: string) => { observedAt: bigint; validUntil: bigint } | null,
  _now: bigint,
): OnChainStatus {
  const b = isObject(body) ? body : {};
  const attempts = Array.isArray(b.attempts) ? (b.attempts.filter(isObject) as unknown as RelayAttempt[]) : [];
  const lastSubmitted = str(b.lastSubmitted) ?? attempts.find((a) => a.status === "submitted")?.sequence ?? null;
  const served = servedCopy(b);
  let copy = served === "none" ? null : served;
  if (copy !== null && copy.observedAt === null) {
    // An older publisher names the sequence the oracle holds, not when it was observed: the signed attestation says that.
    const times = attestationTimes(copy.sequence);
    if (times !== null) copy = { ...copy, observedAt: times.observedAt };
  }
  if (served === null && lastSubmitted !== null) {
    const times = attestationTimes(lastSubmitted);
    copy = {
      sequence: lastSubmitted,
      observedAt: times?.observedAt ?? null,
      validUntil: times?.validUntil ?? null,
      source: "derived",
    };
  }
  return {
    configured: b.configured === true,
    chainId: int(b.chainId),
    chainName: str(b.chainName),
    oracle: str(b.oracle),
    feed: str(b.feed),
    heartbeatSeconds: int(b.heartbeatSeconds),
    attempts,
    lastSubmitted,
    copy,
  };
}
