import type { AlertEvent } from "../../core/config/alertsSchema.js";
import { FLAGS } from "../../core/flags.js";
import { isoSeconds } from "../../core/time.js";

export type AlertSeverity = "info" | "warning" | "critical";

/** Scalar fields of an alert's `details` (JSON-safe). */
export type AlertDetails = Record<string, string | number | boolean | null | string[]>;

/** One event, before it is stored. `dedupeKey` is unique per issuer: the same event is never stored twice. */
export interface AlertDraft {
  event: AlertEvent;
  severity: AlertSeverity;
  dedupeKey: string;
  sequence: bigint | null;
  title: string;
  text: string;
  details: AlertDetails;
}

/** What detection needs of one attestation: its numbers and, when read, its report's flag reasons. */
export interface AttestationFacts {
  sequence: bigint;
  ratioBps: number;
  flags: bigint;
  /** Flag name → the report's reason, for the flags the report lists. */
  reasons: ReadonlyMap<string, string>;
}

/** 10512 → "105.12%". */
export function formatRatio(bps: number): string {
  return `${Math.floor(bps / 100)}.${String(bps % 100).padStart(2, "0")}%`;
}

const isSet = (bits: bigint, bit: number) => ((bits >> BigInt(bit)) & 1n) === 1n;

/**
 * One alert per SPEC §6 flag that differs between two consecutive
 * attestations: `flag_raised` with the new report's reason, `flag_cleared`
 * with the reason it had been raised for. With no previous attestation,
 * every flag the first one carries counts as raised.
 */
export function flagAlerts(issuerId: string, previous: AttestationFacts | null, next: AttestationFacts): AlertDraft[] {
  const before = previous?.flags ?? 0n;
  const current = FLAGS.filter((f) => isSet(next.flags, f.bit)).map((f) => f.name);
  const out: AlertDraft[] = [];
  for (const flag of FLAGS) {
    const was = isSet(before, flag.bit);
    const now = isSet(next.flags, flag.bit);
    if (was === now) continue;
    const reason = (now ? next.reasons : previous?.reasons)?.get(flag.name) ?? null;
    const details: AlertDetails = {
      flag: flag.name,
      bit: flag.bit,
      meaning: flag.meaning,
      reason,
      sequence: next.sequence.toString(),
      flags: current,
    };
    if (now) {
      out.push({
        event: "flag_raised",
        severity: flag.name === "UNDERCOLLATERALIZED" ? "critical" : "warning",
        dedupeKey: `flag_raised:${flag.name}:${next.sequence}`,
        sequence: next.sequence,
        title: `${issuerId}: ${flag.name} raised`,
        text: `Attestation ${next.sequence} of ${issuerId} raises ${flag.name} (${flag.meaning})${reason ? `: ${reason}` : "."}`,
        details,
      });
    } else {
      out.push({
        event: "flag_cleared",
        severity: "info",
        dedupeKey: `flag_cleared:${flag.name}:${next.sequence}`,
        sequence: next.sequence,
        title: `${issuerId}: ${flag.name} cleared`,
        text: `Attestation ${next.sequence} of ${issuerId} no longer raises ${flag.name}${reason ? ` (it was raised because: ${reason})` : ""}.`,
        details,
      });
    }
  }
  return out;
}

/**
 * One alert per threshold the ratio passed between two consecutive
 * attestations: down when it was at or above and is now below (as
 * UNDERCOLLATERALIZED reads 10000), up the other way.
 */
export function ratioAlerts(
  issuerId: string,
  thresholdsBps: readonly number[],
  previous: AttestationFacts | null,
  next: AttestationFacts,
): AlertDraft[] {
  if (!previous) return [];
  const from = previous.ratioBps;
  const to = next.ratioBps;
  const out: AlertDraft[] = [];
  for (const threshold of [...thresholdsBps].sort((a, b) => a - b)) {
    const down = from >= threshold && to < threshold;
    const up = from < threshold && to >= threshold;
    if (!down && !up) continue;
    const direction = down ? "down" : "up";
    out.push({
      event: "ratio_crossed",
      severity: up ? "info" : to < 10000 ? "critical" : "warning",
      dedupeKey: `ratio_crossed:${threshold}:${direction}:${next.sequence}`,
      sequence: next.sequence,
      title: `${issuerId}: ratio ${down ? "fell below" : "rose to or above"} ${formatRatio(threshold)}`,
      text:
        `The reserve ratio of ${issuerId} went from ${formatRatio(from)} (attestation ${previous.sequence}) ` +
        `to ${formatRatio(to)} (attestation ${next.sequence}), crossing the ${formatRatio(threshold)} threshold ${direction}wards.`,
      details: {
        thresholdBps: threshold,
        direction,
        ratioBps: to,
        previousRatioBps: from,
        sequence: next.sequence.toString(),
        previousSequence: previous.sequence.toString(),
      },
    });
  }
  return out;
}

/**
 * The latest attestation has expired and nothing newer exists. One episode
 * per latest attestation: the key is its sequence, so the watchdog ticking
 * every minute stores (and sends) it once, and the next episode can only
 * start after a new attestation.
 */
export function staleAlert(
  issuerId: string,
  latest: { sequence: bigint; observedAt: bigint; validUntil: bigint },
  now: bigint,
): AlertDraft | null {
  if (latest.validUntil >= now) return null;
  const staleSeconds = now - latest.validUntil;
  return {
    event: "publisher_stale",
    severity: "critical",
    dedupeKey: `publisher_stale:${latest.sequence}`,
    sequence: latest.sequence,
    title: `${issuerId}: no fresh attestation`,
    text:
      `The latest attestation of ${issuerId} (${latest.sequence}, observed ${isoSeconds(latest.observedAt)}) expired at ` +
      `${isoSeconds(latest.validUntil)} and nothing newer has been published (${staleSeconds} s so far).`,
    details: {
      sequence: latest.sequence.toString(),
      observedAt: latest.observedAt.toString(),
      validUntil: latest.validUntil.toString(),
      staleSeconds: staleSeconds.toString(),
    },
  };
}

/**
 * The publisher could not sign. One episode per latest published sequence:
 * a key that stays broken alerts once, not every tick; after the next
 * successful attestation a new failure alerts again.
 */
export function signingFailedAlert(issuerId: string, latestSequence: bigint, reason: string): AlertDraft {
  return {
    event: "signing_failed",
    severity: "critical",
    dedupeKey: `signing_failed:after:${latestSequence}`,
    sequence: latestSequence === 0n ? null : latestSequence,
    title: `${issuerId}: signing failed`,
    text: `The publisher could not sign attestation ${latestSequence + 1n} of ${issuerId}: ${reason.replace(/\.?$/, ".")} Nothing is published until this is fixed.`,
    details: { reason, latestSequence: latestSequence.toString() },
  };
}

/**
 * The oracle's copy of the issuer's attestation has expired (by the later of
 * the chain's and our clock) while a fresher, still valid attestation is
 * published: contracts reading the oracle see EXPIRED while HTTP readers see
 * a valid attestation. One episode per on-chain copy: the key is its sequence.
 */
export function onchainCopyExpiredAlert(
  issuerId: string,
  relayer: { chainId: number; oracle: string },
  onchain: { sequence: bigint; validUntil: bigint },
  latest: { sequence: bigint; validUntil: bigint },
  clock: bigint,
): AlertDraft | null {
  if (onchain.validUntil >= clock || latest.sequence <= onchain.sequence || latest.validUntil < clock) return null;
  const expiredSeconds = clock - onchain.validUntil;
  return {
    event: "onchain_copy_expired",
    severity: "critical",
    dedupeKey: `onchain_copy_expired:${onchain.sequence}`,
    sequence: latest.sequence,
    title: `${issuerId}: on-chain copy expired`,
    text:
      `The SolvencyOracle ${relayer.oracle} on chain ${relayer.chainId} still holds attestation ${onchain.sequence} of ${issuerId}, ` +
      `which expired at ${isoSeconds(onchain.validUntil)} (${expiredSeconds} s ago), while attestation ${latest.sequence} is published and valid until ` +
      `${isoSeconds(latest.validUntil)}: contracts gated on the oracle are frozen. Check the relay attempts at GET /v1/issuers/${issuerId}/relayer ` +
      `and the relayer account's balance.`,
    details: {
      onchainSequence: onchain.sequence.toString(),
      validUntil: onchain.validUntil.toString(),
      expiredSeconds: expiredSeconds.toString(),
      latestSequence: latest.sequence.toString(),
      latestValidUntil: latest.validUntil.toString(),
      chainId: relayer.chainId,
      oracle: relayer.oracle,
    },
  };
}
