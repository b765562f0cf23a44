import { fail } from "./errors.js";

/** SPEC §1: integers in JSON are decimal strings, no sign, no leading zeros. */
const DECIMAL = /^(0|[1-9][0-9]*)$/;

export const UINT64_MAX = (1n << 64n) - 1n;
export const UINT128_MAX = (1n << 128n) - 1n;
export const UINT256_MAX = (1n << 256n) - 1n;
/** ratioBps cap (uint32 max), also the ratio when there are no liabilities. */
export const RATIO_BPS_MAX = 4294967295n;
export const USD_DECIMALS = 18;
export const ONE_USD = 10n ** 18n;

/** Explains, in one phrase, why a would-be number string is not a SPEC §1 decimal. */
export function whyNotDecimal(text: string): string {
  if (text === "") return "is empty";
  if (text.startsWith("-")) return "is negative";
  if (text.startsWith("+")) return "has a sign";
  if (/^[+-]?[0-9.]+[eE][+-]?[0-9]+$/.test(text)) return "uses exponent form";
  if (text.includes(".")) return "is fractional";
  if (/^0[0-9]/.test(text)) return "has leading zeros";
  if (/\s/.test(text)) return "contains white space";
  return "is not a decimal integer";
}

/**
 * Parses a SPEC §1 decimal string into a bigint, rejecting anything else with
 * an error that names `field`. `max` bounds the value (inclusive); the default
 * is uint256. Numbers (JS `number`) are refused: JSON must carry strings.
 */
export function parseAmount(value: unknown, field: string, max: bigint = UINT256_MAX): bigint {
  if (typeof value !== "string") {
    fail("INVALID_NUMBER", field, `must be a decimal string, got ${value === null ? "null" : typeof value}`);
  }
  if (!DECIMAL.test(value)) fail("INVALID_NUMBER", field, `"${truncate(value)}" ${whyNotDecimal(value)}`);
  const n = BigInt(value);
  if (n > max) fail("OUT_OF_RANGE", field, `${truncate(value)} exceeds the maximum ${max}`);
  return n;
}

/**
 * How an uploaded amount is written: `decimal` in whole units of the asset
 * (`1500.25` USD), `base` in the asset's smallest unit (SPEC §1, `1500250000`
 * for 6 decimals).
 */
export type AmountUnits = "decimal" | "base";

/** A human decimal: digits, at most one point with digits on both sides, no sign, no leading zeros. */
const HUMAN_DECIMAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** Explains, in one phrase, why a would-be human decimal (`1500.25`) is not one. */
export function whyNotHumanDecimal(text: string): string {
  if (text === "") return "is empty";
  if (text.startsWith("-")) return "is negative";
  if (text.startsWith("+")) return "has a sign";
  if (/^[+-]?[0-9.]*[0-9][eE][+-]?[0-9]+$/.test(text)) return "uses exponent form";
  if (/\s/.test(text)) return "contains white space";
  if (text.includes(",") || text.includes("_")) return "has a digit group separator (write 1500.25, not 1,500.25)";
  if (/^0[0-9]/.test(text)) return "has leading zeros";
  if (/^\.[0-9]/.test(text)) return "has no digit before the decimal point (write 0.5)";
  if (/^[0-9]+\.$/.test(text)) return "ends with a decimal point";
  return "is not a decimal number";
}

/**
 * Converts an amount written in whole units (`"1500.25"`) into base units of
 * an asset with `decimals` (1500250000 for 6), exactly: the digits are moved,
 * never multiplied in floating point. More fractional digits than `decimals`
 * is an error (nothing is rounded); so is anything `whyNotHumanDecimal`
 * names. `max` bounds the result in base units (inclusive).
 *
 * @example
 * decimalToBaseUnits("1500.25", 6, "USD") // 1500250000n
 * decimalToBaseUnits("320000", 6, "USD")  // 320000000000n
 */
export function decimalToBaseUnits(
  value: unknown,
  decimals: number,
  field: string,
  max: bigint = UINT256_MAX,
  options: { ignoreTrailingZeros?: boolean } = {},
): bigint {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 77) {
    fail("OUT_OF_RANGE", "decimals", `${decimals} is not a token decimals count`);
  }
  if (typeof value !== "string") {
    fail("INVALID_NUMBER", field, `must be a decimal string, got ${value === null ? "null" : typeof value}`);
  }
  const m = HUMAN_DECIMAL.exec(value);
  if (!m) fail("INVALID_NUMBER", field, `"${truncate(value)}" ${whyNotHumanDecimal(value)}`);
  const written = m[2] === undefined ? "" : m[2].slice(1);
  // Zeros past the asset's decimals change nothing; where a person types the amount (the CLI) they are accepted.
  const fraction = options.ignoreTrailingZeros ? written.replace(/0+$/, "") : written;
  if (fraction.length > decimals) {
    fail(
      "INVALID_NUMBER",
      field,
      `"${truncate(value)}" has ${fraction.length} fractional digits; the asset has ${decimals} decimal${decimals === 1 ? "" : "s"}` +
        (decimals === 0 ? " (whole units only)" : ` (at most ${decimals} digits after the point)`),
    );
  }
  const n = BigInt(m[1]! + fraction.padEnd(decimals, "0"));
  if (n > max)
    fail(
      "OUT_OF_RANGE",
      field,
      `${truncate(value)} exceeds the maximum ${formatUnits(max, decimals, { group: false })}`,
    );
  return n;
}

/** An amount as the upload's `units` say: base units (SPEC §1 form) or a whole-unit decimal of `decimals`. */
export function parseUploadedAmount(
  value: unknown,
  units: AmountUnits,
  decimals: number,
  field: string,
  max: bigint = UINT256_MAX,
): bigint {
  return units === "base" ? parseAmount(value, field, max) : decimalToBaseUnits(value, decimals, field, max);
}

/** A usd18 value: same rules as an amount, 18 implied decimals. */
export function parseUsd18(value: unknown, field: string): bigint {
  return parseAmount(value, field, UINT256_MAX);
}

/** Parses a JSON integer that must be a safe non-negative integer (indices, unix seconds). */
export function parseSafeInteger(value: unknown, field: string, max: number = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value)) fail("INVALID_NUMBER", field, "must be an integer");
  if (value < 0) fail("INVALID_NUMBER", field, "must not be negative");
  if (value > max) fail("OUT_OF_RANGE", field, `${value} exceeds the maximum ${max}`);
  return value;
}

export function formatAmount(value: bigint): string {
  if (value < 0n) throw new RangeError("amounts are never negative");
  return value.toString(10);
}

/** SPEC §1 value of an amount: floor(amount * priceUsd18 / 10^decimals). */
export function valueUsd(amount: bigint, priceUsd18: bigint, decimals: number): bigint {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 77) {
    fail("OUT_OF_RANGE", "decimals", `${decimals} is not a token decimals count`);
  }
  return (amount * priceUsd18) / 10n ** BigInt(decimals);
}

/** SPEC §1 ratio in basis points, capped at uint32 max; no liabilities means the cap. */
export function ratioBps(reservesUsd: bigint, liabilitiesUsd: bigint): number {
  if (liabilitiesUsd === 0n) return Number(RATIO_BPS_MAX);
  const r = (reservesUsd * 10000n) / liabilitiesUsd;
  return Number(r > RATIO_BPS_MAX ? RATIO_BPS_MAX : r);
}

/** Renders a usd18 value as a human decimal (display only, never hashed). */
export function formatUsd18(value: bigint, fractionDigits = 2): string {
  const whole = value / ONE_USD;
  const frac = (value % ONE_USD).toString().padStart(18, "0").slice(0, fractionDigits);
  return fractionDigits > 0 ? `${whole}.${frac}` : whole.toString();
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Base units as a whole-unit decimal, exactly, without trailing fractional
 * zeros: 1234500000n, 6 → "1,234.5" for people; with `group: false` →
 * "1234.5", the form `decimalToBaseUnits` reads back (ledger files, messages
 * naming a bound).
 */
export function formatUnits(value: bigint, decimals: number, options: { group?: boolean } = {}): string {
  const sign = value < 0n ? "-" : "";
  const abs = value < 0n ? -value : value;
  const scale = 10n ** BigInt(decimals);
  const digits = (abs / scale).toString();
  const whole = options.group === false ? digits : digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const frac = decimals === 0 ? "" : (abs % scale).toString().padStart(decimals, "0").replace(/0+$/, "");
  return `${sign}${whole}${frac ? `.${frac}` : ""}`;
}
