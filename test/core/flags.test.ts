import { describe, expect, it } from "vitest";
import { SolventError } from "../../core/errors.js";
import { decodeFlags, encodeFlags, FLAGS, type FlagName, hasFlag, raiseFlag } from "../../core/flags.js";

// SPEC §6 table, written out here independently of core/flags.ts.
const SPEC_FLAGS: Array<[number, FlagName]> = [
  [0, "UNDERCOLLATERALIZED"],
  [1, "STALE_SOURCE"],
  [2, "PRICE_DIVERGENCE"],
  [3, "UNPROVEN_OWNERSHIP"],
  [4, "OFFCHAIN_SHARE_HIGH"],
  [5, "CIRCULAR_RESERVES"],
  [6, "CONCENTRATION"],
  [7, "SUPPLY_GROWTH"],
  [8, "RESERVE_DROP"],
  [9, "LIABILITY_PEG_DEVIATION"],
  [10, "LIABILITIES_STALE"],
  [11, "DISPUTED"],
];

describe("flags (SPEC §6)", () => {
  it("lists exactly the twelve SPEC flags at their bits", () => {
    expect(FLAGS.map((f) => [f.bit, f.name])).toEqual(SPEC_FLAGS);
    for (const f of FLAGS) expect(f.meaning.length).toBeGreaterThan(0);
  });

  it("encodes each flag to its own bit", () => {
    for (const [bit, name] of SPEC_FLAGS) expect(encodeFlags([name])).toBe(2n ** BigInt(bit));
  });

  it("encodes several flags and decodes them back lowest bit first", () => {
    const bits = encodeFlags(["RESERVE_DROP", "UNDERCOLLATERALIZED", "UNPROVEN_OWNERSHIP", "RESERVE_DROP"]);
    expect(bits).toBe(1n + 8n + 256n);
    expect(decodeFlags(bits)).toEqual(["UNDERCOLLATERALIZED", "UNPROVEN_OWNERSHIP", "RESERVE_DROP"]);
    expect(decodeFlags(0n)).toEqual([]);
    expect(decodeFlags(0xfffn)).toEqual(SPEC_FLAGS.map(([, n]) => n));
  });

  it("rejects reserved bits 12-63 and values outside uint64", () => {
    for (const bit of [12n, 33n, 63n]) {
      expect(() => decodeFlags(1n << bit)).toThrow(SolventError);
      expect(() => decodeFlags((1n << bit) | 1n)).toThrow(/reserved/);
    }
    expect(() => decodeFlags(1n << 64n)).toThrow(SolventError);
    expect(() => decodeFlags(-1n)).toThrow(SolventError);
  });

  it("rejects names that are not flags", () => {
    expect(() => encodeFlags(["NOT_A_FLAG" as FlagName])).toThrow(SolventError);
  });

  it("answers hasFlag per bit", () => {
    const bits = encodeFlags(["PRICE_DIVERGENCE", "LIABILITY_PEG_DEVIATION"]);
    expect(hasFlag(bits, "PRICE_DIVERGENCE")).toBe(true);
    expect(hasFlag(bits, "LIABILITY_PEG_DEVIATION")).toBe(true);
    expect(hasFlag(bits, "UNDERCOLLATERALIZED")).toBe(false);
    expect(hasFlag(bits, "STALE_SOURCE")).toBe(false);
  });

  it("builds a report entry with bit, name and reason", () => {
    expect(raiseFlag("CONCENTRATION", "holder 0xabc holds 80%")).toEqual({
      bit: 6,
      name: "CONCENTRATION",
      reason: "holder 0xabc holds 80%",
    });
  });
});
