import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Attestation } from "../../core/attestation.js";
import { DEFINED_FLAGS_MASK, FLAGS } from "../../core/flags.js";
import {
  FUTURE_TOLERANCE_SECONDS,
  type GateCriteria,
  gateReasons,
  noAttestationReason,
  parseDenyFlags,
  unknownIssuerReason,
} from "../../core/gatePolicy.js";

const ZERO = `0x${"00".repeat(32)}` as const;
const NOW = 1_767_225_600n;

function attestation(over: Partial<Attestation> = {}): Attestation {
  return {
    issuer: ZERO,
    sequence: 7n,
    previous: ZERO,
    observedAt: NOW - 30n,
    validUntil: NOW + 570n,
    reservesUsd: 125n * 10n ** 22n,
    onchainReservesUsd: 125n * 10n ** 22n,
    offchainReservesUsd: 0n,
    liabilitiesUsd: 10n ** 24n,
    ratioBps: 12500,
    reservesRoot: ZERO,
    liabilitiesRoot: ZERO,
    flags: 0n,
    reportHash: ZERO,
    ...over,
  };
}

const criteria: GateCriteria = { minRatioBps: 10000n, maxAgeSeconds: 600n, denyFlags: 0n };
const codes = (a: Attestation, c: GateCriteria = criteria, now = NOW) => gateReasons(a, c, now).map((r) => r.code);
const bit = (name: string) => 1n << BigInt(FLAGS.find((f) => f.name === name)!.bit);

describe("gateReasons", () => {
  it("allows a fresh, backed attestation without denied flags", () => {
    expect(gateReasons(attestation(), criteria, NOW)).toEqual([]);
  });

  it("names each failed condition at its boundary, and only past it", () => {
    const a = attestation();
    expect(codes(a, criteria, a.validUntil)).toEqual([]);
    expect(codes(a, criteria, a.validUntil + 1n)).toContain("EXPIRED");
    expect(codes(a, { ...criteria, maxAgeSeconds: 30n })).toEqual([]);
    expect(codes(a, { ...criteria, maxAgeSeconds: 29n })).toEqual(["TOO_OLD"]);
    expect(codes(attestation({ ratioBps: 10000 }))).toEqual([]);
    expect(codes(attestation({ ratioBps: 9999 }))).toEqual(["RATIO_BELOW_MIN"]);
    expect(codes(attestation({ observedAt: NOW + FUTURE_TOLERANCE_SECONDS }))).toEqual([]);
    expect(codes(attestation({ observedAt: NOW + FUTURE_TOLERANCE_SECONDS + 1n }))).toEqual(["OBSERVED_IN_FUTURE"]);
  });

  it("refuses a denied flag once per flag, naming it, and ignores flags not denied", () => {
    const flags = bit("STALE_SOURCE") | bit("UNDERCOLLATERALIZED");
    expect(codes(attestation({ flags }))).toEqual([]);
    const reasons = gateReasons(attestation({ flags }), { ...criteria, denyFlags: flags }, NOW);
    expect(reasons.map((r) => [r.code, r.flag])).toEqual(
      FLAGS.filter((f) => (flags & (1n << BigInt(f.bit))) !== 0n).map((f) => ["FLAG_DENIED", f.name]),
    );
  });

  it("fails closed on flag bits SPEC §6 version 1 does not define", () => {
    const reasons = gateReasons(attestation({ flags: DEFINED_FLAGS_MASK + 1n }), criteria, NOW);
    expect(reasons.map((r) => r.code)).toEqual(["UNKNOWN_FLAGS"]);
    expect(reasons[0]!.message).toContain(`0x${(DEFINED_FLAGS_MASK + 1n).toString(16)}`);
  });

  it("allows exactly when every condition holds (any attestation, criteria and clock)", () => {
    const big = (max: bigint) => fc.bigInt({ min: 0n, max });
    fc.assert(
      fc.property(
        big(2000n),
        big(2000n),
        fc.integer({ min: 0, max: 20000 }),
        big((1n << 12n) - 1n),
        big(20000n),
        big(2000n),
        big(DEFINED_FLAGS_MASK),
        big(4000n),
        (observed, ttl, ratioBps, flags, minRatioBps, maxAgeSeconds, denyFlags, now) => {
          const a = attestation({ observedAt: observed, validUntil: observed + ttl, ratioBps, flags });
          const allow = gateReasons(a, { minRatioBps, maxAgeSeconds, denyFlags }, now).length === 0;
          const expected =
            now <= a.validUntil &&
            now - observed <= maxAgeSeconds &&
            observed - now <= FUTURE_TOLERANCE_SECONDS &&
            BigInt(ratioBps) >= minRatioBps &&
            (flags & denyFlags) === 0n &&
            (flags & ~DEFINED_FLAGS_MASK) === 0n;
          expect(allow).toBe(expected);
        },
      ),
    );
  });
});

describe("parseDenyFlags", () => {
  it("ORs names (any case) and decimal bitmasks", () => {
    expect(parseDenyFlags("STALE_SOURCE")).toEqual({ bits: bit("STALE_SOURCE") });
    expect(parseDenyFlags("stale_source, 1")).toEqual({ bits: bit("STALE_SOURCE") | 1n });
    expect(parseDenyFlags("0")).toEqual({ bits: 0n });
    expect(parseDenyFlags(String(DEFINED_FLAGS_MASK))).toEqual({ bits: DEFINED_FLAGS_MASK });
  });

  it("refuses empty entries, reserved bits, other number forms and unknown names, saying why", () => {
    expect(parseDenyFlags("")).toEqual({ error: "is empty" });
    expect(parseDenyFlags("STALE_SOURCE,")).toEqual({ error: expect.stringMatching(/empty entry/) });
    expect(parseDenyFlags(String(DEFINED_FLAGS_MASK + 1n))).toEqual({ error: expect.stringMatching(/reserved bits/) });
    for (const bad of ["01", "0x1", "1.0", "-1", "NOT_A_FLAG"]) {
      expect(parseDenyFlags(bad), bad).toEqual({
        error: expect.stringMatching(/neither a SPEC §6 flag name .* nor a decimal bitmask/),
      });
    }
    const long = parseDenyFlags("X".repeat(500));
    expect("error" in long && long.error.length < 400).toBe(true);
  });
});

describe("reasons without an attestation", () => {
  it("name the issuer, bounded when it comes from a request", () => {
    expect(noAttestationReason("demo")).toEqual({
      code: "NO_ATTESTATION",
      message: 'issuer "demo" has not published an attestation yet',
    });
    const unknown = unknownIssuerReason("q".repeat(5000));
    expect(unknown.code).toBe("UNKNOWN_ISSUER");
    expect(unknown.message.length).toBeLessThan(200);
  });
});
