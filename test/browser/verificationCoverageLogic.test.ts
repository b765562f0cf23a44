/** The issuer page's coverage sentences and figures (page/verificationCoverage.ts), without a browser. */
import { describe, expect, it } from "vitest";
import { chanceText, coverageView } from "../../page/verificationCoverage.js";

const entry = (leafCount: string, checked: string) => ({
  id: `lg_${"0f".repeat(16)}`,
  asOf: "1764748800",
  leafCount,
  checked,
  attested: { from: "1", to: "3" },
});

describe("verification coverage on the page", () => {
  it("writes chances so they compare at a glance", () => {
    expect(chanceText(1)).toBe("100 %");
    expect(chanceText(0.9995)).toBe("over 99.9 %");
    expect(chanceText(0.31610174164075383)).toBe("31.6 %");
    expect(chanceText(0.0452)).toBe("4.52 %");
    expect(chanceText(0.001)).toBe("0.1 %");
    expect(chanceText(2.2e-5)).toBe("1 in 45,000");
    expect(chanceText(1e-12)).toBe("less than 1 in a billion");
    expect(chanceText(0)).toBe("less than 1 in a billion");
    expect(() => chanceText(Number.NaN)).toThrow(/not a probability/);
  });

  it("says how many looked and what a 1 % omission would risk", () => {
    const view = coverageView(entry("1000", "100"));
    expect(view.sentence).toBe("100 of the 1,000 users in this ledger fetched the proof of their balance.");
    expect(view.implication).toBe(
      "If the issuer had left 1 % of its users out (11 users), the chance that none of these 100 was among them, so that nobody noticed, would be 31.6 %.",
    );
    expect(view.rows).toEqual([
      { share: "0.1 %", omitted: "2", chance: "81 %", bound: "90.5 %" },
      { share: "1 %", omitted: "11", chance: "31.6 %", bound: "36.6 %" },
      { share: "5 %", omitted: "53", chance: "0.438 %", bound: "0.592 %" },
    ]);
  });

  it("says plainly when nobody has looked yet", () => {
    const view = coverageView(entry("40", "0"));
    expect(view.sentence).toBe("Nobody has fetched the proof of their balance from this ledger of 40 users yet.");
    expect(view.implication).toMatch(/no check would have shown it yet/);
    expect(view.rows.map((r) => r.chance)).toEqual(["100 %", "100 %", "100 %"]);
  });

  it("refuses counts that cannot be, naming them", () => {
    expect(() => coverageView(entry("40", "41"))).toThrow(/41 users checked a ledger of 40/);
    expect(() => coverageView(entry("40", "-1"))).toThrow(/checked "-1" is not a count/);
    expect(() => coverageView(entry("4e3", "1"))).toThrow(/leafCount "4e3" is not a count/);
  });
});
