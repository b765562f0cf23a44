import type { Attestation } from "./attestation.js";
import { echo } from "./errors.js";
import { DEFINED_FLAGS_MASK, FLAGS, isFlagName } from "./flags.js";

/**
 * The lending gate's policy (SPEC §10 `GET …/gate`): whether an attestation
 * meets a market's criteria at a given time, with every failed condition
 * named. Fails closed: flag bits SPEC §6 version 1 does not define refuse.
 */

/** Defaults of the gate's criteria (documented in the OpenAPI document). */
export const DEFAULT_MIN_RATIO_BPS = 10000n;
/** An observedAt further ahead of the gate's clock than this is not trusted. */
export const FUTURE_TOLERANCE_SECONDS = 60n;

export const GATE_REASON_CODES = [
  "UNKNOWN_ISSUER",
  "NO_ATTESTATION",
  "EXPIRED",
  "TOO_OLD",
  "OBSERVED_IN_FUTURE",
  "RATIO_BELOW_MIN",
  "FLAG_DENIED",
  "UNKNOWN_FLAGS",
] as const;
export type GateReasonCode = (typeof GATE_REASON_CODES)[number];

export interface GateReason {
  code: GateReasonCode;
  message: string;
  /** FLAG_DENIED only: the SPEC §6 name of the denied flag. */
  flag?: string;
}

export interface GateCriteria {
  minRatioBps: bigint;
  maxAgeSeconds: bigint;
  denyFlags: bigint;
}

/**
 * Every reason `attestation` fails `criteria` at `now` (unix seconds); empty
 * means allow. Flag bits version 1 does not define fail closed.
 */
export function gateReasons(attestation: Attestation, criteria: GateCriteria, now: bigint): GateReason[] {
  const a = attestation;
  const reasons: GateReason[] = [];
  if (now > a.validUntil) {
    reasons.push({
      code: "EXPIRED",
      message: `attestation ${a.sequence} expired at ${a.validUntil} (validUntil), ${now - a.validUntil} s ago`,
    });
  }
  const age = now - a.observedAt;
  if (age > criteria.maxAgeSeconds) {
    reasons.push({
      code: "TOO_OLD",
      message: `attestation ${a.sequence} is ${age} s old, above maxAgeSeconds ${criteria.maxAgeSeconds}`,
    });
  }
  if (-age > FUTURE_TOLERANCE_SECONDS) {
    reasons.push({
      code: "OBSERVED_IN_FUTURE",
      message: `attestation ${a.sequence} was observed ${-age} s after the gate's clock`,
    });
  }
  if (BigInt(a.ratioBps) < criteria.minRatioBps) {
    reasons.push({
      code: "RATIO_BELOW_MIN",
      message: `ratio ${a.ratioBps} bps is below the minimum ${criteria.minRatioBps}`,
    });
  }
  for (const flag of FLAGS) {
    const bit = 1n << BigInt(flag.bit);
    if ((criteria.denyFlags & bit) !== 0n && (a.flags & bit) !== 0n) {
      reasons.push({
        code: "FLAG_DENIED",
        flag: flag.name,
        message: `flag ${flag.name} (bit ${flag.bit}) is set: ${flag.meaning}`,
      });
    }
  }
  const unknown = a.flags & ~DEFINED_FLAGS_MASK;
  if (unknown !== 0n) {
    reasons.push({
      code: "UNKNOWN_FLAGS",
      message: `flag bits 0x${unknown.toString(16)} are not defined by SPEC §6 version 1`,
    });
  }
  return reasons;
}

/** `denyFlags`: comma-separated SPEC §6 flag names and/or decimal bitmasks, ORed together. */
export function parseDenyFlags(text: string): { bits: bigint } | { error: string } {
  let bits = 0n;
  for (const raw of text.split(",")) {
    const token = raw.trim();
    if (token === "")
      return {
        error: text === "" ? "is empty" : "has an empty entry (expected names or bitmasks separated by commas)",
      };
    const name = token.toUpperCase();
    if (isFlagName(name)) {
      bits |= 1n << BigInt(FLAGS.find((f) => f.name === name)!.bit);
    } else if (/^(0|[1-9][0-9]{0,19})$/.test(token)) {
      const mask = BigInt(token);
      if ((mask & ~DEFINED_FLAGS_MASK) !== 0n) {
        return {
          error: `bitmask ${token} sets reserved bits (SPEC §6 version 1 defines bits 0-${FLAGS.length - 1}, at most ${DEFINED_FLAGS_MASK})`,
        };
      }
      bits |= mask;
    } else {
      return {
        error: `"${echo(token, 40)}" is neither a SPEC §6 flag name (${FLAGS.map((f) => f.name).join(", ")}) nor a decimal bitmask`,
      };
    }
  }
  return { bits };
}

/** The reason of an issuer that is not published here (its id bounded: it comes from a request). */
export function unknownIssuerReason(issuerId: string): GateReason {
  return { code: "UNKNOWN_ISSUER", message: `issuer "${echo(issuerId)}" is not published here` };
}

/** The reason of an issuer that has not published an attestation yet. */
export function noAttestationReason(issuerId: string): GateReason {
  return { code: "NO_ATTESTATION", message: `issuer "${issuerId}" has not published an attestation yet` };
}
