/**
 * SPEC §11 quantisation: each asset's balances, in base units, are divided by
 * 10^(decimals − unitDecimals) so every value and the asset's total fit below
 * 2^64, the range the Bulletproofs cover.
 */
import { fail } from "../../errors.js";

export const VALUE_BITS = 64;
export const VALUE_LIMIT = 1n << 64n;

export interface PrivateAsset {
  symbol: string;
  /** Decimals of the token's base unit. */
  decimals: number;
  /** Decimals kept in the quantised unit: one quantised unit is 10^(decimals − unitDecimals) base units. */
  unitDecimals: number;
}

function checkDecimals(value: number, field: string, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max)
    fail("INVALID_ARGUMENT", field, `must be an integer from 0 to ${max}, got ${value}`);
}

/**
 * The most decimals of `decimals` that can be kept so the sum of `balances`
 * (base units) stays below 2^64 once quantised. Rows that do not divide by the
 * chosen unit are not considered here; `quantiseAsset` names them.
 */
export function chooseUnitDecimals(symbol: string, decimals: number, balances: readonly bigint[]): number {
  checkDecimals(decimals, `assets.${symbol}.decimals`, 77);
  let total = 0n;
  for (const b of balances) total += b;
  for (let kept = decimals; kept >= 0; kept--) {
    if (total / 10n ** BigInt(decimals - kept) < VALUE_LIMIT) return kept;
  }
  return fail(
    "OUT_OF_RANGE",
    `assets.${symbol}`,
    `total ${total} base units does not fit below 2^64 even in whole tokens`,
  );
}

/**
 * Quantises one asset's balances. `rowName(i)` names row i in errors (e.g.
 * `row 12 (user alice)`). Fails on a balance that is negative, not a whole
 * number of units, or too large, and when the total reaches 2^64.
 */
export function quantiseAsset(
  asset: PrivateAsset,
  balances: readonly bigint[],
  rowName: (i: number) => string,
): bigint[] {
  checkDecimals(asset.decimals, `assets.${asset.symbol}.decimals`, 77);
  checkDecimals(asset.unitDecimals, `assets.${asset.symbol}.unitDecimals`, asset.decimals);
  const unit = 10n ** BigInt(asset.decimals - asset.unitDecimals);
  const out: bigint[] = new Array(balances.length);
  let total = 0n;
  for (let i = 0; i < balances.length; i++) {
    const b = balances[i]!;
    if (typeof b !== "bigint" || b < 0n)
      fail("INVALID_NUMBER", rowName(i), `${asset.symbol} balance must be a non-negative integer`);
    if (b % unit !== 0n) {
      fail(
        "INVALID_NUMBER",
        rowName(i),
        `${asset.symbol} balance ${b} is not a whole number of the private unit (${unit} base units, ${asset.unitDecimals} decimals kept); round it or keep more decimals`,
      );
    }
    const v = b / unit;
    if (v >= VALUE_LIMIT)
      fail(
        "OUT_OF_RANGE",
        rowName(i),
        `${asset.symbol} balance ${b} is ${v} units, which does not fit below 2^64; keep fewer decimals`,
      );
    total += v;
    if (total >= VALUE_LIMIT) {
      fail(
        "SUM_OVERFLOW",
        rowName(i),
        `the ${asset.symbol} total reaches 2^64 units at this row; keep fewer decimals (now ${asset.unitDecimals})`,
      );
    }
    out[i] = v;
  }
  return out;
}
