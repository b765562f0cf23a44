import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SolventError } from "../../core/errors.js";
import {
  decimalToBaseUnits,
  formatUnits,
  parseAmount,
  parseUploadedAmount,
  RATIO_BPS_MAX,
  ratioBps,
  UINT128_MAX,
  UINT256_MAX,
  valueUsd,
} from "../../core/numbers.js";

function rejection(fn: () => unknown): SolventError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SolventError) return e;
    throw e;
  }
  throw new Error("expected a SolventError");
}

describe("parseAmount (SPEC §1)", () => {
  it("accepts canonical decimal strings", () => {
    expect(parseAmount("0", "x")).toBe(0n);
    expect(parseAmount("1234567890123456789012345678901234567890", "x")).toBe(
      1234567890123456789012345678901234567890n,
    );
    expect(parseAmount(UINT256_MAX.toString(), "x")).toBe(UINT256_MAX);
  });

  it.each([
    ["-1", "negative"],
    ["1.5", "fractional"],
    ["1e18", "exponent"],
    ["01", "leading zeros"],
    ["", "empty"],
    [" 1", "white space"],
    ["+1", "sign"],
    ["0x10", "not a decimal integer"],
  ])("rejects %j as %s, naming the field", (input, why) => {
    const err = rejection(() => parseAmount(input, "rows[3].balances[1]"));
    expect(err.code).toBe("INVALID_NUMBER");
    expect(err.record).toBe("rows[3].balances[1]");
    expect(err.message).toContain(why);
  });

  it("rejects JSON numbers, null and other non-strings", () => {
    for (const v of [1, 1.5, null, undefined, 10n, {}, []]) {
      expect(rejection(() => parseAmount(v, "amount")).code).toBe("INVALID_NUMBER");
    }
  });

  it("rejects values over the range, naming the field", () => {
    const err = rejection(() => parseAmount((UINT256_MAX + 1n).toString(), "priceUsd"));
    expect(err.code).toBe("OUT_OF_RANGE");
    expect(err.record).toBe("priceUsd");
    expect(rejection(() => parseAmount((UINT128_MAX + 1n).toString(), "b", UINT128_MAX)).code).toBe("OUT_OF_RANGE");
    expect(parseAmount(UINT128_MAX.toString(), "b", UINT128_MAX)).toBe(UINT128_MAX);
  });

  it("round-trips every non-negative bigint", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: UINT256_MAX }), (n) => parseAmount(n.toString(), "n") === n),
      { numRuns: 200 },
    );
  });
});

describe("decimalToBaseUnits: amounts as people write them", () => {
  it("moves the digits exactly: 1500.25 USD of 6 decimals is 1500250000 base units, 320000 is 320000 USD", () => {
    expect(decimalToBaseUnits("1500.25", 6, "USD")).toBe(1_500_250_000n);
    expect(decimalToBaseUnits("320000", 6, "USD")).toBe(320_000_000_000n);
    expect(decimalToBaseUnits("0", 6, "USD")).toBe(0n);
    expect(decimalToBaseUnits("0.000001", 6, "USD")).toBe(1n);
    expect(decimalToBaseUnits("0.1", 18, "ETH")).toBe(10n ** 17n);
    expect(decimalToBaseUnits("7", 0, "PTS")).toBe(7n);
    // Digits a binary float would lose: 0.1 + 0.2 style values and numbers past 2^53 stay exact.
    expect(decimalToBaseUnits("9007199254740993.000003", 6, "USD")).toBe(9_007_199_254_740_993_000_003n);
    expect(decimalToBaseUnits("1.000000000000000001", 18, "ETH")).toBe(10n ** 18n + 1n);
  });

  it.each([
    ["1.2345678", 6, "has 7 fractional digits; the asset has 6 decimals"],
    ["1.5", 0, "has 1 fractional digits; the asset has 0 decimals (whole units only)"],
    ["1.5000000", 6, "7 fractional digits"],
    ["-1", 6, "is negative"],
    ["+1", 6, "has a sign"],
    ["1e6", 6, "uses exponent form"],
    ["1.5E3", 6, "uses exponent form"],
    ["007", 6, "has leading zeros"],
    ["00.5", 6, "has leading zeros"],
    [".5", 6, "no digit before the decimal point"],
    ["5.", 6, "ends with a decimal point"],
    ["1,500.25", 6, "digit group separator"],
    ["1_500", 6, "digit group separator"],
    ["1 500", 6, "white space"],
    ["", 6, "is empty"],
    ["1.2.3", 6, "is not a decimal number"],
    ["0x10", 6, "is not a decimal number"],
    ["NaN", 6, "is not a decimal number"],
  ] as const)("refuses %j (%i decimals): %s", (input, decimals, why) => {
    const err = rejection(() => decimalToBaseUnits(input, decimals, "USD"));
    expect(err.code).toBe("INVALID_NUMBER");
    expect(err.record).toBe("USD");
    expect(err.message).toContain(why);
  });

  it("refuses JSON numbers (they would have passed through floating point) and values past the bound", () => {
    for (const v of [1500.25, 1, null, undefined, 10n])
      expect(rejection(() => decimalToBaseUnits(v, 6, "USD")).code).toBe("INVALID_NUMBER");
    const max = formatUnits(UINT128_MAX, 6, { group: false });
    expect(decimalToBaseUnits(max, 6, "USD", UINT128_MAX)).toBe(UINT128_MAX);
    const over = rejection(() =>
      decimalToBaseUnits(formatUnits(UINT128_MAX + 1n, 6, { group: false }), 6, "USD", UINT128_MAX),
    );
    expect(over.code).toBe("OUT_OF_RANGE");
    expect(over.message).toContain(max);
  });

  it("formatUnits without grouping is its inverse, without trailing zeros", () => {
    expect(formatUnits(1_500_250_000n, 6, { group: false })).toBe("1500.25");
    expect(formatUnits(1n, 6, { group: false })).toBe("0.000001");
    expect(formatUnits(0n, 6, { group: false })).toBe("0");
    expect(formatUnits(5_000_000n, 6, { group: false })).toBe("5");
    expect(formatUnits(7n, 0, { group: false })).toBe("7");
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: UINT256_MAX }),
        fc.integer({ min: 0, max: 36 }),
        (n, d) => decimalToBaseUnits(formatUnits(n, d, { group: false }), d, "x") === n,
      ),
      { numRuns: 300 },
    );
  });

  it("parseUploadedAmount reads base units only when told so", () => {
    expect(parseUploadedAmount("1500.25", "decimal", 6, "USD")).toBe(1_500_250_000n);
    expect(parseUploadedAmount("1500250000", "base", 6, "USD")).toBe(1_500_250_000n);
    expect(rejection(() => parseUploadedAmount("1500.25", "base", 6, "USD")).message).toContain("is fractional");
  });
});

describe("valuation and ratio (SPEC §1)", () => {
  it("values an amount with floor(amount * price / 10^decimals)", () => {
    // 1.5 tokens of 6 decimals at $2.00 -> $3.00
    expect(valueUsd(1_500_000n, 2n * 10n ** 18n, 6)).toBe(3n * 10n ** 18n);
    // floor, not round: 1 base unit of an 18-decimal token at $0.999999... is 0
    expect(valueUsd(1n, 10n ** 18n - 1n, 18)).toBe(0n);
    expect(valueUsd(7n, 10n ** 17n + 1n, 1)).toBe(70000000000000000n);
  });

  it("computes ratioBps with floor, cap and the zero-liabilities rule", () => {
    expect(ratioBps(100n, 100n)).toBe(10000);
    expect(ratioBps(99999n, 100000n)).toBe(9999);
    expect(ratioBps(1n, 0n)).toBe(Number(RATIO_BPS_MAX));
    expect(ratioBps(0n, 0n)).toBe(Number(RATIO_BPS_MAX));
    expect(ratioBps(10n ** 30n, 1n)).toBe(Number(RATIO_BPS_MAX));
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 40n }), fc.bigInt({ min: 1n, max: 10n ** 40n }), (r, l) => {
        const got = BigInt(ratioBps(r, l));
        const exact = (r * 10000n) / l;
        return got === (exact > RATIO_BPS_MAX ? RATIO_BPS_MAX : exact);
      }),
      { numRuns: 200 },
    );
  });
});

/** decimalToBaseUnits as the CLI reads a typed amount: zeros past the decimals are exact. */
const typed = (text: string, decimals: number, field: string) =>
  decimalToBaseUnits(text, decimals, field, UINT256_MAX, { ignoreTrailingZeros: true });

describe("decimalToBaseUnits (typed amounts) / formatUnits: human decimals to base units, exactly", () => {
  it("converts without floats or rounding", () => {
    expect(typed("1250000.5", 6, "amount")).toBe(1_250_000_500_000n);
    expect(typed("0.000001", 6, "amount")).toBe(1n);
    expect(typed("1.100", 2, "amount")).toBe(110n); // trailing zeros beyond the decimals are exact
    expect(typed("123456789012345678901234567890.123456789012345678", 18, "amount")).toBe(
      123456789012345678901234567890123456789012345678n,
    );
    expect(typed("7", 0, "amount")).toBe(7n);
  });

  it.each(["", "-1", "+1", "1e6", "01", "1.", ".5", "1,000", " 1", "0x10"])("refuses %j naming the field", (text) => {
    expect(() => typed(text, 6, "--amount")).toThrow(/^--amount: /);
  });

  it("refuses more decimal places than the asset has instead of cutting them", () => {
    expect(() => typed("0.0000001", 6, "--amount")).toThrow(
      '"0.0000001" has 7 fractional digits; the asset has 6 decimals',
    );
  });

  it("formats with grouped thousands and no trailing zeros, and round-trips", () => {
    expect(formatUnits(1_250_000_500_000n, 6)).toBe("1,250,000.5");
    expect(formatUnits(1n, 18)).toBe("0.000000000000000001");
    expect(formatUnits(1000n, 0)).toBe("1,000");
    for (const [value, decimals] of [
      [123456789n, 6],
      [10n ** 30n + 7n, 18],
      [0n, 8],
    ] as const) {
      expect(typed(formatUnits(value, decimals).replaceAll(",", ""), decimals, "x")).toBe(value);
    }
  });
});
