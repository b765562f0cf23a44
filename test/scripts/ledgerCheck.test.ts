/**
 * The parts of `solvent ledger upload`'s pre-flight that need no publisher:
 * the comparison behind the unit-slip guard, the whole-unit rendering, and
 * the y/N prompt read from a real stream (a pseudo-terminal is out of reach
 * here; the --yes and non-terminal paths run against wrangler dev in
 * test/live/ledgerUploadCli.test.ts).
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { formatUnits } from "../../core/numbers.js";
import { askToConfirm, type CurrentLedger, compareTotals, totalsTable } from "../../scripts/cli/ledgerCheck.js";

const assets = [
  { id: "USD", decimals: 6 },
  { id: "ETH", decimals: 18 },
];
const current = (usd: bigint, eth: bigint, ethDecimals = 18): CurrentLedger => ({
  sequence: "7",
  ledgerId: "lg_x",
  totals: new Map([
    ["USD", { amount: usd, decimals: 6 }],
    ["ETH", { amount: eth, decimals: ethDecimals }],
  ]),
});

describe("compareTotals: the unit-slip guard", () => {
  it("flags a move beyond 100x up or down, and a drop to zero, but not 100x itself", () => {
    const was = current(1_000_000_000n, 10n ** 18n); // 1,000 USD, 1 ETH
    const at = (usd: bigint, eth: bigint) => compareTotals(assets, [usd, eth], was).map((c) => [c.large, c.change]);
    expect(at(100_000_000_000n, 10n ** 16n)).toEqual([
      [false, "+9900.00%"],
      [false, "-99.00%"],
    ]);
    expect(at(100_000_000_001n, 10n ** 16n - 1n)).toEqual([
      [true, "x100.0"],
      [true, "/100.0"],
    ]);
    // Base units read as whole units: every total x10^decimals.
    expect(at(1_000_000_000n * 10n ** 6n, 10n ** 36n)).toEqual([
      [true, "x1,000,000.0"],
      [true, "x1,000,000,000,000,000,000.0"],
    ]);
    expect(at(0n, 10n ** 18n)).toEqual([
      [true, "to zero"],
      [false, "unchanged"],
    ]);
    expect(at(1_000_250_000n, 10n ** 18n)[0]).toEqual([false, "+0.02%"]);
  });

  it("an asset new to the ledger, or no attestation yet, is not refused", () => {
    const none = compareTotals(assets, [5n, 5n], null);
    expect(none.every((c) => !c.large && c.current === null)).toBe(true);
    const noEth: CurrentLedger = {
      sequence: "3",
      ledgerId: null,
      totals: new Map([["USD", { amount: 5n, decimals: 6 }]]),
    };
    expect(compareTotals(assets, [5n, 10n ** 18n], noEth).map((c) => [c.large, c.change])).toEqual([
      [false, "unchanged"],
      [false, "new (was 0)"],
    ]);
  });

  it("compares in whole units when the configured decimals changed since the attestation", () => {
    // 1 ETH attested with 8 decimals, 1 ETH now with 18: unchanged, not x10^10.
    expect(compareTotals(assets, [0n, 10n ** 18n], current(0n, 10n ** 8n, 8))[1]).toMatchObject({
      large: false,
      change: "unchanged",
    });
  });
});

describe("rendering totals", () => {
  it("writes base units as whole units with grouped digits, exactly", () => {
    expect(formatUnits(1_500_250_000n, 6)).toBe("1,500.25");
    expect(formatUnits(123_456_789_012_345_678_901n, 18)).toBe("123.456789012345678901");
    expect(formatUnits(0n, 6)).toBe("0");
    expect(formatUnits(10n ** 30n, 6)).toBe("1,000,000,000,000,000,000,000,000");
  });

  it("tabulates asset, decimals, new and current totals and the change", () => {
    const lines = totalsTable(
      compareTotals(assets, [1_500_250_000n * 1_000_000n, 10n ** 18n], current(1_500_250_000n, 10n ** 18n)),
      current(1n, 1n),
    );
    expect(lines).toEqual([
      "  asset                  new total  current (attestation #7)  change",
      "  USD (6 decimals)   1,500,250,000                  1,500.25  x1,000,000.0  <- more than 100x",
      "  ETH (18 decimals)              1                         1  unchanged",
    ]);
  });
});

describe("askToConfirm", () => {
  const ask = async (typed: string | null) => {
    const input = new PassThrough();
    const output = new PassThrough();
    const shown: string[] = [];
    output.on("data", (d: Buffer) => shown.push(d.toString()));
    const answer = askToConfirm("upload? [y/N] ", input, output);
    if (typed === null) input.end();
    else input.write(typed);
    return { answer: await answer, shown: shown.join("") };
  };

  it("goes ahead only on y or yes", async () => {
    for (const yes of ["y\n", "Y\n", "yes\n", " YES \n"]) expect((await ask(yes)).answer, yes).toBe(true);
    for (const no of ["\n", "n\n", "no\n", "yep\n", "sure\n"]) expect((await ask(no)).answer, no).toBe(false);
    expect((await ask("y\n")).shown).toBe("upload? [y/N] ");
  });

  it("takes the end of input as no", async () => {
    expect(await ask(null)).toEqual({ answer: false, shown: "upload? [y/N] \n" });
  });
});
