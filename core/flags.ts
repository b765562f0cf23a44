import { fail } from "./errors.js";
import { UINT64_MAX } from "./numbers.js";

/** SPEC §6: bit index, name and when it is raised. Bits 12-63 are reserved. */
export const FLAGS = [
  { bit: 0, name: "UNDERCOLLATERALIZED", meaning: "ratioBps is below 10000" },
  { bit: 1, name: "STALE_SOURCE", meaning: "a configured source failed or was older than its max age" },
  { bit: 2, name: "PRICE_DIVERGENCE", meaning: "the price sources of an asset disagree beyond tolerance" },
  { bit: 3, name: "UNPROVEN_OWNERSHIP", meaning: "an on-chain holder lacks a valid ownership proof" },
  { bit: 4, name: "OFFCHAIN_SHARE_HIGH", meaning: "the off-chain share of reserves is above policy" },
  {
    bit: 5,
    name: "CIRCULAR_RESERVES",
    meaning: "reserves hold the issuer's own liability token or something backed by it",
  },
  { bit: 6, name: "CONCENTRATION", meaning: "one holder, custodian or asset exceeds the policy share of reserves" },
  {
    bit: 7,
    name: "SUPPLY_GROWTH",
    meaning: "liabilities grew beyond policy relative to reserves since the previous attestation",
  },
  { bit: 8, name: "RESERVE_DROP", meaning: "reserves fell beyond policy since the previous attestation" },
  {
    bit: 9,
    name: "LIABILITY_PEG_DEVIATION",
    meaning: "the issuer's own liability token trades off its peg beyond policy",
  },
  {
    bit: 10,
    name: "LIABILITIES_STALE",
    meaning: "the attested ledger's asOf is older than the policy's maximum ledger age",
  },
  {
    bit: 11,
    name: "DISPUTED",
    meaning: "a valid dispute (a signed receipt the ledger omits or contradicts) stands against the attested ledger",
  },
] as const;

export type FlagName = (typeof FLAGS)[number]["name"];

/** A flag as listed in the SPEC §4 report: which bit, its name and why it was raised. */
export interface RaisedFlag {
  bit: number;
  name: FlagName;
  reason: string;
}

/** Mask of the bits version 1 defines (0-11). */
export const DEFINED_FLAGS_MASK = (1n << BigInt(FLAGS.length)) - 1n;

const BIT_BY_NAME = new Map<string, number>(FLAGS.map((f) => [f.name, f.bit]));

export function isFlagName(name: unknown): name is FlagName {
  return typeof name === "string" && BIT_BY_NAME.has(name);
}

export function flagBit(name: FlagName): number {
  const bit = BIT_BY_NAME.get(name);
  if (bit === undefined) fail("INVALID_ARGUMENT", "flags", `"${String(name)}" is not a SPEC §6 flag`);
  return bit;
}

/** ORs the named flags into a uint64 bit set; duplicates are harmless. */
export function encodeFlags(names: Iterable<FlagName>): bigint {
  let bits = 0n;
  for (const name of names) bits |= 1n << BigInt(flagBit(name));
  return bits;
}

/** Lists the flags set in `bits`, lowest bit first. Reserved bits are an error, never ignored. */
export function decodeFlags(bits: bigint): FlagName[] {
  if (typeof bits !== "bigint" || bits < 0n || bits > UINT64_MAX) {
    fail("OUT_OF_RANGE", "flags", `${String(bits)} is not a uint64`);
  }
  const reserved = bits & ~DEFINED_FLAGS_MASK;
  if (reserved !== 0n) {
    fail(
      "OUT_OF_RANGE",
      "flags",
      `reserved bits are set (0x${reserved.toString(16)}); bits ${FLAGS.length}-63 must be zero in version 1`,
    );
  }
  return FLAGS.filter((f) => (bits >> BigInt(f.bit)) & 1n).map((f) => f.name);
}

export function hasFlag(bits: bigint, name: FlagName): boolean {
  return ((bits >> BigInt(flagBit(name))) & 1n) === 1n;
}

/** Builds a report entry for a raised flag. */
export function raiseFlag(name: FlagName, reason: string): RaisedFlag {
  return { bit: flagBit(name), name, reason };
}
